// `mpirun -np 2 nativelm train` against one process on a tiny model: the same per-step losses
// over 20 steps and the same final weights up to fp32 summation order (so ZeRO-1 over 2 ranks
// is the unsharded AdamW), a 2-rank checkpoint resumed on 1 rank and a 1-rank checkpoint on 2
// ranks continuing the same curve, an interrupted 2-rank run that leaves a whole checkpoint, and
// the launch errors. Skipped only when mpirun is absent.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/hash.h"
#include "data/token_shard.h"
#include "model/safetensors.h"
#include "test_util.h"

namespace {

using namespace nlm;
using nlm::testing::read_text;
using nlm::testing::TempDir;
using nlm::testing::write_text;
namespace fs = std::filesystem;

const char* kMpirun = "mpirun --allow-run-as-root --oversubscribe --mca pml ob1 --mca btl self,vader";

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

// Byte-level token shard of a few documents in several languages.
void write_corpus(const std::string& path) {
  const char* docs[] = {
      "Euskara Euskal Herriko hizkuntza da, eta gaur egun milioi bat hiztun inguru ditu.",
      "Tá an Ghaeilge ina teanga oifigiúil in Éirinn agus san Aontas Eorpach.",
      "ภาษาไทยเป็นภาษาราชการของประเทศไทย",
      "我哋今日去咗銀行，跟住去飲茶。",
      "Der Fuchs springt über den faulen Hund. The quick brown fox jumps over the lazy dog."};
  data::TokShardWriter w(path, 256, Hash128{});
  for (int rep = 0; rep < 3; ++rep)
    for (const char* d : docs) {
      std::string s = d;
      std::vector<uint32_t> t(s.begin(), s.end());
      for (auto& x : t) x &= 0xff;
      w.add_document(t);
    }
  w.finish();
}

// A tiny run: 4 micro-batches of 2 rows per step, so 1 or 2 ranks (2 or 1 micro-batches each).
std::string write_config(const TempDir& dir) {
  write_corpus(dir.file("t.tok"));
  std::string path = dir.file("run.yaml");
  write_text(path,
             "model: {vocab_size: 256, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,\n"
             "        num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64,\n"
             "        tie_word_embeddings: false}\n"
             "data: {train: [" + dir.file("t.tok") + "]}\n"
             "batch_size: 2\nseq_len: 32\ngrad_accum: 4\nlog_every: 0\ncheckpoint_every: 10\n"
             "schedule: {lr: 1e-2, min_lr: 1e-3, warmup_steps: 5}\n"
             "optimizer: {grad_clip: 0.5}\n");
  return path;
}

// Runs nativelm train on `np` ranks (1 = no mpirun) with `env` before it; returns the exit code.
int train(const TempDir& dir, int np, const std::string& out, const std::string& extra, const std::string& env = "") {
  std::string cmd = env + (np == 1 ? std::string() : std::string(kMpirun) + " -np " + std::to_string(np) + " ") +
                    NATIVELM_BIN + " -q --threads 1 train " + dir.file("run.yaml") + " -o " + out + " " + extra + " >" +
                    dir.file("log") + " 2>&1";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

std::vector<double> losses(const std::string& out) {
  std::vector<double> l;
  std::ifstream in(out + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) l.push_back(j["loss"]);
  }
  return l;
}

std::vector<float> weights(const std::string& dir) {
  model::SafetensorsReader r(dir + "/model.safetensors");
  std::vector<float> all;
  for (const auto& e : r.entries()) {
    EXPECT_EQ(e.dtype, tensor::DType::F32);
    const float* p = reinterpret_cast<const float*>(r.data(e));
    all.insert(all.end(), p, p + (e.end - e.begin) / 4);
  }
  return all;
}

// Float summation order differs across rank counts (gradients add up in another order): the
// losses (printed with 6 decimals) agree to 1e-5 relative; measured: 1e-6 over 20 steps.
void expect_close(const std::vector<double>& a, const std::vector<double>& b, size_t from = 0) {
  ASSERT_EQ(a.size(), b.size() + from);
  double worst = 0;
  for (size_t i = 0; i < b.size(); ++i) worst = std::max(worst, std::fabs(a[from + i] - b[i]));
  std::printf("largest loss difference: %.3g\n", worst);
  for (size_t i = 0; i < b.size(); ++i) EXPECT_NEAR(a[from + i], b[i], 1e-5 * std::max(1.0, std::fabs(b[i]))) << "step " << from + i + 1;
}

TEST(DataParallel, TwoRanksGiveOneRanksLossesAndWeights) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  write_config(dir);
  ASSERT_EQ(train(dir, 1, dir.file("one"), "--steps 20"), 0) << read_text(dir.file("log"));
  ASSERT_EQ(train(dir, 2, dir.file("two"), "--steps 20"), 0) << read_text(dir.file("log"));
  auto one = losses(dir.file("one")), two = losses(dir.file("two"));
  ASSERT_EQ(one.size(), 20u);  // rank 0 alone wrote metrics
  expect_close(one, two);
  EXPECT_LT(one.back(), one.front() - 0.5);  // it learned
  auto w1 = weights(dir.file("one/model")), w2 = weights(dir.file("two/model"));
  ASSERT_EQ(w1.size(), w2.size());
  double worst = 0;
  for (size_t i = 0; i < w1.size(); ++i) worst = std::max(worst, double(std::fabs(w1[i] - w2[i])));
  EXPECT_LT(worst, 1e-4) << "ZeRO-1 over 2 ranks drifted from the unsharded AdamW";
  // The 2-rank checkpoint: each rank's flat range, and an index that gives the ranges.
  const std::string ck = dir.file("two/checkpoints/step-00000020");
  EXPECT_TRUE(fs::exists(ck + "/optimizer-00001-of-00002.safetensors"));
  EXPECT_TRUE(fs::exists(ck + "/optimizer-00002-of-00002.safetensors"));
  auto index = nlohmann::json::parse(read_text(ck + "/optimizer.index.json"));
  ASSERT_EQ(index["shards"].size(), 2u);
  EXPECT_EQ(index["shards"][0]["begin"], 0);
  EXPECT_EQ(index["shards"][0]["end"], index["shards"][1]["begin"]);
  EXPECT_EQ(index["shards"][1]["end"], index["flat_size"]);
  EXPECT_EQ(nlohmann::json::parse(read_text(ck + "/trainer_state.json"))["ranks"], 2);
  // The 1-rank checkpoint keeps the one-file format.
  EXPECT_TRUE(fs::exists(dir.file("one/checkpoints/step-00000020/optimizer.safetensors")));
  EXPECT_FALSE(fs::exists(dir.file("one/checkpoints/step-00000020/optimizer.index.json")));
}

TEST(DataParallel, Bf16OnTwoRanksFollowsOneRankWithinBf16Tolerance) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  write_config(dir);
  ASSERT_EQ(train(dir, 1, dir.file("one"), "--steps 20 --precision bf16"), 0) << read_text(dir.file("log"));
  ASSERT_EQ(train(dir, 2, dir.file("two"), "--steps 20 --precision bf16"), 0) << read_text(dir.file("log"));
  auto one = losses(dir.file("one")), two = losses(dir.file("two"));
  ASSERT_EQ(one.size(), 20u);
  ASSERT_EQ(two.size(), 20u);
  // bf16 weights round differently once fp32 sums differ in their last bits: 2^-8 relative.
  for (size_t i = 0; i < one.size(); ++i) EXPECT_NEAR(one[i], two[i], 0.004 * one[i]) << "step " << i + 1;
  EXPECT_LT(two.back(), two.front() - 0.5);
  // Each shard holds fp32 master weights beside the moments.
  model::SafetensorsReader shard(dir.file("two/checkpoints/step-00000020/optimizer-00002-of-00002.safetensors"));
  ASSERT_NE(shard.find("master"), nullptr);
  EXPECT_EQ(shard.find("master")->dtype, tensor::DType::F32);
}

TEST(DataParallel, ResumesOnAnotherRankCount) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  write_config(dir);
  for (int first : {2, 1}) {
    const int second = 3 - first;
    // A 20-step run on `first` ranks; its step-10 checkpoint is then resumed on `second` ranks
    // (the step-20 one and the model removed, as if the run had stopped after step 10).
    std::string out = dir.file("from" + std::to_string(first));
    ASSERT_EQ(train(dir, first, out, "--steps 20"), 0) << read_text(dir.file("log"));
    auto uninterrupted = losses(out);
    fs::remove_all(out + "/checkpoints/step-00000020");
    fs::remove_all(out + "/model");
    ASSERT_EQ(train(dir, second, out, "--steps 20 --resume"), 0) << read_text(dir.file("log"));
    auto l = losses(out);
    ASSERT_EQ(l.size(), 20u) << first << " then " << second << " ranks";
    expect_close(uninterrupted, std::vector<double>(l.begin() + 10, l.end()), 10);
    for (size_t i = 0; i < 10; ++i) EXPECT_EQ(l[i], uninterrupted[i]);  // kept as written
    EXPECT_TRUE(fs::exists(out + "/model/model.safetensors"));
  }
}

TEST(DataParallel, AnInterruptedRunKeepsAWholeCheckpoint) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  write_config(dir);
  const std::string out = dir.file("run");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setpgid(0, 0);
    std::string cmd = std::string("exec ") + kMpirun + " -np 2 " + NATIVELM_BIN + " -q --threads 1 train " + dir.file("run.yaml") +
                      " -o " + out + " --steps 1000000 --checkpoint-every 3 >" + dir.file("log") + " 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for a few checkpoints, then stop the run the way a scheduler does.
  auto t0 = std::chrono::steady_clock::now();
  while (!fs::exists(out + "/checkpoints/step-00000009") &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  // The newest step-* folder is whole: both shards, the index, the weights and the state.
  std::string newest;
  for (const auto& e : fs::directory_iterator(out + "/checkpoints"))
    if (e.path().filename().string().starts_with("step-") && e.path().string() > newest) newest = e.path().string();
  for (const char* f : {"optimizer-00001-of-00002.safetensors", "optimizer-00002-of-00002.safetensors",
                        "optimizer.index.json", "model.safetensors", "trainer_state.json"})
    EXPECT_TRUE(fs::exists(newest + "/" + f)) << newest << " lacks " << f;
  const int64_t step = nlohmann::json::parse(read_text(newest + "/trainer_state.json"))["step"];
  EXPECT_GE(step, 9) << read_text(dir.file("log"));
  // SIGTERM reached both ranks through mpirun; they stopped after the same step.
  const std::string log = read_text(dir.file("log"));
  if (log.find("interrupted by SIGTERM") != std::string::npos) {
    EXPECT_NE(log.find("interrupted by SIGTERM after step " + std::to_string(step) + ";"), std::string::npos) << log;
  }
  // It resumes, on one rank, two steps further.
  ASSERT_EQ(train(dir, 1, out, "--resume --steps " + std::to_string(step + 2)), 0) << read_text(dir.file("log"));
  EXPECT_EQ(losses(out).size(), static_cast<size_t>(step + 2));
}

// MPI messages over NATIVELM_MPI_CHUNK_BYTES go in chunks: forced down to 4 KiB (the 2-layer
// model's flat buffers are about 30 K floats), the run is the same to the last bit.
TEST(DataParallel, SmallMpiChunksGiveTheSameRun) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  write_config(dir);
  ASSERT_EQ(train(dir, 2, dir.file("whole"), "--steps 4"), 0) << read_text(dir.file("log"));
  ASSERT_EQ(train(dir, 2, dir.file("chunked"), "--steps 4", "NATIVELM_MPI_CHUNK_BYTES=4096 "), 0)
      << read_text(dir.file("log"));
  auto whole = losses(dir.file("whole")), chunked = losses(dir.file("chunked"));
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(whole, chunked);
  EXPECT_EQ(weights(dir.file("whole/model")), weights(dir.file("chunked/model")));
  EXPECT_NE(train(dir, 2, dir.file("bad"), "--steps 1", "NATIVELM_MPI_CHUNK_BYTES=4k "), 0);
  EXPECT_NE(read_text(dir.file("log")).find("NATIVELM_MPI_CHUNK_BYTES=4k is not a byte count"), std::string::npos)
      << read_text(dir.file("log"));
}

TEST(DataParallel, LaunchErrorsAreClear) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  write_config(dir);
  // 4 micro-batches do not split over 3 ranks.
  EXPECT_NE(train(dir, 3, dir.file("three"), "--steps 2"), 0);
  EXPECT_NE(read_text(dir.file("log")).find("not a multiple of the 3 data-parallel ranks"), std::string::npos)
      << read_text(dir.file("log"));
  // Env-only launches on CPU: no MPI world to run over.
  EXPECT_EQ(train(dir, 1, dir.file("env"), "--steps 2", "RANK=0 WORLD_SIZE=2 "), 2);
  EXPECT_NE(read_text(dir.file("log")).find("runs over MPI"), std::string::npos) << read_text(dir.file("log"));
  EXPECT_EQ(train(dir, 1, dir.file("env"), "--steps 2", "RANK=1 "), 2);
  EXPECT_NE(read_text(dir.file("log")).find("RANK is set without WORLD_SIZE"), std::string::npos);
  EXPECT_EQ(train(dir, 1, dir.file("env"), "--steps 2", "RANK=2 WORLD_SIZE=2 "), 2);
  EXPECT_NE(read_text(dir.file("log")).find("RANK=2 is outside 0..1"), std::string::npos);
}

}  // namespace
