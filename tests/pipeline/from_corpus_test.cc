// `from_corpus` of the sft and dpo stages: chats (sft) and preference pairs (dpo) made from the
// curate stage's documents are written into the stage folder and trained on, the summary and
// report carry their counts and the curves, and misuse (no corpus stage before it, data given
// too, nothing usable) is a usage error naming the stage.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "pipeline/pipeline.h"
#include "train/sft_fixture.h"

using namespace nlm;
using namespace nlm::testing;
namespace fs = std::filesystem;

namespace {

std::string sft_yaml(const TempDir& dir, const std::string& stages) {
  return "work_dir: " + dir.file("work") + "\ninputs: [" + dir.file("in.txt") +
         "]\nread: {format: text, text_mode: line}\nstages:\n" + stages;
}

std::string sft_stage(const TempDir& dir, const std::string& extra) {
  return "  sft:\n    model: " + dir.file("base") +
         "\n    steps: 2\n    max_length: 64\n    batch_size: 2\n    log_every: 0\n    eval_fraction: 0.2\n" + extra;
}

TEST(Build, SftFromCorpusTrainsOnPairsOfTheCuratedDocuments) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  std::string lines;
  for (const auto& l : irish_lines()) lines += l + "\n";
  write_text(dir.file("in.txt"), lines);
  write_text(dir.file("p.yaml"),
             sft_yaml(dir, "  curate:\n    steps: [normalize]\n" +
                               sft_stage(dir, "    from_corpus: {instruction: \"Críochnaigh:\", min_words: 5}\n")));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 2);

  // Six of the eight lines have at least five words.
  std::istringstream pairs(read_text(dir.file("work/sft/from_corpus.jsonl")));
  std::vector<nlohmann::json> recs;
  for (std::string line; std::getline(pairs, line);) recs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs[0]["messages"][0]["content"], "Críochnaigh: Dia duit, conas");
  EXPECT_EQ(recs[0]["messages"][1]["content"], "atá tú inniu?");

  auto report = nlohmann::json::parse(read_text(r.report_json));
  nlohmann::json s = report["stages"][1]["summary"];
  EXPECT_EQ(s["from_corpus"]["documents"], 8);
  EXPECT_EQ(s["from_corpus"]["pairs"], 6);
  EXPECT_EQ(s["from_corpus"]["too_short"], 2);
  EXPECT_EQ(s["from_corpus"]["source_stage"], "curate");
  EXPECT_EQ(s["records"], 6);
  EXPECT_EQ(s["eval_examples"], 1);
  EXPECT_EQ(s["curves"]["train loss"].size(), 2u);
  EXPECT_EQ(s["curves"]["eval loss"].size(), 1u);
  // The from_corpus keys are part of the stage's options (and fingerprint).
  auto state = nlohmann::json::parse(read_text(dir.file("work/sft/stage.json")));
  EXPECT_EQ(state["options"]["from_corpus"]["instruction"], "Críochnaigh:");
  EXPECT_EQ(state["options"]["from_corpus"]["min_words"], 5);
  auto cfg = nlohmann::json::parse(read_text(dir.file("work/sft/model/tokenizer_config.json")));
  EXPECT_EQ(cfg["chat_template"], kChatml);
  std::string html = read_text(r.report_html);
  EXPECT_NE(html.find("<h2>sft</h2>"), std::string::npos);
  EXPECT_NE(html.find("from_corpus.pairs"), std::string::npos);

  // Unchanged: skipped. Another instruction: the stage reruns.
  EXPECT_EQ(pipeline::run_build(spec, {}).ran, 0);
  write_text(dir.file("p.yaml"),
             sft_yaml(dir, "  curate:\n    steps: [normalize]\n" +
                               sft_stage(dir, "    from_corpus: {instruction: \"Lean ar aghaidh:\", min_words: 5}\n")));
  auto spec2 = pipeline::load_pipeline(dir.file("p.yaml"));
  EXPECT_EQ(pipeline::run_build(spec2, {}).ran, 1);
}

TEST(Build, DpoFromCorpusPrefersEachDocumentsOwnEnding) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  std::string lines;
  for (const auto& l : irish_lines()) lines += l + "\n";
  write_text(dir.file("in.txt"), lines);
  write_text(dir.file("p.yaml"),
             sft_yaml(dir, "  curate:\n    steps: [normalize]\n" + sft_stage(dir, "    from_corpus: {min_words: 5}\n") +
                               "  dpo:\n    from_corpus: {min_words: 5}\n    steps: 2\n    max_length: 64\n"
                               "    batch_size: 2\n    log_every: 0\n    eval_fraction: 0.2\n"));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 3);
  std::istringstream pairs(read_text(dir.file("work/dpo/from_corpus.jsonl")));
  std::vector<nlohmann::json> recs;
  for (std::string line; std::getline(pairs, line);) recs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(recs.size(), 3u);  // six usable lines, two per pair
  EXPECT_EQ(recs[0]["prompt"][0]["content"], "Continue the text: Dia duit, conas");
  EXPECT_EQ(recs[0]["chosen"][0]["content"], "atá tú inniu?");
  EXPECT_EQ(recs[0]["rejected"][0]["content"], "hálainn ar maidin.");  // the next line's ending
  auto report = nlohmann::json::parse(read_text(r.report_json));
  nlohmann::json s = report["stages"][2]["summary"];
  EXPECT_EQ(s["from_corpus"]["pairs"], 3);
  EXPECT_EQ(s["records"], 3);
  EXPECT_EQ(s["eval_pairs"], 1);
  EXPECT_EQ(s["charts"][1]["curves"]["train"].size(), 2u);  // reward accuracy
  EXPECT_TRUE(fs::exists(dir.file("work/dpo/model/config.json")));
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Build, FromCorpusMisuseIsAUsageErrorNamingTheStage) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  write_text(dir.file("in.txt"), "Tá an aimsir go hálainn ar maidin.\n");
  write_text(dir.file("chat.jsonl"), chat_record("Dia duit", kIrishAnswer) + "\n");

  // No curate or dedup stage: the raw inputs are not a corpus of this pipeline. (`from_corpus:`
  // with no value takes the defaults.)
  write_text(dir.file("p.yaml"), sft_yaml(dir, sft_stage(dir, "    from_corpus:\n")));
  std::string e = error_of([&] {
    auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
    pipeline::run_build(spec, {});
  });
  EXPECT_NE(e.find("the sft stage's from_corpus has no curated documents"), std::string::npos) << e;
  EXPECT_NE(e.find("add a curate or dedup stage"), std::string::npos) << e;

  // data and from_corpus together.
  write_text(dir.file("q.yaml"),
             sft_yaml(dir, sft_stage(dir, "    from_corpus:\n    data: [" + dir.file("chat.jsonl") + "]\n")));
  e = error_of([&] { pipeline::load_pipeline(dir.file("q.yaml")); });
  EXPECT_NE(e.find("sft.from_corpus and data are both given"), std::string::npos) << e;

  // A misspelt key under from_corpus, and a bad value.
  write_text(dir.file("r.yaml"), sft_yaml(dir, sft_stage(dir, "    from_corpus: {instructions: x}\n")));
  e = error_of([&] { pipeline::load_pipeline(dir.file("r.yaml")); });
  EXPECT_NE(e.find("unknown key 'sft.from_corpus.instructions'"), std::string::npos) << e;
  write_text(dir.file("s.yaml"), sft_yaml(dir, sft_stage(dir, "    from_corpus: {prompt_fraction: 2}\n")));
  e = error_of([&] { pipeline::load_pipeline(dir.file("s.yaml")); });
  EXPECT_NE(e.find("sft.from_corpus.prompt_fraction must be between"), std::string::npos) << e;

  // dpo's from_corpus without a corpus stage names the dpo stage.
  write_text(dir.file("u.yaml"), sft_yaml(dir, "  dpo:\n    model: " + dir.file("base") + "\n    from_corpus:\n"));
  e = error_of([&] {
    auto spec = pipeline::load_pipeline(dir.file("u.yaml"));
    pipeline::run_build(spec, {});
  });
  EXPECT_NE(e.find("the dpo stage's from_corpus has no curated documents"), std::string::npos) << e;

  // Every document too short: no pairs, said so.
  write_text(dir.file("t.yaml"), sft_yaml(dir, "  curate:\n    steps: [normalize]\n" +
                                                   sft_stage(dir, "    from_corpus: {min_words: 50}\n")));
  e = error_of([&] {
    auto spec = pipeline::load_pipeline(dir.file("t.yaml"));
    pipeline::run_build(spec, {});
  });
  EXPECT_NE(e.find("the sft stage's from_corpus made no chats from 1 documents"), std::string::npos) << e;
}

}  // namespace
