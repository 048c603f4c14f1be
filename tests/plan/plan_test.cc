// `nativelm plan`: NeMo's published example (20 DGX A100 nodes, 5 days -> about 5B), the
// explanation of which limit binds, the shape lookup, the memory estimate's parts, clear errors
// for bad inputs (a budget too small for one step among them), a generated train YAML that
// `nativelm train` runs for 2 steps, the memory estimate against peak RSS, and --probe's tokens/s
// against real train runs.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>

#include "core/hash.h"
#include "core/manifest.h"
#include "data/token_shard.h"
#include "core/runtime.h"
#include "plan/plan.h"
#include "tensor/cpu/cpu_backend.h"
#include "train/trainer.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

// NeMo's auto configurator defaults: 20 nodes x 8 A100, 5 days, 140 TFLOP/s achieved per GPU,
// 300B tokens. The formula gives 4.03B; the size lookup turns that into NeMo's 5B shape
// (24 layers, hidden 4096, 32 heads).
TEST(Plan, NemoPublishedExampleIsAbout5B) {
  double n = plan::nemo_size(5, 160, 140, 300e9);
  EXPECT_NEAR(n / 1e9, 4.03, 0.01);
  plan::PlanOptions o;
  o.gpu = "a100";
  o.gpus = 8;
  o.nodes = 20;
  o.hours = 5 * 24;
  o.tflops = 140;
  o.tokens = 300'000'000'000ull;
  o.vocab_size = 51200;
  o.seq_len = 2048;
  o.size = "4.03B";
  plan::Plan p = plan::make_plan(o);
  const plan::Scenario* nemo = nullptr;
  for (auto& s : p.scenarios)
    if (s.name == "NeMo 8NT") nemo = &s;
  ASSERT_NE(nemo, nullptr);
  EXPECT_NEAR(nemo->params / 1e9, 4.03, 0.01);
  EXPECT_EQ(p.shape.num_hidden_layers, 24);
  EXPECT_EQ(p.shape.hidden_size, 4096);
  EXPECT_EQ(p.shape.num_attention_heads, 32);
  EXPECT_GT(p.params, 4.5e9);
  EXPECT_LT(p.params, 5.5e9);
  // That shape on 300B tokens takes about the 5 days (a bit more: it is ~5B, not 4.03B).
  EXPECT_GT(p.expected_hours, 100);
  EXPECT_LT(p.expected_hours, 160);
  EXPECT_EQ(p.dp, 160);
  EXPECT_TRUE(p.shard_optimizer);
  EXPECT_TRUE(p.fits) << plan::plan_text(p);
}

TEST(Plan, ShapeLookupIsMonotoneAndConsistent) {
  int64_t last = 0;
  for (double n : {1e5, 1e6, 1e7, 1.25e8, 3.5e8, 1.3e9, 7e9, 7e10}) {
    auto m = plan::shape_for(n, 32000, 2048);
    EXPECT_GE(m.parameter_count(), last);
    last = m.parameter_count();
    EXPECT_TRUE(m.shape_problem().first.empty()) << m.shape_problem().second;
    EXPECT_EQ(m.hidden_size % m.num_attention_heads, 0);
    EXPECT_EQ(m.num_attention_heads % m.num_key_value_heads, 0);
  }
}

plan::PlanOptions budget(double hours, uint64_t tokens) {
  plan::PlanOptions o;
  o.gpu = "h100";
  o.gpus = 8;
  o.hours = hours;
  o.tokens = tokens;
  o.vocab_size = 32000;
  return o;
}

TEST(Plan, ExplainsWhichLimitBinds) {
  // 8 H100 for a day: C ~ 3.1e20 -> ~1.4B compute-optimal on ~28B tokens.
  plan::Plan compute = plan::make_plan(budget(24, 100'000'000'000ull));
  EXPECT_EQ(compute.binds, "compute");
  EXPECT_LE(compute.epochs, 4.0);
  // Only 1B tokens: 4 epochs feed about 200M parameters.
  plan::Plan data = plan::make_plan(budget(24, 1'000'000'000ull));
  EXPECT_EQ(data.binds, "data");
  EXPECT_NEAR(data.epochs, 4.0, 0.01);
  EXPECT_LT(data.params, 0.5e9);
  EXPECT_LT(data.expected_hours, 24);  // the budget is not used up: more data would help
  auto fixed = budget(24, 1'000'000'000ull);
  fixed.size = "125M";
  plan::Plan size = plan::make_plan(fixed);
  EXPECT_EQ(size.binds, "size");
  EXPECT_NEAR(size.expected_hours, 24, 24 * 0.05);  // the whole budget goes to tokens
  std::string text = plan::plan_text(data);
  for (const char* w : {"compute-optimal", "data-limited", "NeMo 8NT", "binds: data", "memory per device"})
    EXPECT_NE(text.find(w), std::string::npos) << w << "\n" << text;
  // A GPU-hour budget with a price gives the cost.
  auto priced = budget(0, 100'000'000'000ull);
  priced.gpu_hours = 80;
  priced.price = 2.5;
  plan::Plan pp = plan::make_plan(priced);
  EXPECT_NEAR(pp.hours, 10, 1e-9);
  EXPECT_GT(pp.cost, 0);
  EXPECT_LE(pp.cost, 80 * 2.5 * 1.05);
}

TEST(Plan, MemoryEstimateParts) {
  auto m = plan::shape_for(1.3e9, 32000, 2048);
  const double n = static_cast<double>(m.parameter_count());
  auto one = plan::estimate_memory(m, 1, 2048, true, 8, false, false);
  EXPECT_DOUBLE_EQ(one.weights, 2 * n);
  EXPECT_DOUBLE_EQ(one.optimizer, 12 * n);
  auto sharded = plan::estimate_memory(m, 1, 2048, true, 8, true, false);
  EXPECT_DOUBLE_EQ(sharded.optimizer, 12 * n / 8);
  auto rc = plan::estimate_memory(m, 1, 2048, true, 8, true, true);
  EXPECT_LT(rc.activations, sharded.activations);
  // Twice the rows double the layers' activations; the classifier's logits stay one chunk of rows
  // (model/classifier.h: 2048 rows here, then the chunk of 2097 bf16 rows of a 32000 vocabulary).
  auto two = plan::estimate_memory(m, 2, 2048, true, 8, true, false);
  const double logits_one = 2 * 4 * 2048 * 32000.0, logits_two = 2 * 4 * 2097 * 32000.0;
  EXPECT_NEAR(two.activations - logits_two, 2 * (sharded.activations - logits_one), 1e-9 * two.activations);
}

TEST(Plan, BadInputsAreUsageErrors) {
  TempDir dir;
  auto r = run_nativelm("plan --gpu v100 --hours 1 --tokens 1000000", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--gpu"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("h100"), std::string::npos) << r.err;
  r = run_nativelm("plan --gpu a100 --hours 0 --tokens 1000000", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--hours"), std::string::npos) << r.err;
  r = run_nativelm("plan --gpu a100 --hours 1 --data " + dir.file("nothing"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--data"), std::string::npos) << r.err;
  std::filesystem::create_directories(dir.file("empty"));
  r = run_nativelm("plan --gpu a100 --hours 1 --data " + dir.file("empty"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("manifest.json"), std::string::npos) << r.err;
  r = run_nativelm("plan --gpu a100 --hours 1", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--data"), std::string::npos) << r.err;
  // A budget that cannot train one step of the smallest shape.
  r = run_nativelm("plan --gpu a100 --gpus 1 --tflops 0.001 --hours 0.000001 --tokens 1000000", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--hours is too small to train anything"), std::string::npos) << r.err;
  r = run_nativelm("plan --gpu a100 --gpus 1 --tflops 0.001 --gpu-hours 0.000001 --tokens 1000000", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--gpu-hours is too small"), std::string::npos) << r.err;
}

// A tokenize-shaped folder: train-00000.tok, val-00000.tok and a "tokenize" manifest.
void write_token_folder(const std::string& dir, int train_docs = 64) {
  std::filesystem::create_directories(dir);
  std::string text = "nativelm plans small models for small languages. ";
  Manifest m;
  m.stage = "tokenize";
  for (const char* name : {"train-00000.tok", "val-00000.tok"}) {
    data::TokShardWriter w(dir + "/" + name, 256, Hash128{});
    for (int d = 0; d < (name[0] == 't' ? train_docs : 4); ++d) w.add_document(std::vector<uint32_t>(text.begin(), text.end()));
    w.finish();
    FileEntry e = describe_file(dir + "/" + name, name);
    e.records = w.tokens();
    m.outputs.push_back(e);
  }
  write_manifest(dir, m);
}

TEST(Plan, GeneratedYamlTrainsForTwoSteps) {
  TempDir dir;
  write_token_folder(dir.file("shards"));
  auto r = run_nativelm("--threads 1 plan --gpu cpu --gpus 1 --hours 0.0002 --data " + dir.file("shards") +
                            " -o " + dir.file("plan.yaml") + " --out-dir " + dir.file("run"),
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("binds: "), std::string::npos) << r.out;
  std::string yaml = read_text(dir.file("plan.yaml"));
  EXPECT_NE(yaml.find("train-00000.tok"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("vocab_size: 256"), std::string::npos) << yaml;
  r = run_nativelm("--threads 1 train " + dir.file("plan.yaml") + " --steps 2 --log-every 0", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << yaml;
  EXPECT_NE(r.out.find("trained 2 steps"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/model/config.json")));
}

// The memory estimate predicts the peak RSS of CPU train runs (2 steps and the final checkpoint,
// 8 x 256 tokens per step, vocabulary 8192) at three table sizes within 15 %.
TEST(Plan, MemoryEstimateMatchesPeakRssOfCpuRuns) {
  if (kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer's shadow memory inflates peak RSS";
  TempDir dir;
  {
    data::TokShardWriter w(dir.file("t.tok"), 8192, Hash128{});
    uint64_t state = 1;
    for (int d = 0; d < 100; ++d) {
      std::vector<uint32_t> doc(600);
      for (auto& t : doc) t = static_cast<uint32_t>((state = state * 6364136223846793005ull + 1) >> 51);
      w.add_document(doc);
    }
    w.finish();
  }
  auto table = plan::shape_table(8192, 256);
  std::string report;
  for (size_t i : {1, 2, 3}) {  // 2 x 128, 4 x 256, 6 x 384
    const auto& m = table[i];
    const std::string name = "m" + std::to_string(i);
    write_text(dir.file(name + ".yaml"),
               "model: {vocab_size: 8192, hidden_size: " + std::to_string(m.hidden_size) + ", intermediate_size: " +
                   std::to_string(m.intermediate_size) + ", num_hidden_layers: " + std::to_string(m.num_hidden_layers) +
                   ", num_attention_heads: " + std::to_string(m.num_attention_heads) + ", num_key_value_heads: " +
                   std::to_string(m.num_key_value_heads) + ", max_position_embeddings: 256, tie_word_embeddings: " +
                   (m.tie_word_embeddings ? "true" : "false") +
                   "}\nbatch_size: 8\nseq_len: 256\nlog_every: 0\neval_every: 0\ncheckpoint_every: 0\n");
    pid_t pid = spawn_nativelm({"--threads", "2", "train", dir.file(name + ".yaml"), "--out", dir.file(name), "--train",
                                dir.file("t.tok"), "--steps", "2"},
                               dir.file(name + ".out"), dir.file(name + ".err"));
    ASSERT_GT(pid, 0);
    int status = 0;
    struct rusage ru {};
    ASSERT_EQ(wait4(pid, &status, 0, &ru), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(dir.file(name + ".err"));
    const double rss = static_cast<double>(ru.ru_maxrss) * 1024;
    const double est = plan::estimate_memory(m, 8, 256, false, 1, false, false).total();
    char line[128];
    std::snprintf(line, sizeof line, "%lld params: estimate %.1f MiB, peak RSS %.1f MiB\n",
                  static_cast<long long>(m.parameter_count()), est / 1048576, rss / 1048576);
    report += line;
    EXPECT_NEAR(est / rss, 1.0, 0.15) << line;
  }
  std::printf("%s", report.c_str());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// --probe trains the candidate shapes briefly through run_train; the planned shape's tokens/s
// matches real `nativelm train` runs of the generated YAML within 10 %. Both sides run on one
// thread; the first probe figure is the CLI's (`plan --probe`), then probe_shapes (what --probe
// calls) and a `nativelm train` child alternate (9 figures each), so load that comes and goes on a shared machine
// falls on both, and the medians are compared. ctest runs this test with RUN_SERIAL
// (CMakeLists.txt) so no other test competes for the cores.
TEST(Plan, ProbeMatchesARealTrainRun) {
  if (kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer's instrumentation and quarantine distort timings";
  TempDir dir;
  write_token_folder(dir.file("shards"), 400);
  const int steps = 8;
  auto r = run_nativelm("--threads 1 plan --gpu cpu --hours 0.002 --size 400K --seq-len 64 --probe --probe-steps " +
                            std::to_string(steps) + " --data " + dir.file("shards") + " -o " + dir.file("plan.yaml") +
                            " --out-dir " + dir.file("run"),
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch shape, batch, row;
  ASSERT_TRUE(std::regex_search(r.out, shape, std::regex("shape: (\\d+) layers, hidden (\\d+)"))) << r.out;
  ASSERT_TRUE(std::regex_search(r.out, batch, std::regex("micro-batch (\\d+) rows"))) << r.out;
  // The probe row of the planned shape at the planned micro-batch: the table measured what the
  // YAML trains.
  const std::string want = "\\| " + shape[1].str() + " x " + shape[2].str() + " \\| [^|]+ \\| " + batch[1].str() +
                           " x 64 \\| (\\d+) \\|";
  ASSERT_TRUE(std::regex_search(r.out, row, std::regex(want))) << r.out;
  std::vector<double> probed = {std::stod(row[1].str())}, trained;
  int rows = 0;
  const std::regex probe_row("\\| \\d+ x \\d+ \\|");
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), probe_row); it != std::sregex_iterator(); ++it)
    ++rows;
  EXPECT_GE(rows, 2) << r.out;
  const std::string yaml = read_text(dir.file("plan.yaml"));
  ASSERT_NE(yaml.find("batch_size: " + batch[1].str() + "\n"), std::string::npos) << yaml;

  train::TrainOptions planned;
  train::load_train_yaml(dir.file("plan.yaml"), planned);
  plan::ProbeSetup setup;
  setup.rows = planned.batch_size;
  setup.seq_len = planned.seq_len;
  setup.recompute = planned.recompute;
  setup.steps = steps;
  setup.train_files = planned.train_data.at(0).shards;
  set_runtime_options({1, true});
  tensor::cpu_backend().set_threads(1);
  const int rounds = 9;
  for (int round = 0; round < rounds; ++round) {
    r = run_nativelm("--threads 1 train " + dir.file("plan.yaml") + " --steps " + std::to_string(steps) +
                         " --log-every 0 --eval-batches 1 --force",
                     dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::smatch tps;
    ASSERT_TRUE(std::regex_search(r.out, tps, std::regex(", (\\d+) tokens/s"))) << r.out;
    trained.push_back(std::stod(tps[1].str()));
    if (round + 1 < rounds) probed.push_back(plan::probe_shapes({planned.model}, setup).at(0).tokens_per_second);
  }
  set_runtime_options({});
  tensor::cpu_backend().set_threads(0);
  std::string report = "probe tokens/s:";
  for (double v : probed) report += " " + std::to_string(static_cast<int>(v));
  report += "\ntrain tokens/s:";
  for (double v : trained) report += " " + std::to_string(static_cast<int>(v));
  const double ratio = median(probed) / median(trained);
  report += "\nmedian probe / median train: " + std::to_string(ratio) + "\n";
  EXPECT_NEAR(ratio, 1.0, 0.10) << report;
  std::printf("%s", report.c_str());
}

}  // namespace
}  // namespace nlm::testing
