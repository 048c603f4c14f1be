// `size: auto` in the train stage: a tiny pipeline plans its model from a budget and the tokenize
// stage's tokens, trains exactly the planned shape, batch and steps, writes plan.json and shows the
// plan in the report; a rerun reuses the plan (nothing runs), a changed budget reruns train,
// explicit keys win over the plan, and bad budgets are usage errors naming the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "pipeline/pipeline.h"
#include "test_util.h"

using namespace nlm;
using nlm::testing::read_text;
using nlm::testing::TempDir;
using nlm::testing::write_text;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Irish-looking text: 120 documents of 5 sentences.
void make_corpus(const std::string& path) {
  const char* words[] = {"teanga", "daoine", "scoil", "leabhar", "baile", "obair", "ceol", "oíche",
                         "bóthar", "uisce", "talamh", "focal", "scéal", "cara", "aimsir", "farraige"};
  uint64_t x = 7;
  auto rnd = [&] { return x = x * 6364136223846793005ull + 1442695040888963407ull, x >> 33; };
  std::string out;
  for (int i = 0; i < 120; ++i) {
    std::string text;
    for (int s = 0; s < 5; ++s) {
      for (int w = 0; w < 10; ++w) text += std::string(words[rnd() % 16]) + " ";
      text += "agus an " + std::to_string(rnd() % 100) + ".\n";
    }
    out += json({{"id", "d" + std::to_string(i)}, {"text", text}}).dump() + "\n";
  }
  write_text(path, out);
}

// A fixed achieved TFLOP/s keeps the plan the same on every machine (without it the CPU's
// measured sgemm peak sets the budget in FLOPs).
std::string pipeline(const std::string& work, const std::string& input, const std::string& train_extra,
                     const std::string& budget = "hours: 0.00005, tflops: 0.02") {
  return "name: size-auto\nwork_dir: " + work + "\ninputs: [" + input + "]\nstages:\n"
         "  tokenizer:\n    vocab_size: 300\n    special_tokens: [\"<|end_of_text|>\"]\n"
         "  tokenize:\n    val_fraction: 0.1\n"
         "  train:\n    size: auto\n    plan: {" + budget + "}\n    eval_batches: 1\n    log_every: 0\n" +
         train_extra;
}

json read_json(const std::string& path) { return json::parse(read_text(path)); }

pipeline::BuildResult build(const std::string& yaml_path, bool dry_run = false) {
  auto spec = pipeline::load_pipeline(yaml_path);
  pipeline::BuildOptions o;
  o.dry_run = dry_run;
  return pipeline::run_build(spec, o);
}

TEST(SizeAuto, PlansTrainsAndReportsThePlannedShape) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"));
  write_text(dir.file("p.yaml"), pipeline(dir.file("work"), dir.file("in.jsonl"), ""));
  auto r = build(dir.file("p.yaml"));
  ASSERT_EQ(r.ran, 3);
  const json plan = read_json(dir.file("work/train/plan.json"));
  const json& p = plan["plan"];
  EXPECT_TRUE(fs::exists(dir.file("work/train/plan.txt")));
  EXPECT_NE(plan["text"].get<std::string>().find("binds: "), std::string::npos);
  // The model trained is the planned shape, at the planned sequence length, batch and steps.
  const json config = read_json(dir.file("work/train/model/config.json"));
  for (const char* key : {"num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads",
                          "intermediate_size", "tie_word_embeddings"})
    EXPECT_EQ(config[key], p["shape"][key]) << key;
  EXPECT_EQ(config["max_position_embeddings"], p["seq_len"]);
  EXPECT_EQ(p["seq_len"], 256);  // the planner's CPU default
  EXPECT_EQ(config["vocab_size"], 300);  // the tokenizer's, not rounded
  const json stage = read_json(dir.file("work/train/stage.json"));
  EXPECT_EQ(stage["options"]["batch_size"], p["micro_batch"]);
  EXPECT_EQ(stage["options"]["steps"], p["steps"]);
  EXPECT_EQ(stage["summary"]["steps"], p["steps"]);
  EXPECT_DOUBLE_EQ(stage["options"]["schedule"]["lr"].get<double>(), p["lr"].get<double>());
  // The tokens it plans with are the tokenize stage's train tokens.
  uint64_t tokens = 0;
  const json manifest = read_json(dir.file("work/tokenize/manifest.json"));
  for (const auto& f : manifest["outputs"])
    if (f["path"].get<std::string>().rfind("train-", 0) == 0) tokens += f["records"].get<uint64_t>();
  EXPECT_EQ(p["dataset_tokens"].get<uint64_t>(), tokens);
  EXPECT_GT(p["steps"].get<int>(), 1);
  // The report: a plan section with the shape, the binding limit and the epochs.
  const json report = read_json(r.report_json);
  const json& summary = report["stages"][2]["summary"]["plan"];
  EXPECT_EQ(summary["binds"], p["binds"]);
  EXPECT_NEAR(summary["epochs"].get<double>(), p["epochs"].get<double>(), 1e-9);
  const std::string html = read_text(r.report_html);
  EXPECT_NE(html.find("Planned model (size: auto)"), std::string::npos);
  EXPECT_NE(html.find(summary["shape"].get<std::string>()), std::string::npos);

  // Nothing changed: nothing runs, the dry run agrees, and the plan is reused (not measured again).
  EXPECT_EQ(build(dir.file("p.yaml"), true).plan[2].action, pipeline::StagePlan::Action::Skip);
  auto again = build(dir.file("p.yaml"));
  EXPECT_EQ(again.ran, 0);

  // Killed after its last checkpoint, before model/ and stage.json: the next build reuses
  // plan.json, so the fingerprint matches and the run resumes instead of starting over.
  const json before = read_json(dir.file("work/train/stage.json"));
  write_text(dir.file("work/train/.pending-fingerprint"), before["fingerprint"].get<std::string>());
  fs::remove(dir.file("work/train/stage.json"));
  fs::remove_all(dir.file("work/train/model"));
  auto resumed = build(dir.file("p.yaml"));
  EXPECT_EQ(resumed.ran, 1);
  EXPECT_EQ(resumed.plan[2].fingerprint, before["fingerprint"]);
  EXPECT_EQ(read_json(dir.file("work/train/stage.json"))["summary"]["steps"], p["steps"]);
  EXPECT_TRUE(fs::exists(dir.file("work/train/model/config.json")));
  // A damaged plan.json is planned again: the same plan here (the throughput is fixed), so the
  // fingerprint matches and nothing runs.
  json damaged = read_json(dir.file("work/train/plan.json"));
  write_text(dir.file("work/train/plan.json"), "{\"inputs\": [");
  EXPECT_EQ(build(dir.file("p.yaml")).ran, 0);
  // So is one whose numbers are not integers (a float read as int was undefined behaviour).
  damaged["plan"]["seq_len"] = 1e300;
  write_text(dir.file("work/train/plan.json"), damaged.dump());
  EXPECT_EQ(build(dir.file("p.yaml")).ran, 0);

  // A larger budget reruns train (and only train) with more tokens.
  write_text(dir.file("p.yaml"), pipeline(dir.file("work"), dir.file("in.jsonl"), "", "hours: 0.0001, tflops: 0.02"));
  auto bigger = build(dir.file("p.yaml"));
  ASSERT_EQ(bigger.plan.size(), 3u);
  EXPECT_EQ(bigger.plan[1].action, pipeline::StagePlan::Action::Skip);
  EXPECT_EQ(bigger.plan[2].action, pipeline::StagePlan::Action::Run);
  EXPECT_GT(read_json(dir.file("work/train/plan.json"))["plan"]["train_tokens"].get<double>(),
            p["train_tokens"].get<double>());

  // Explicit keys win over the plan, and plan.json says which.
  write_text(dir.file("p.yaml"), pipeline(dir.file("work"), dir.file("in.jsonl"),
                                          "    batch_size: 3\n    steps: 4\n    seq_len: 64\n    model: {num_hidden_layers: 1}\n"
                                          "    schedule: {lr: 0.002}\n"));
  build(dir.file("p.yaml"));
  const json over = read_json(dir.file("work/train/stage.json"));
  EXPECT_EQ(over["options"]["batch_size"], 3);
  EXPECT_EQ(over["summary"]["steps"], 4);
  EXPECT_DOUBLE_EQ(over["options"]["schedule"]["lr"].get<double>(), 0.002);
  const json over_config = read_json(dir.file("work/train/model/config.json"));
  EXPECT_EQ(over_config["num_hidden_layers"], 1);
  EXPECT_EQ(over_config["hidden_size"], p["shape"]["hidden_size"]);  // the rest is still planned
  const json kept = read_json(dir.file("work/train/plan.json"))["explicit"];
  for (const char* key : {"batch_size", "steps", "model.num_hidden_layers", "schedule.lr"})
    EXPECT_NE(std::find(kept.begin(), kept.end(), key), kept.end()) << key << " " << kept.dump();
  EXPECT_EQ(std::find(kept.begin(), kept.end(), "model.hidden_size"), kept.end()) << kept.dump();
  // An explicit seq_len is planned for, not overridden.
  EXPECT_EQ(read_json(dir.file("work/train/plan.json"))["plan"]["seq_len"], 64);
  EXPECT_EQ(over_config["max_position_embeddings"], 64);
  EXPECT_EQ(std::find(kept.begin(), kept.end(), "seq_len"), kept.end()) << kept.dump();
}

std::string build_error(const std::string& yaml, const TempDir& dir) {
  write_text(dir.file("bad.yaml"), yaml);
  try {
    build(dir.file("bad.yaml"));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SizeAuto, BadBudgetsAreUsageErrors) {
  TempDir dir;
  make_corpus(dir.file("in.jsonl"));
  const std::string work = dir.file("work"), in = dir.file("in.jsonl");
  // Too small to train one step: the error names the budget key in the pipeline file.
  std::string e = build_error(pipeline(work, in, "", "hours: 0.0000001, tflops: 0.02"), dir);
  EXPECT_NE(e.find("train.plan.hours"), std::string::npos) << e;
  EXPECT_NE(e.find("too small to train anything"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir.file("work/train/stage.json")));
  // Errors found when the file is read, before any stage runs.
  e = build_error(pipeline(work, in, "", "tflops: 0.02"), dir);
  EXPECT_NE(e.find("train.plan.hours is required with size: auto"), std::string::npos) << e;
  e = build_error(pipeline(work, in, "", "hours: 1, gpu: h100"), dir);
  EXPECT_NE(e.find("train.plan.gpu"), std::string::npos) << e;
  EXPECT_NE(e.find("device is cpu"), std::string::npos) << e;
  std::string yaml = pipeline(work, in, "");
  yaml.replace(yaml.find("size: auto"), 10, "size: big");
  e = build_error(yaml, dir);
  EXPECT_NE(e.find("train.size must be auto"), std::string::npos) << e;
  yaml = pipeline(work, in, "");
  yaml.replace(yaml.find("size: auto"), 10, "steps: 2");
  e = build_error(yaml, dir);
  EXPECT_NE(e.find("train.plan.hours is set but size is not auto"), std::string::npos) << e;
  yaml = pipeline(work, in, "", "hours: lots");
  e = build_error(yaml, dir);
  EXPECT_NE(e.find("train.plan.hours"), std::string::npos) << e;
}

}  // namespace
