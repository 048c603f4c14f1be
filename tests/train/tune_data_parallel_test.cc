// `mpirun -np 2 nativelm sft|dpo|distill` against one process on tiny models (Irish and Cantonese
// chats): the same per-step losses and step figures, the same eval, rank 0 alone reporting, full
// fine-tuning and LoRA, DPO's reference log-probs scored in shares and equal to one rank's, a
// checkpoint resumed on the other rank count, and grad_accum that does not split over the ranks
// refused with a clear message before anything is written. Skipped only when mpirun is absent.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/token_shard.h"
#include "sft_fixture.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;

const char* kMpirun = "mpirun --allow-run-as-root --oversubscribe --mca pml ob1 --mca btl self,vader";

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

// Runs `nativelm ARGS` on `np` ranks (1 = no mpirun); stdout to dir/out, stderr to dir/log.
int run(const TempDir& dir, int np, const std::string& args) {
  std::string cmd = (np == 1 ? std::string() : std::string(kMpirun) + " -np " + std::to_string(np) + " ") +
                    NATIVELM_BIN + " --threads 1 " + args + " >" + dir.file("out") + " 2>" + dir.file("log");
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

std::string log_of(const TempDir& dir) { return read_text(dir.file("log")) + read_text(dir.file("out")); }

// metrics.jsonl's records: the step ones (with "loss") and the eval ones.
struct Metrics {
  std::vector<nlohmann::json> steps, evals;
};
Metrics metrics(const std::string& out) {
  Metrics m;
  std::ifstream in(out + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    (j.contains("loss") ? m.steps : m.evals).push_back(j);
  }
  return m;
}

// Figures of `b` (steps `from`.. of the run) against the same steps of `a`: the loss and every
// named figure of `keys`, up to float summation order (gradients add up in another order).
void expect_same(const std::vector<nlohmann::json>& a, const std::vector<nlohmann::json>& b,
                 const std::vector<std::string>& keys, size_t from = 0) {
  ASSERT_EQ(a.size(), b.size() + from);
  ASSERT_FALSE(b.empty());
  for (size_t i = 0; i < b.size(); ++i)
    for (const auto& k : keys) {
      ASSERT_TRUE(a[from + i].contains(k) && b[i].contains(k)) << k;
      const double x = a[from + i][k], y = b[i][k];
      EXPECT_NEAR(x, y, 1e-5 * std::max(1.0, std::fabs(x))) << k << " at step " << b[i]["step"];
    }
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The tiny chat model and its data: 24 chats, and 41 preference pairs whose chosen answer ends
// with a thank-you.
struct Tune {
  TempDir dir;
  Tune() {
    write_tiny_chat_model(dir.file("base"), 16, 1);
    std::string chats, pairs;
    for (int i = 0; i < 24; ++i) {
      const bool irish = i % 2 == 0;
      const auto& lines = irish ? irish_lines() : cantonese_lines();
      chats += chat_record(lines[size_t(i / 2) % lines.size()], irish ? kIrishAnswer : kCantoneseAnswer) + "\n";
    }
    for (int i = 0; i < 41; ++i) {
      const std::string answer = i % 2 ? "Tá mé go maith." : "我好好。";
      nlohmann::json j = {{"prompt", irish_lines()[size_t(i) % irish_lines().size()]},
                          {"chosen", answer + " Go raibh maith agat!"},
                          {"rejected", answer}};
      pairs += j.dump() + "\n";
    }
    write_text(dir.file("chats.jsonl"), chats);
    write_text(dir.file("pairs.jsonl"), pairs);
  }
  std::string sft(const std::string& out, const std::string& extra) const {
    return "sft " + dir.file("base") + " " + dir.file("chats.jsonl") + " -o " + dir.file(out) +
           " --batch-size 2 --max-length 64 --lr 3e-3 --warmup-steps 1 --log-every 0 " + extra;
  }
  std::string dpo(const std::string& out, const std::string& extra) const {
    return "dpo " + dir.file("base") + " " + dir.file("pairs.jsonl") + " -o " + dir.file(out) +
           " --batch-size 2 --max-length 64 --lr 3e-3 --warmup-steps 1 --log-every 0 " + extra;
  }
};

const std::vector<std::string> kStep = {"loss", "grad_norm"};

TEST(TuneDataParallel, SftOnTwoRanksGivesOneRanksLossesAndEval) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  Tune t;
  const std::string extra = "--steps 6 --grad-accum 4 --eval-fraction 0.2 --eval-every 3";
  ASSERT_EQ(run(t.dir, 1, t.sft("one", extra)), 0) << log_of(t.dir);
  ASSERT_EQ(run(t.dir, 2, t.sft("two", extra)), 0) << log_of(t.dir);
  // Rank 0 alone reports, logs and writes the model (with the chat template in it).
  EXPECT_EQ(count(read_text(t.dir.file("out")), "fine-tuned 6 steps"), 1u) << log_of(t.dir);
  EXPECT_EQ(count(read_text(t.dir.file("log")), "sft data:"), 1u) << log_of(t.dir);
  EXPECT_NE(read_text(t.dir.file("log")).find("data parallel: 2 ranks over mpi"), std::string::npos);
  EXPECT_NE(read_text(t.dir.file("two/model/tokenizer_config.json")).find("chat_template"), std::string::npos);
  Metrics one = metrics(t.dir.file("one")), two = metrics(t.dir.file("two"));
  ASSERT_EQ(one.steps.size(), 6u);
  expect_same(one.steps, two.steps, kStep);
  expect_same(one.evals, two.evals, {"eval_loss"});
  EXPECT_EQ(one.evals.size(), 2u);
  EXPECT_LT(one.steps.back()["loss"].get<double>(), one.steps.front()["loss"].get<double>());
  EXPECT_TRUE(fs::exists(t.dir.file("two/checkpoints/step-00000006/optimizer-00002-of-00002.safetensors")));
}

TEST(TuneDataParallel, LoraSftOnTwoRanksMatchesOneAndResumesOnOne) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  Tune t;
  const std::string extra = "--steps 6 --grad-accum 4 --checkpoint-every 3 --lora-rank 4 --lora-alpha 8";
  ASSERT_EQ(run(t.dir, 1, t.sft("one", extra)), 0) << log_of(t.dir);
  ASSERT_EQ(run(t.dir, 2, t.sft("two", extra)), 0) << log_of(t.dir);
  Metrics one = metrics(t.dir.file("one")), two = metrics(t.dir.file("two"));
  expect_same(one.steps, two.steps, kStep);
  EXPECT_TRUE(fs::exists(t.dir.file("two/adapter/adapter_model.safetensors")));
  EXPECT_FALSE(fs::exists(t.dir.file("two/model")));
  // Only the adapters are trained, so only they are in the optimizer's shards.
  auto index = nlohmann::json::parse(read_text(t.dir.file("two/checkpoints/step-00000006/optimizer.index.json")));
  ASSERT_TRUE(index.contains("params")) << index.dump();
  for (const auto& p : index["params"]) EXPECT_NE(p["name"].get<std::string>().find("lora_"), std::string::npos) << p;
  // The 2-rank step-3 checkpoint resumed on 1 rank continues the same curve.
  fs::remove_all(t.dir.file("two/checkpoints/step-00000006"));
  fs::remove_all(t.dir.file("two/adapter"));
  ASSERT_EQ(run(t.dir, 1, t.sft("two", extra + " --resume")), 0) << log_of(t.dir);
  Metrics resumed = metrics(t.dir.file("two"));
  ASSERT_EQ(resumed.steps.size(), 6u);
  expect_same(one.steps, std::vector<nlohmann::json>(resumed.steps.begin() + 3, resumed.steps.end()), kStep, 3);
  EXPECT_TRUE(fs::exists(t.dir.file("two/adapter/adapter_model.safetensors")));
}

TEST(TuneDataParallel, DpoOnTwoRanksScoresTheReferenceInSharesAndResumesOnTwo) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  Tune t;
  const std::string extra = "--steps 4 --grad-accum 2 --checkpoint-every 2 --eval-fraction 0.1";
  ASSERT_EQ(run(t.dir, 1, t.dpo("one", extra)), 0) << log_of(t.dir);
  ASSERT_EQ(run(t.dir, 2, t.dpo("two", extra)), 0) << log_of(t.dir);
  EXPECT_EQ(count(read_text(t.dir.file("out")), "trained 4 steps on"), 1u) << log_of(t.dir);
  // Each rank scored every other batch of pairs; summed, they are one rank's reference.
  auto r1 = nlohmann::json::parse(read_text(t.dir.file("one/reference_logps.json")));
  auto r2 = nlohmann::json::parse(read_text(t.dir.file("two/reference_logps.json")));
  for (const char* split : {"train", "eval"}) {
    ASSERT_EQ(r1[split]["sum"].size(), r2[split]["sum"].size()) << split;
    ASSERT_GT(r1[split]["sum"].size(), 2u) << split;
    EXPECT_EQ(r1[split]["tokens"], r2[split]["tokens"]) << split;
    for (size_t k = 0; k < r1[split]["sum"].size(); ++k) {
      EXPECT_LT(r1[split]["sum"][k].get<double>(), 0) << split << " " << k;
      EXPECT_NEAR(r1[split]["sum"][k].get<double>(), r2[split]["sum"][k].get<double>(), 1e-6) << split << " " << k;
    }
  }
  Metrics one = metrics(t.dir.file("one")), two = metrics(t.dir.file("two"));
  const std::vector<std::string> figures = {"loss", "grad_norm", "rewards/margins", "rewards/accuracies",
                                            "logps/chosen"};
  expect_same(one.steps, two.steps, figures);
  expect_same(one.evals, two.evals, {"eval_loss", "eval_rewards/margins"});
  // The 1-rank step-2 checkpoint resumed on 2 ranks, with the reference reused.
  fs::remove_all(t.dir.file("one/checkpoints/step-00000004"));
  ASSERT_EQ(run(t.dir, 2, t.dpo("one", extra + " --resume")), 0) << log_of(t.dir);
  EXPECT_NE(read_text(t.dir.file("log")).find("reference log-probs reused"), std::string::npos) << log_of(t.dir);
  Metrics resumed = metrics(t.dir.file("one"));
  ASSERT_EQ(resumed.steps.size(), 4u);
  expect_same(one.steps, std::vector<nlohmann::json>(resumed.steps.begin() + 2, resumed.steps.end()), figures, 2);
}

TEST(TuneDataParallel, DistillOnTwoRanksGivesOneRanksLosses) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  Tune t;
  write_tiny_chat_model(t.dir.file("teacher"), 32, 2);
  // Token shards of the chat lines in the shared tokenizer.
  auto tok = tokenizer::Tokenizer::load(t.dir.file("base/tokenizer.json"));
  for (const char* name : {"train.tok", "eval.tok"}) {
    data::TokShardWriter w(t.dir.file(name), tok.vocab_size(), tok.hash());
    for (int rep = 0; rep < 3; ++rep)
      for (const auto* lines : {&irish_lines(), &cantonese_lines()})
        for (const auto& l : *lines) w.add_document(tok.encode(l));
    w.finish();
  }
  auto distill = [&](const std::string& out) {
    return "distill --teacher " + t.dir.file("teacher") + " --student " + t.dir.file("base") + " " +
           t.dir.file("train.tok") + " --eval " + t.dir.file("eval.tok") + " -o " + t.dir.file(out) +
           " --steps 5 --batch-size 2 --seq-len 16 --grad-accum 4 --top-k 8 --alpha 0.7 --eval-batches 2 "
           "--lr 3e-3 --log-every 0";
  };
  ASSERT_EQ(run(t.dir, 1, distill("one")), 0) << log_of(t.dir);
  ASSERT_EQ(run(t.dir, 2, distill("two")), 0) << log_of(t.dir);
  EXPECT_EQ(count(read_text(t.dir.file("out")), "distilled 5 steps"), 1u) << log_of(t.dir);
  Metrics one = metrics(t.dir.file("one")), two = metrics(t.dir.file("two"));
  ASSERT_EQ(one.steps.size(), 5u);
  expect_same(one.steps, two.steps, {"loss", "grad_norm", "kd_loss", "ce_loss"});
  expect_same(one.evals, two.evals, {"eval_loss", "eval_kl"});
  EXPECT_TRUE(fs::exists(t.dir.file("two/model/model.safetensors")));
}

TEST(TuneDataParallel, GradAccumThatDoesNotSplitOverTheRanksIsRefused) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  Tune t;
  const std::string want = "grad_accum 3 is not a multiple of the 2 data-parallel ranks";
  EXPECT_NE(run(t.dir, 2, t.sft("sft", "--steps 2 --grad-accum 3")), 0);
  EXPECT_NE(log_of(t.dir).find(want), std::string::npos) << log_of(t.dir);
  EXPECT_FALSE(fs::exists(t.dir.file("sft/metrics.jsonl")));
  EXPECT_NE(run(t.dir, 2, t.dpo("dpo", "--steps 2 --grad-accum 3")), 0);
  EXPECT_NE(log_of(t.dir).find(want), std::string::npos) << log_of(t.dir);
  EXPECT_FALSE(fs::exists(t.dir.file("dpo/reference_logps.json")));  // refused before scoring
  EXPECT_NE(run(t.dir, 2,
                "distill --teacher " + t.dir.file("base") + " --student " + t.dir.file("base") + " " +
                    t.dir.file("none.tok") + " -o " + t.dir.file("distill") + " --steps 2 --grad-accum 3"),
            0);
  EXPECT_NE(log_of(t.dir).find(want), std::string::npos) << log_of(t.dir);
  // One rank takes any grad_accum.
  EXPECT_EQ(run(t.dir, 1, t.sft("sft1", "--steps 1 --grad-accum 3")), 0) << log_of(t.dir);
}

}  // namespace
}  // namespace nlm::testing
