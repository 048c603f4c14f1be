// The MLflow file store as MLflow's FileStore lays it out: experiment and run meta.yaml keys,
// params without a newline, metric lines "timestamp value step", tags, artifacts, experiments
// found by name, keys with '/' as sub-folders, reopening a run, and (with PyYAML installed)
// meta.yaml files that parse to the types MLflow reads.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "core/error.h"
#include "core/mlflow_store.h"
#include "test_util.h"

using namespace nlm;
using nlm::testing::read_text;
using nlm::testing::TempDir;
namespace fs = std::filesystem;

namespace {

TEST(MlflowStore, ExperimentsByNameWithDefaultZero) {
  TempDir dir;
  const std::string root = dir.file("mlruns");
  EXPECT_EQ(mlflow::experiment_id(root, "nativelm"), "1");
  EXPECT_EQ(mlflow::experiment_id(root, "other"), "2");
  EXPECT_EQ(mlflow::experiment_id(root, "nativelm"), "1");
  EXPECT_EQ(mlflow::experiment_id(root, "Default"), "0");
  const std::string meta = read_text(root + "/1/meta.yaml");
  std::regex shape("artifact_location: 'file://" + fs::absolute(root).lexically_normal().string() +
                   "/1'\ncreation_time: [0-9]{13}\nexperiment_id: '1'\nlast_update_time: [0-9]{13}\n"
                   "lifecycle_stage: active\nname: 'nativelm'\n");
  EXPECT_TRUE(std::regex_match(meta, shape)) << meta;
  EXPECT_NE(read_text(root + "/0/meta.yaml").find("name: 'Default'\n"), std::string::npos);
}

TEST(MlflowStore, RunLayoutAndContents) {
  TempDir dir;
  const std::string root = dir.file("mlruns");
  auto run = mlflow::Run::start(root, "exp", "it's a run", "nativelm train");
  ASSERT_TRUE(std::regex_match(run.id(), std::regex("[0-9a-f]{32}")));
  EXPECT_EQ(run.dir(), root + "/1/" + run.id());
  run.param("schedule.lr", "0.001");
  run.metric("loss", 2.5, 1, 1700000000000);
  run.metric("loss", 0.125, 2, 1700000000001);
  run.metric("rewards/accuracies", 0.75, 3, 1700000000002);
  run.metric("acc,none", 1, 0, 1700000000003);
  run.tag("nativelm.command", "train");
  nlm::testing::write_text(dir.file("metrics.jsonl"), "{}\n");
  run.artifact(dir.file("metrics.jsonl"));

  EXPECT_EQ(read_text(run.dir() + "/params/schedule.lr"), "0.001");
  EXPECT_EQ(read_text(run.dir() + "/metrics/loss"), "1700000000000 2.5 1\n1700000000001 0.125 2\n");
  EXPECT_EQ(read_text(run.dir() + "/metrics/rewards/accuracies"), "1700000000002 0.75 3\n");
  EXPECT_EQ(read_text(run.dir() + "/metrics/acc_none"), "1700000000003 1 0\n");
  EXPECT_EQ(read_text(run.dir() + "/tags/nativelm.command"), "train");
  EXPECT_EQ(read_text(run.dir() + "/tags/mlflow.runName"), "it's a run");
  EXPECT_EQ(read_text(run.dir() + "/tags/mlflow.source.name"), "nativelm train");
  EXPECT_EQ(read_text(run.dir() + "/tags/mlflow.source.type"), "LOCAL");
  EXPECT_EQ(read_text(run.dir() + "/artifacts/metrics.jsonl"), "{}\n");

  const std::string running = read_text(run.dir() + "/meta.yaml");
  const std::string id = run.id();
  const std::string head = "artifact_uri: 'file://" + fs::absolute(run.dir()).lexically_normal().string() +
                           "/artifacts'\n";
  const std::string middle = "entry_point_name: ''\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: '" + id +
                             "'\nrun_name: 'it''s a run'\nrun_uuid: '" + id +
                             "'\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: ";
  EXPECT_TRUE(std::regex_match(running, std::regex(std::regex_replace(head, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                                                   "end_time: null\n[^]*")))
      << running;
  EXPECT_NE(running.find(middle), std::string::npos) << running;
  EXPECT_NE(running.find("\nstatus: 1\ntags: []\nuser_id: '"), std::string::npos) << running;

  run.end(mlflow::RunStatus::Finished);
  const std::string done = read_text(run.dir() + "/meta.yaml");
  EXPECT_TRUE(std::regex_search(done, std::regex("\nend_time: [0-9]{13}\n"))) << done;
  EXPECT_NE(done.find("\nstatus: 3\n"), std::string::npos);
}

TEST(MlflowStore, ReopenContinuesTheRunAndDropsLaterSteps) {
  TempDir dir;
  const std::string root = dir.file("mlruns");
  auto run = mlflow::Run::start(root, "exp", "r", "nativelm sft");
  for (int s = 1; s <= 4; ++s) run.metric("loss", s, s, 5);
  run.end(mlflow::RunStatus::Killed);
  EXPECT_NE(read_text(run.dir() + "/meta.yaml").find("\nstatus: 5\n"), std::string::npos);
  auto again = mlflow::Run::reopen(root, run.id());
  EXPECT_EQ(again.dir(), run.dir());
  const std::string meta = read_text(run.dir() + "/meta.yaml");
  EXPECT_NE(meta.find("\nstatus: 1\n"), std::string::npos);
  EXPECT_NE(meta.find("\nend_time: null\n"), std::string::npos);
  EXPECT_NE(meta.find("\nrun_name: 'r'\n"), std::string::npos);
  again.drop_metrics_after(2);
  EXPECT_EQ(read_text(run.dir() + "/metrics/loss"), "5 1 1\n5 2 2\n");
  EXPECT_THROW(mlflow::Run::reopen(root, "0123456789abcdef0123456789abcdef"), Error);
}

TEST(MlflowStore, ParamsFromNestedJson) {
  TempDir dir;
  auto run = mlflow::Run::start(dir.file("mlruns"), "exp", "r", "nativelm train");
  run.params_from_json(R"({"steps": 10, "schedule": {"lr": 0.001, "kind": "cosine"}, "inputs": ["a", "b"], "x": null})");
  EXPECT_EQ(read_text(run.dir() + "/params/steps"), "10");
  EXPECT_EQ(read_text(run.dir() + "/params/schedule.lr"), "0.001");
  EXPECT_EQ(read_text(run.dir() + "/params/schedule.kind"), "cosine");
  EXPECT_EQ(read_text(run.dir() + "/params/inputs"), R"(["a","b"])");
  EXPECT_EQ(read_text(run.dir() + "/params/x"), "null");
  EXPECT_THROW(run.params_from_json("{"), std::exception);
}

TEST(MlflowStore, CleanKey) {
  EXPECT_EQ(mlflow::clean_key("acc,none"), "acc_none");
  EXPECT_EQ(mlflow::clean_key("/../a//b"), "_/a/b");
  EXPECT_EQ(mlflow::clean_key("tasg_ga/acc_norm"), "tasg_ga/acc_norm");
  EXPECT_EQ(mlflow::clean_key("ceist_é/acc"), "ceist_é/acc");
}

// PyYAML reads the meta.yaml files to the types MLflow's FileStore expects.
TEST(MlflowStore, MetaYamlParsesWithPyYaml) {
  if (std::system("python3 -c 'import yaml' 2>/dev/null") != 0) GTEST_SKIP() << "no python3-yaml";
  TempDir dir;
  const std::string root = dir.file("mlruns");
  auto run = mlflow::Run::start(root, "exp: 'x'", "run", "nativelm eval run");
  run.end(mlflow::RunStatus::Failed);
  const std::string script = dir.file("check.py");
  nlm::testing::write_text(script,
                           "import sys, yaml\n"
                           "e = yaml.safe_load(open(sys.argv[1] + '/1/meta.yaml'))\n"
                           "assert e['name'] == \"exp: 'x'\" and e['experiment_id'] == '1', e\n"
                           "assert e['lifecycle_stage'] == 'active' and isinstance(e['creation_time'], int), e\n"
                           "r = yaml.safe_load(open(sys.argv[1] + '/1/' + sys.argv[2] + '/meta.yaml'))\n"
                           "assert r['run_id'] == sys.argv[2] == r['run_uuid'] and r['status'] == 4, r\n"
                           "assert r['tags'] == [] and r['source_type'] == 4 and r['source_name'] == '', r\n"
                           "assert isinstance(r['start_time'], int) and isinstance(r['end_time'], int), r\n"
                           "assert r['artifact_uri'].startswith('file:///') and r['experiment_id'] == '1', r\n");
  EXPECT_EQ(std::system(("python3 " + script + " " + root + " " + run.id()).c_str()), 0);
}

}  // namespace
