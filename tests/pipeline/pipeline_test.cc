// `nativelm build`: a small pipeline end to end, make-like reruns (nothing changed → no work;
// a changed option reruns that stage and what follows), a build killed mid-stage that a rerun
// completes with the same output, --from/--until/--dry-run, and malformed pipeline files that
// name the key and the line.
#include <gtest/gtest.h>

#include <set>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/hash.h"
#include "corpus/reader.h"
#include "pipeline/pipeline.h"
#include "test_util.h"

using namespace nlm;
using nlm::testing::run_nativelm;
using nlm::testing::TempDir;
using nlm::testing::write_text;
namespace fs = std::filesystem;

namespace {

// Multilingual documents with planted exact and near duplicates and a few junk records.
void make_corpus(const std::string& path, int docs) {
  std::string out;
  const char* words[] = {"teanga", "daoine", "scoil", "leabhar", "baile", "obair", "ceol", "oíche",
                         "bóthar", "uisce", "talamh", "focal", "scéal", "cara", "aimsir", "farraige"};
  uint64_t x = 42;
  auto rnd = [&] { return x = x * 6364136223846793005ull + 1442695040888963407ull, x >> 33; };
  for (int i = 0; i < docs; ++i) {
    std::string text;
    for (int s = 0; s < 8; ++s) {
      for (int w = 0; w < 12; ++w) text += std::string(words[rnd() % 16]) + " ";
      text += "agus an " + std::to_string(rnd() % 1000) + ".\n";
    }
    out += "{\"id\":\"d" + std::to_string(i) + "\",\"text\":" + nlohmann::json(text).dump() + "}\n";
    if (i % 10 == 0) out += "{\"id\":\"copy" + std::to_string(i) + "\",\"text\":" + nlohmann::json(text).dump() + "}\n";
  }
  out += "{broken json\n";
  write_text(path, out);
}

std::string pipeline_yaml(const std::string& work, const std::string& input, int ngram = 5) {
  return "name: test-build\n"
         "work_dir: " + work + "\n"
         "inputs: [" + input + "]\n"
         "stages:\n"
         "  curate:\n"
         "    steps: [normalize, gopher_repetition]\n"
         "  dedup:\n"
         "    ngram: " + std::to_string(ngram) + "\n"
         "    jaccard_check: true\n";
}

std::string folder_hash(const std::string& dir) {
  std::string all;
  std::vector<std::string> files;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().rfind("part-", 0) == 0) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (auto& f : files) all += fs::path(f).filename().string() + ":" + hash_file_hex(f) + "\n";
  return all;
}

TEST(Build, RunsEndToEndAndRerunsOnlyWhatChanged) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 300);
  write_text(dir.file("p.yaml"), pipeline_yaml(dir.file("work"), dir.file("in.jsonl")));

  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r1 = pipeline::run_build(spec, {});
  EXPECT_EQ(r1.ran, 2);
  ASSERT_TRUE(fs::exists(r1.report_html));
  std::string html = nlm::testing::read_text(r1.report_html);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Curation funnel"), std::string::npos);
  EXPECT_NE(html.find("Duplicate clusters"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // Nothing is fetched at view time: no external scripts, stylesheets, images or fonts.
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  auto report = nlohmann::json::parse(nlm::testing::read_text(r1.report_json));
  ASSERT_EQ(report["stages"].size(), 2u);
  EXPECT_EQ(report["stages"][1]["stage"], "dedup");
  EXPECT_GE(report["stages"][1]["summary"]["removed"]["exact"]["documents"].get<int>(), 30);
  std::string out1 = folder_hash(dir.file("work/dedup"));

  // Nothing changed: nothing runs.
  auto spec2 = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r2 = pipeline::run_build(spec2, {});
  EXPECT_EQ(r2.ran, 0);
  EXPECT_EQ(r2.skipped, 2);

  // A dedup option changed: curate is reused, dedup reruns.
  write_text(dir.file("p.yaml"), pipeline_yaml(dir.file("work"), dir.file("in.jsonl"), 4));
  auto spec3 = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r3 = pipeline::run_build(spec3, {});
  ASSERT_EQ(r3.plan.size(), 2u);
  EXPECT_EQ(r3.plan[0].action, pipeline::StagePlan::Action::Skip);
  EXPECT_EQ(r3.plan[1].action, pipeline::StagePlan::Action::Run);
  EXPECT_EQ(r3.plan[1].why, "its inputs or options changed");

  // Back to the first options: dedup reruns and gives the same bytes as the first build.
  write_text(dir.file("p.yaml"), pipeline_yaml(dir.file("work"), dir.file("in.jsonl")));
  auto spec4 = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r4 = pipeline::run_build(spec4, {});
  EXPECT_EQ(r4.ran, 1);
  EXPECT_EQ(folder_hash(dir.file("work/dedup")), out1);

  // A changed input file reruns everything.
  make_corpus(dir.file("in.jsonl"), 301);
  auto spec5 = pipeline::load_pipeline(dir.file("p.yaml"));
  EXPECT_EQ(pipeline::run_build(spec5, {}).ran, 2);
}

TEST(Build, DryRunFromAndUntil) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 50);
  write_text(dir.file("p.yaml"), pipeline_yaml(dir.file("work"), dir.file("in.jsonl")));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  pipeline::BuildOptions dry;
  dry.dry_run = true;
  auto plan = pipeline::run_build(spec, dry);
  EXPECT_EQ(plan.plan.size(), 2u);
  EXPECT_EQ(plan.plan[0].why, "not run before");
  EXPECT_FALSE(fs::exists(dir.file("work")));

  // --from dedup before curate ever ran is a usage error.
  pipeline::BuildOptions from;
  from.from = "dedup";
  EXPECT_THROW(pipeline::run_build(spec, from), Error);

  pipeline::BuildOptions until;
  until.until = "curate";
  auto r = pipeline::run_build(spec, until);
  EXPECT_EQ(r.ran, 1);
  EXPECT_EQ(r.plan[1].action, pipeline::StagePlan::Action::OutOfRange);
  EXPECT_FALSE(fs::exists(dir.file("work/dedup/stage.json")));
  auto r2 = pipeline::run_build(spec, from);
  EXPECT_EQ(r2.ran, 1);
  EXPECT_TRUE(fs::exists(dir.file("work/dedup/stage.json")));

  pipeline::BuildOptions bad;
  bad.from = "train";
  EXPECT_THROW(pipeline::run_build(spec, bad), Error);
}

TEST(Build, KilledBuildCompletesOnRerunWithSameOutput) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 6000);
  write_text(dir.file("clean.yaml"), pipeline_yaml(dir.file("clean"), dir.file("in.jsonl")));
  write_text(dir.file("killed.yaml"), pipeline_yaml(dir.file("killed"), dir.file("in.jsonl")));
  auto clean = pipeline::load_pipeline(dir.file("clean.yaml"));
  pipeline::run_build(clean, {});

  // Kill the build at growing delays until a kill lands before the last stage has finished.
  bool interrupted = false;
  for (int delay_ms : {150, 300, 600, 1200, 2400}) {
    fs::remove_all(dir.file("killed"));
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl(NATIVELM_BIN, NATIVELM_BIN, "-q", "build", dir.file("killed.yaml").c_str(), (char*)nullptr);
      _exit(127);
    }
    usleep(delay_ms * 1000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status) && !fs::exists(dir.file("killed/dedup/stage.json"))) {
      interrupted = true;
      break;
    }
  }
  ASSERT_TRUE(interrupted) << "could not interrupt the build";
  auto rerun = pipeline::load_pipeline(dir.file("killed.yaml"));
  auto r = pipeline::run_build(rerun, {});
  EXPECT_GE(r.ran, 1);
  EXPECT_EQ(folder_hash(dir.file("killed/dedup")), folder_hash(dir.file("clean/dedup")));
  EXPECT_EQ(folder_hash(dir.file("killed/curate")), folder_hash(dir.file("clean/curate")));
}

// Kills in the two windows around stage.json. Before it (dedup has published its folder): the
// rerun finds dedup up to date and reports the published run's figures, not a blank run's.
// After it (the marker not yet removed): the rerun skips the stage and removes the marker.
TEST(Build, KilledAroundStageJsonReportsTheSameAndLeavesNoMarker) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 200);
  write_text(dir.file("p.yaml"), pipeline_yaml(dir.file("work"), dir.file("in.jsonl")));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  pipeline::run_build(spec, {});
  auto before = nlohmann::json::parse(nlm::testing::read_text(dir.file("work/dedup/stage.json")));
  ASSERT_GT(before["summary"]["documents_in"].get<int>(), 0);
  write_text(dir.file("work/dedup/.pending-fingerprint"), before["fingerprint"].get<std::string>());
  fs::remove(dir.file("work/dedup/stage.json"));
  write_text(dir.file("work/curate/.pending-fingerprint"), "left by a kill");
  auto r = pipeline::run_build(spec, {});
  EXPECT_EQ(r.ran, 1);
  auto after = nlohmann::json::parse(nlm::testing::read_text(dir.file("work/dedup/stage.json")));
  for (const char* key : {"documents_in", "documents_out", "clusters", "cluster_sizes", "largest_clusters"})
    EXPECT_EQ(after["summary"][key], before["summary"][key]) << key;
  EXPECT_FALSE(fs::exists(dir.file("work/curate/.pending-fingerprint")));
  EXPECT_FALSE(fs::exists(dir.file("work/dedup/.pending-fingerprint")));
}

void expect_error(const std::string& yaml, const std::string& fragment, const std::string& line) {
  try {
    pipeline::parse_pipeline(yaml, "p.yaml");
    FAIL() << "expected an error for:\n" << yaml;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("p.yaml:" + line), std::string::npos) << e.what();
  }
}

TEST(Build, MalformedPipelineNamesKeyAndLine) {
  std::string head = "work_dir: w\ninputs: [x]\n";
  expect_error(head + "stages:\n  dedup:\n    bands: many\n", "dedup.bands must be an integer", "5");
  expect_error(head + "stages:\n  dedup:\n    jacard_check: true\n", "unknown key 'dedup.jacard_check'", "5");
  expect_error(head + "stages:\n  pretrain: {}\n", "unknown stage 'pretrain'", "4");
  // Found by fuzz/fuzz_pipeline_yaml: a stage key that is no scalar escaped as a yaml-cpp
  // exception (fuzz/findings/fuzz_pipeline_yaml/pipeline_stage_key_null.yaml).
  expect_error(head + "stages:\n ? :\n", "a stage name must be a word", "4");
  expect_error(head + "stages:\n  [curate]: {}\n", "a stage name must be a word", "4");
  expect_error(head + "stages: {}\n", "stages is empty", "3");
  expect_error(head + "colour: blue\nstages:\n  dedup: {}\n", "unknown key 'colour'", "3");
  expect_error("inputs: [x]\nstages:\n  dedup: {}\n", "work_dir is required", "1");
  expect_error(head + "stages:\n  dedup:\n    jaccard_check: maybe\n", "must be true or false", "5");
  expect_error(head + "stages: [curate, dedup\n", "invalid YAML", "");
  expect_error(head + "read:\n  text_mode: sentences\nstages:\n  dedup: {}\n", "read.text_mode must be one of line|paragraph|file", "4");
}

TEST(Build, CliReportsPlanAndErrors) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 20);
  write_text(dir.file("p.yaml"), pipeline_yaml(dir.file("work"), dir.file("in.jsonl")));
  auto r = run_nativelm("build --dry-run " + dir.file("p.yaml"), dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("would run"), std::string::npos) << r.out;
  write_text(dir.file("bad.yaml"), "work_dir: w\ninputs: [x]\nstages:\n  dedup:\n    rows: -\n");
  r = run_nativelm("build " + dir.file("bad.yaml"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:5"), std::string::npos) << r.err;
}

}  // namespace

namespace {

TEST(Build, TokenizerStagesFollowTheDocuments) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 200);
  auto yaml = [&](int vocab) {
    return pipeline_yaml(dir.file("work"), dir.file("in.jsonl")) +
           "  tokenizer:\n    vocab_size: " + std::to_string(vocab) +
           "\n    special_tokens: [\"<|end_of_text|>\"]\n"
           "  tokenize:\n    val_fraction: 0.1\n";
  };
  write_text(dir.file("p.yaml"), yaml(400));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  EXPECT_EQ(r.ran, 4);
  EXPECT_TRUE(fs::exists(dir.file("work/tokenizer/tokenizer.json")));
  auto report = nlohmann::json::parse(nlm::testing::read_text(r.report_json));
  auto tok = report["stages"][3]["summary"];
  EXPECT_GT(tok["train_tokens"].get<double>(), 1000);
  EXPECT_GT(tok["val_documents"].get<double>(), 0);
  EXPECT_GT(tok["bytes_per_token"].get<double>(), 1.5);
  auto fert = report["stages"][2]["summary"]["fertility"];
  ASSERT_TRUE(fert.is_object() && !fert.empty()) << report["stages"][2]["summary"].dump();
  auto row = fert.begin().value();
  EXPECT_GT(row["fertility"].get<double>(), 0.9);
  EXPECT_LT(row["fertility"].get<double>(), 10.0);

  // A tokenizer option changed: curate and dedup are reused, tokenizer and tokenize rerun.
  write_text(dir.file("p.yaml"), yaml(500));
  auto spec2 = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r2 = pipeline::run_build(spec2, {});
  ASSERT_EQ(r2.plan.size(), 4u);
  EXPECT_EQ(r2.plan[0].action, pipeline::StagePlan::Action::Skip);
  EXPECT_EQ(r2.plan[1].action, pipeline::StagePlan::Action::Skip);
  EXPECT_EQ(r2.plan[2].action, pipeline::StagePlan::Action::Run);
  EXPECT_EQ(r2.plan[3].action, pipeline::StagePlan::Action::Run);
  auto report2 = nlohmann::json::parse(nlm::testing::read_text(r2.report_json));
  // A larger vocabulary compresses better.
  EXPECT_GT(report2["stages"][3]["summary"]["bytes_per_token"].get<double>(), tok["bytes_per_token"].get<double>());
}

}  // namespace

namespace {

std::string full_pipeline(const std::string& work, const std::string& input, int steps) {
  return pipeline_yaml(work, input) +
         "  tokenizer:\n    vocab_size: 400\n    special_tokens: [\"<|begin_of_text|>\", \"<|end_of_text|>\"]\n"
         "  tokenize:\n    val_fraction: 0.1\n"
         "  train:\n"
         "    model: {hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2,\n"
         "            num_key_value_heads: 1, max_position_embeddings: 64}\n"
         "    batch_size: 2\n    seq_len: 32\n    steps: " + std::to_string(steps) + "\n"
         "    eval_every: 5\n    eval_batches: 2\n    checkpoint_every: 5\n    log_every: 5\n"
         "    schedule: {type: constant, lr: 0.003, warmup_steps: 0}\n"
         "  eval:\n    max_docs: 20\n    samples: [\"scoil agus\"]\n    max_new_tokens: 8\n";
}

// Each (stage mapping, wanted text): appended to a tiny pipeline, loading it is an error saying it.
void expect_load_errors(TempDir& dir, const std::vector<std::pair<std::string, std::string>>& cases) {
  for (const auto& [bad, wanted] : cases) {
    write_text(dir.file("bad.yaml"), full_pipeline(dir.file("work2"), dir.file("in.jsonl"), 6) + bad);
    try {
      pipeline::load_pipeline(dir.file("bad.yaml"));
      ADD_FAILURE() << "no error for " << bad;
    } catch (const nlm::Error& err) {
      EXPECT_NE(std::string(err.what()).find(wanted), std::string::npos) << err.what();
    }
  }
}

// The deployment stages: quantize writes each format beside the model and measures it, export
// writes GGUF files, the report has one formats table, a rerun runs nothing, and bad keys are
// errors when the file is loaded.
TEST(Build, QuantizeAndExportStagesFillTheFormatsTable) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 200);
  std::string yaml = full_pipeline(dir.file("work"), dir.file("in.jsonl"), 6) +
                     "  quantize:\n    formats: [int8, fp8]\n    bench_tokens: 4\n    seq_len: 32\n"
                     "  export:\n    gguf: [q8_0, f16]\n";
  write_text(dir.file("p.yaml"), yaml);
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 8);
  for (const char* f : {"work/quantize/int8/model.safetensors", "work/quantize/fp8/model.safetensors",
                        "work/export/model-q8_0.gguf", "work/export/model-f16.gguf"})
    EXPECT_TRUE(fs::exists(dir.file(f))) << f;
  auto report = nlohmann::json::parse(nlm::testing::read_text(r.report_json));
  auto q = report["stages"][6]["summary"]["formats"];
  ASSERT_EQ(q.size(), 3u) << q.dump();  // f32, int8, fp8
  EXPECT_EQ(q[1]["format"], "int8");
  EXPECT_LT(q[1]["bytes"].get<double>(), q[0]["bytes"].get<double>());
  EXPECT_GT(q[1]["bits_per_byte"].get<double>(), 0);
  EXPECT_GT(q[1]["tokens_per_second"].get<double>(), 0);
  auto e = report["stages"][7]["summary"];
  ASSERT_EQ(e["formats"].size(), 2u);
  EXPECT_EQ(e["formats"][0]["format"], "gguf q8_0");
  EXPECT_EQ(e["formats"][0]["bytes"].get<uint64_t>(), fs::file_size(dir.file("work/export/model-q8_0.gguf")));
  std::string html = nlm::testing::read_text(dir.file("work/report.html"));
  EXPECT_NE(html.find("<h2>Formats</h2>"), std::string::npos);
  EXPECT_NE(html.find("gguf q8_0"), std::string::npos);
  auto spec2 = pipeline::load_pipeline(dir.file("p.yaml"));
  auto again = pipeline::run_build(spec2, {});
  EXPECT_EQ(again.ran, 0);
  expect_load_errors(dir, {{"  quantize:\n    formats: [int3]\n", "quantize.formats has 'int3'"},
                           {"  export:\n    gguf: [q3_k]\n", "q3_k"},
                           {"  export:\n    gguf: []\n", "export.gguf is empty"}});
}

// Minitron's path in a pipeline: prune cuts the trained model's FFN in half and hands the cut
// model on, distill trains it against the model it was cut from, and eval measures the student.
TEST(Build, PruneThenDistillStages) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 200);
  std::string yaml = full_pipeline(dir.file("work"), dir.file("in.jsonl"), 6) +
                     "  prune:\n    ffn_size: 32\n    seq_len: 32\n"
                     "  distill:\n    steps: 4\n    batch_size: 2\n    seq_len: 32\n    eval_every: 0\n"
                     "    eval_batches: 1\n    log_every: 1\n    top_k: 8\n";
  write_text(dir.file("p.yaml"), yaml);
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 8);
  auto config = nlohmann::json::parse(nlm::testing::read_text(dir.file("work/distill/model/config.json")));
  EXPECT_EQ(config["intermediate_size"], 32);
  auto report = nlohmann::json::parse(nlm::testing::read_text(r.report_json));
  auto prune = report["stages"][5]["summary"];
  EXPECT_LT(prune["parameters_after"].get<int64_t>(), prune["parameters_before"].get<int64_t>());
  auto distill = report["stages"][6]["summary"];
  EXPECT_EQ(distill["steps"], 4);
  EXPECT_EQ(distill["teacher"], dir.file("work/train/model"));
  EXPECT_GE(distill["final_eval_kl"].get<double>(), 0.0);
  EXPECT_EQ(report["stages"][7]["stage"], "eval");
  // A prune stage that removes nothing, and a distill stage given its data, are load errors.
  expect_load_errors(dir, {{"  prune:\n    seq_len: 32\n", "the prune stage removes nothing"},
                           {"  distill:\n    data: [x.tok]\n", "distill.data is set by the pipeline"}});
}

TEST(Build, TrainAndEvalStagesAndTrainingOptionChange) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 200);
  write_text(dir.file("p.yaml"), full_pipeline(dir.file("work"), dir.file("in.jsonl"), 10));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 6);
  EXPECT_TRUE(fs::exists(dir.file("work/train/model/model.safetensors")));
  EXPECT_TRUE(fs::exists(dir.file("work/train/model/tokenizer.json")));
  auto report = nlohmann::json::parse(nlm::testing::read_text(r.report_json));
  auto train = report["stages"][4]["summary"];
  EXPECT_EQ(train["steps"], 10);
  EXPECT_EQ(train["curves"]["train loss"].size(), 10u);  // metrics.jsonl has every step
  EXPECT_GE(train["curves"]["eval loss"].size(), 2u);
  auto eval = report["stages"][5]["summary"];
  EXPECT_GT(eval["bits_per_byte"].get<double>(), 0.0);
  EXPECT_LT(eval["bits_per_byte"].get<double>(), 20.0);
  ASSERT_EQ(eval["samples"].size(), 1u);
  EXPECT_EQ(eval["samples"][0]["prompt"], "scoil agus");
  std::string html = nlm::testing::read_text(r.report_html);
  EXPECT_NE(html.find("Loss curves"), std::string::npos);
  EXPECT_NE(html.find("Sample generations"), std::string::npos);

  // Killed after the last checkpoint, before model/ and stage.json: the resumed stage has no step
  // left to run, writes the model and reports the uninterrupted run's figures.
  auto before = nlohmann::json::parse(nlm::testing::read_text(dir.file("work/train/stage.json")));
  write_text(dir.file("work/train/.pending-fingerprint"), before["fingerprint"].get<std::string>());
  fs::remove(dir.file("work/train/stage.json"));
  fs::remove_all(dir.file("work/train/model"));
  auto resumed = pipeline::run_build(spec, {});
  EXPECT_EQ(resumed.ran, 1);
  EXPECT_TRUE(fs::exists(dir.file("work/train/model/model.safetensors")));
  auto after = nlohmann::json::parse(nlm::testing::read_text(dir.file("work/train/stage.json")));
  for (const char* key : {"steps", "final_train_loss", "final_eval_loss", "final_eval_bits_per_byte", "curves"})
    EXPECT_EQ(after["summary"][key], before["summary"][key]) << key;

  // The model answers `nativelm generate`.
  auto g = run_nativelm("generate -m " + dir.file("work/train/model") + " --max-tokens 5 --seed 3 \"scoil\"", dir.path());
  EXPECT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out.rfind("scoil", 0), 0u) << g.out;

  // A training option changed: only train and eval rerun.
  write_text(dir.file("p.yaml"), full_pipeline(dir.file("work"), dir.file("in.jsonl"), 12));
  auto spec2 = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r2 = pipeline::run_build(spec2, {});
  ASSERT_EQ(r2.plan.size(), 6u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r2.plan[i].action, pipeline::StagePlan::Action::Skip) << r2.plan[i].name;
  EXPECT_EQ(r2.plan[4].action, pipeline::StagePlan::Action::Run);
  EXPECT_EQ(r2.plan[5].action, pipeline::StagePlan::Action::Run);
  EXPECT_EQ(r2.ran, 2);
}

// The eval stage scores task files at each few-shot count: leaderboard rows in the summary, a
// "Task scores" table in the report, lm-eval's results.json per count, and an edited task file
// reruns the eval stage alone.
TEST(Build, EvalStageRunsTasksSideBySide) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 120);
  std::string rows;
  const char* starts[] = {"Is fearr", "Ní neart", "Tús maith", "Ar scáth"};
  const char* ends[] = {"go mall ná go brách", "go cur le chéile", "leath na hoibre", "a chéile a mhaireann na daoine"};
  for (int i = 0; i < 4; ++i) {
    nlohmann::json d = {{"q", starts[i]}, {"choices", {ends[i], ends[(i + 1) % 4], ends[(i + 2) % 4]}}, {"gold", 0}};
    rows += d.dump() + "\n";
  }
  write_text(dir.file("proverbs.jsonl"), rows);
  write_text(dir.file("proverbs.yaml"), "task: proverbs_ga\noutput_type: multiple_choice\ndataset_path: proverbs.jsonl\n"
                                        "test_split: test\ndoc_to_text: '{{q}}'\ndoc_to_choice: '{{choices}}'\n"
                                        "doc_to_target: gold\n");
  std::string yaml = full_pipeline(dir.file("work"), dir.file("in.jsonl"), 3) + "    tasks: [" +
                     dir.file("proverbs.yaml") + "]\n    task_shots: [0, 1]\n";
  write_text(dir.file("p.yaml"), yaml);
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  auto report = nlohmann::json::parse(nlm::testing::read_text(r.report_json));
  nlohmann::json eval = report["stages"][5]["summary"];
  ASSERT_TRUE(eval.contains("leaderboard")) << eval.dump();
  EXPECT_FALSE(eval.contains("task_results"));
  std::set<std::pair<std::string, int>> seen;
  for (const nlohmann::json& line : eval["leaderboard"]) {
    EXPECT_EQ(line["task"], "proverbs_ga");
    EXPECT_EQ(line["docs"], 4);
    const double v = line["value"].get<double>();
    EXPECT_TRUE(v >= 0 && v <= 1) << line.dump();
    seen.insert({line["metric"].get<std::string>(), line["n_shot"].get<int>()});
  }
  EXPECT_EQ(seen, (std::set<std::pair<std::string, int>>{{"acc,none", 0}, {"acc,none", 1}, {"acc_norm,none", 0},
                                                         {"acc_norm,none", 1}}));
  for (const char* f : {"work/eval/results_0shot.json", "work/eval/results_1shot.json"}) {
    auto res = nlohmann::json::parse(nlm::testing::read_text(dir.file(f)));
    EXPECT_TRUE(res["results"]["proverbs_ga"].contains("acc,none")) << f;
  }
  EXPECT_EQ(nlohmann::json::parse(nlm::testing::read_text(dir.file("work/eval/results_1shot.json")))["n-shot"]
                                                                                                   ["proverbs_ga"],
            1);
  std::string html = nlm::testing::read_text(r.report_html);
  EXPECT_NE(html.find("Task scores"), std::string::npos);
  EXPECT_NE(html.find("<th>1-shot</th>"), std::string::npos);
  // An edited dataset reruns the eval stage only.
  write_text(dir.file("proverbs.jsonl"), rows + nlohmann::json({{"q", "Mol an óige"}, {"choices", {"a", "b"}},
                                                                {"gold", 1}}).dump() + "\n");
  auto spec2 = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r2 = pipeline::run_build(spec2, {});
  EXPECT_EQ(r2.ran, 1);
  EXPECT_EQ(r2.plan[5].action, pipeline::StagePlan::Action::Run);
  // A bad few-shot count is named.
  EXPECT_THROW(pipeline::parse_pipeline(yaml + "    task_limit: -1\n", "p.yaml"), Error);
  try {
    pipeline::parse_pipeline(full_pipeline("w", "x", 3) + "    task_shots: [zero]\n", "p.yaml");
    ADD_FAILURE() << "accepted task_shots: [zero]";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("task_shots"), std::string::npos) << e.what();
  }
}

TEST(Build, TrainStageErrorsPointAtThePipelineFile) {
  std::string head = "work_dir: w\ninputs: [x]\nstages:\n";
  try {
    pipeline::parse_pipeline(head + "  train:\n    steps: lots\n", "p.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("steps"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("p.yaml"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("nativelm-train-"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pipeline::parse_pipeline(head + "  train:\n    data: {train: [x]}\n", "p.yaml"), Error);
  EXPECT_THROW(pipeline::parse_pipeline(head + "  eval:\n    max_new_tokens: 0\n", "p.yaml"), Error);
}

}  // namespace

namespace {

TEST(Build, ContinuedPretrainingWithTokenizerExtension) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"), 150);
  std::string tiny_train =
      "  train:\n"
      "    model: {hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2,\n"
      "            num_key_value_heads: 1, max_position_embeddings: 64}\n"
      "    batch_size: 2\n    seq_len: 32\n    steps: 3\n    eval_every: 0\n    checkpoint_every: 0\n";
  // A base model and tokenizer, trained from scratch.
  write_text(dir.file("base.yaml"), "work_dir: " + dir.file("base") + "\ninputs: [" + dir.file("in.jsonl") +
                                        "]\nstages:\n  tokenizer:\n    vocab_size: 300\n"
                                        "    special_tokens: [\"<|begin_of_text|>\", \"<|end_of_text|>\"]\n"
                                        "  tokenize: {}\n" + tiny_train);
  auto base = pipeline::load_pipeline(dir.file("base.yaml"));
  ASSERT_EQ(pipeline::run_build(base, {}).ran, 3);

  // Continue it with 25 new tokens appended to its tokenizer.
  write_text(dir.file("cont.yaml"),
             "work_dir: " + dir.file("cont") + "\ninputs: [" + dir.file("in.jsonl") +
                 "]\nstages:\n  tokenizer:\n    base: " + dir.file("base/tokenizer/tokenizer.json") +
                 "\n    new_tokens: 25\n    min_frequency: 1\n  tokenize: {}\n  train:\n    init_from: " +
                 dir.file("base/train/model") + "\n    batch_size: 2\n    seq_len: 32\n    steps: 2\n"
                 "    eval_every: 0\n    checkpoint_every: 0\n");
  auto cont = pipeline::load_pipeline(dir.file("cont.yaml"));
  auto r = pipeline::run_build(cont, {});
  ASSERT_EQ(r.ran, 3);
  auto report = nlohmann::json::parse(nlm::testing::read_text(r.report_json));
  auto tok = report["stages"][0]["summary"];
  EXPECT_EQ(tok["base_vocab_size"], 300);
  int added = tok["added_tokens"].get<int>();
  EXPECT_GT(added, 0);
  EXPECT_LE(added, 25);
  ASSERT_TRUE(fs::exists(dir.file("cont/tokenizer/new_tokens.json")));
  auto config = nlohmann::json::parse(nlm::testing::read_text(dir.file("cont/train/model/config.json")));
  EXPECT_EQ(config["vocab_size"].get<int>(), 300 + added);
  EXPECT_EQ(report["stages"][2]["summary"]["steps"], 2);

  // Extending and vocab_size together is a usage error.
  EXPECT_THROW(pipeline::parse_pipeline("work_dir: w\ninputs: [x]\nstages:\n  tokenizer:\n    base: t.json\n"
                                        "    vocab_size: 10\n",
                                        "p.yaml"),
               Error);
}

}  // namespace

namespace {

// Every example pipeline in examples/ is a valid pipeline file (its inputs are not needed to parse).
TEST(Build, ExamplePipelinesParse) {
  int n = 0;
  for (auto& e : fs::directory_iterator(std::string(NATIVELM_SOURCE_DIR) + "/examples")) {
    if (e.path().extension() != ".yaml") continue;
    SCOPED_TRACE(e.path().string());
    auto spec = pipeline::load_pipeline(e.path().string());
    EXPECT_GE(spec.stages.size(), 4u);  // synth-chat-basque.yaml: curate, dedup, synth, sft
    ++n;
  }
  EXPECT_GE(n, 3);
}

TEST(Build, WikipediaDumpAndWarcInputs) {
  TempDir dir;
  std::string para = "Is teanga Cheilteach í an Ghaeilge agus labhraítear í in Éirinn go príomha. ";
  std::string wiki =
      "<mediawiki><siteinfo><sitename>Vicipéid</sitename></siteinfo>"
      "<page><title>Gaeilge</title><ns>0</ns><id>1</id><revision><id>5</id><text>"
      "{{Bosca}}'''Gaeilge''' " + para + para + "[[Éire|Éirinn]] [[Catagóir:Teangacha]]</text></revision></page>"
      "<page><title>Teimpléad:Bosca</title><ns>10</ns><id>2</id><revision><id>6</id><text>x</text></revision></page>"
      "</mediawiki>\n";
  write_text(dir.file("gawiki-pages-articles.xml"), wiki);
  std::string html = "<html><head><title>T</title></head><body><nav><a href=\"/\">Baile</a></nav><p>" + para + para +
                     para + "</p></body></html>";
  std::string http = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html;
  std::string warc = "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.ie/a\r\n"
                     "WARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: application/http; msgtype=response\r\n"
                     "Content-Length: " + std::to_string(http.size()) + "\r\n\r\n" + http + "\r\n\r\n";
  write_text(dir.file("crawl.warc"), warc);
  write_text(dir.file("p.yaml"), "work_dir: " + dir.file("work") + "\ninputs: [" + dir.file("gawiki-pages-articles.xml") +
                                     ", " + dir.file("crawl.warc") + "]\nstages:\n  curate:\n    steps: [normalize]\n"
                                     "  dedup: {}\n");
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 2);
  auto report = nlohmann::json::parse(nlm::testing::read_text(r.report_json));
  EXPECT_EQ(report["stages"][0]["summary"]["docs_out"], 2) << report["stages"][0]["summary"].dump();
  std::string all;
  for (auto& e : fs::directory_iterator(dir.file("work/curate/docs")))
    if (e.path().filename().string().rfind("part-", 0) == 0) {
      corpus::DocumentReader rd(e.path().string(), {});
      corpus::Document d;
      while (rd.next(d)) all += d.text + "\n";
    }
  EXPECT_NE(all.find("Gaeilge Is teanga Cheilteach"), std::string::npos) << all;
  EXPECT_EQ(all.find("{{"), std::string::npos) << all;
  EXPECT_EQ(all.find("Catagóir"), std::string::npos) << all;
  EXPECT_EQ(all.find("<p>"), std::string::npos) << all;
}

}  // namespace
