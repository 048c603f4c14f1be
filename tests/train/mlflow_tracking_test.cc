// `sft --mlflow DIR` (the loop all three commands share): params from the options JSON, each
// metrics.jsonl figure as an MLflow metric at its step, eval_loss, FINISHED with metrics.jsonl
// as an artifact; a resumed run logs into the same MLflow run (out_dir/mlflow_run_id) with the
// steps after the checkpoint rewritten, and a run that fails ends FAILED.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sft_fixture.h"
#include "train/sft.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;

std::string data_file(const TempDir& dir) {
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += chat_record(irish_lines()[static_cast<size_t>(i) % irish_lines().size()], kIrishAnswer) + "\n";
  write_text(dir.file("chat.jsonl"), text);
  return dir.file("chat.jsonl");
}

train::SftTrainOptions options(const TempDir& dir) {
  train::SftTrainOptions o;
  o.model_dir = dir.file("base");
  o.data = {data_file(dir)};
  o.out_dir = dir.file("run");
  o.encode.max_length = 64;
  o.batch_size = 2;
  o.steps = 4;
  o.eval_fraction = 0.1;
  o.log_every = 0;
  o.checkpoint_every = 2;
  o.mlflow = dir.file("mlruns");
  o.mlflow_experiment = "sft tests";
  return o;
}

// (step, value) per line of an MLflow metric file, checking the "timestamp value step" format.
std::vector<std::pair<int64_t, double>> metric_lines(const std::string& path) {
  std::vector<std::pair<int64_t, double>> out;
  std::istringstream in(read_text(path));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    int64_t t = 0, step = -1;
    double v = 0;
    f >> t >> v >> step;
    EXPECT_TRUE(f && f.eof() && t > 1600000000000) << line;
    out.emplace_back(step, v);
  }
  return out;
}

TEST(MlflowTracking, SftRunLogsParamsMetricsAndResumesIntoTheSameRun) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  auto o = options(dir);
  o.steps = 2;
  train::run_sft(o);
  const std::string id = read_text(dir.file("run/mlflow_run_id"));
  ASSERT_EQ(id.size(), 33u);
  const std::string run_dir = dir.file("mlruns/1/" + id.substr(0, 32));
  ASSERT_TRUE(fs::exists(run_dir + "/meta.yaml"));
  EXPECT_NE(read_text(dir.file("mlruns/1/meta.yaml")).find("name: 'sft tests'\n"), std::string::npos);
  EXPECT_NE(read_text(run_dir + "/meta.yaml").find("\nstatus: 3\n"), std::string::npos);
  EXPECT_EQ(read_text(run_dir + "/params/steps"), "2");
  EXPECT_EQ(read_text(run_dir + "/params/batch_size"), "2");
  EXPECT_EQ(read_text(run_dir + "/params/schedule.lr"), nlohmann::json(o.schedule.lr).dump());
  EXPECT_EQ(read_text(run_dir + "/tags/mlflow.runName"), "run");
  EXPECT_EQ(read_text(run_dir + "/tags/mlflow.source.name"), "nativelm sft");
  EXPECT_EQ(read_text(run_dir + "/artifacts/metrics.jsonl"), read_text(dir.file("run/metrics.jsonl")));
  // Every figure of metrics.jsonl, at its step.
  std::istringstream jsonl(read_text(dir.file("run/metrics.jsonl")));
  std::string line;
  size_t figures = 0;
  while (std::getline(jsonl, line)) {
    auto j = nlohmann::json::parse(line);
    for (auto& [k, v] : j.items()) {
      if (k == "step") continue;
      auto lines = metric_lines(run_dir + "/metrics/" + k);
      // metrics.jsonl rounds: tokens_per_s to 0.1, mfu to 1e-4, the rest to 6 digits.
      const double tol = k == "tokens_per_s" ? 0.051 : k == "mfu" ? 5.1e-5 : 0;
      bool found = false;
      for (auto& [s, x] : lines)
        found |= s == j["step"].get<int64_t>() && std::abs(x - v.get<double>()) <= tol + 1e-5 * (1 + std::abs(x));
      EXPECT_TRUE(found) << k << " at step " << j["step"];
      ++figures;
    }
  }
  EXPECT_GE(figures, 12u);
  EXPECT_EQ(metric_lines(run_dir + "/metrics/loss").size(), 2u);
  EXPECT_EQ(metric_lines(run_dir + "/metrics/eval_loss").size(), 1u);

  // Resume to step 4: the same MLflow run, loss at steps 1..4 once each.
  o.steps = 4;
  o.resume = true;
  train::run_sft(o);
  EXPECT_EQ(read_text(dir.file("run/mlflow_run_id")), id);
  size_t runs = 0;
  for (auto& e : fs::directory_iterator(dir.file("mlruns/1"))) runs += e.is_directory();
  EXPECT_EQ(runs, 1u);
  auto loss = metric_lines(run_dir + "/metrics/loss");
  ASSERT_EQ(loss.size(), 4u);
  for (int64_t s = 0; s < 4; ++s) EXPECT_EQ(loss[static_cast<size_t>(s)].first, s + 1);
  EXPECT_NE(read_text(run_dir + "/meta.yaml").find("\nstatus: 3\n"), std::string::npos);
}

TEST(MlflowTracking, FailedRunEndsFailed) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  auto o = options(dir);
  o.schedule.lr = 1e30;  // the loss becomes NaN: a runtime error inside the loop
  o.steps = 3;
  EXPECT_ANY_THROW(train::run_sft(o));
  ASSERT_TRUE(fs::exists(dir.file("run/mlflow_run_id")));
  const std::string id = read_text(dir.file("run/mlflow_run_id")).substr(0, 32);
  EXPECT_NE(read_text(dir.file("mlruns/1/" + id + "/meta.yaml")).find("\nstatus: 4\n"), std::string::npos);
}

}  // namespace
}  // namespace nlm::testing
