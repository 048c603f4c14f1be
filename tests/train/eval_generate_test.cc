// Rolling-window perplexity (every token scored once, windows agree with one long pass),
// sampling rules, and the train / generate / eval ppl commands end to end.
#include <gtest/gtest.h>

#include <cmath>

#include "data/token_shard.h"
#include "eval/perplexity.h"
#include "model/hf_checkpoint.h"
#include "model/sampler.h"
#include "tensor/backend.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

model::ModelConfig small_config() {
  model::ModelConfig c;
  c.vocab_size = 50;
  c.hidden_size = 16;
  c.intermediate_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 32;
  c.bos_token_id = 1;
  c.initializer_range = 0.2;
  return c;
}

TEST(Perplexity, RollingWindowsScoreEveryTokenOnce) {
  model::Llama m(small_config(), tensor::backend_for("cpu"));
  m.init_random(1);
  std::vector<std::vector<int32_t>> docs = {{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {3, 4}};
  eval::PerplexityOptions big;
  big.max_length = 32;
  auto full = eval::rolling_perplexity(m, docs, {20, 4}, big);
  EXPECT_EQ(full.tokens, 13u);
  EXPECT_EQ(full.documents, 2u);
  // One pass over [BOS, doc] scores the same tokens.
  model::Batch b;
  b.B = 1;
  b.T = 11;
  b.inputs = {1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  b.targets = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  b.set_default_positions();
  m.forward(b);
  double nll0 = 0;
  for (double x : m.token_losses()) nll0 += x;
  b.T = 2;
  b.inputs = {1, 3};
  b.targets = {3, 4};
  b.set_default_positions();
  m.forward(b);
  for (double x : m.token_losses()) nll0 += x;
  EXPECT_NEAR(full.nll, nll0, 1e-4);
  EXPECT_NEAR(full.bits_per_byte(), full.nll / std::log(2.0) / 24, 1e-12);
  // Short windows still score each token exactly once (with less context).
  eval::PerplexityOptions small;
  small.max_length = 4;
  auto part = eval::rolling_perplexity(m, docs, {20, 4}, small);
  EXPECT_EQ(part.tokens, 13u);
  EXPECT_NE(part.nll, full.nll);
}

TEST(Sampler, GreedyTopKAndSeeds) {
  std::vector<float> logits = {0.1f, 3.0f, 2.9f, -1.0f};
  model::SamplingOptions g;
  g.temperature = 0;
  EXPECT_EQ(model::Sampler(g).sample(logits, {}), 1);
  g.repetition_penalty = 2.0;  // 3.0/2 < 2.9: the seen token loses
  EXPECT_EQ(model::Sampler(g).sample(logits, {1}), 2);
  model::SamplingOptions k;
  k.temperature = 1.0;
  k.top_k = 2;
  k.top_p = 1.0;
  k.seed = 5;
  model::Sampler s(k);
  std::vector<int> counts(4);
  for (int i = 0; i < 400; ++i) ++counts[s.sample(logits, {})];
  EXPECT_EQ(counts[0] + counts[3], 0);
  EXPECT_GT(counts[1], 100);
  EXPECT_GT(counts[2], 100);
  k.min_p = 0.99;  // only the top token survives
  model::Sampler mp(k);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(mp.sample(logits, {}), 1);
}

TEST(Cli, TrainGenerateEvalPpl) {
  TempDir dir;
  {
    data::TokShardWriter w(dir.file("t.tok"), 256, Hash128{});
    std::string text = "nativelm trains small models. ";
    for (int d = 0; d < 8; ++d) {
      std::vector<uint32_t> t(text.begin(), text.end());
      w.add_document(t);
    }
    w.finish();
  }
  write_text(dir.file("c.yaml"),
             "model:\n  vocab_size: 256\n  hidden_size: 32\n  intermediate_size: 64\n  num_hidden_layers: 1\n"
             "  num_attention_heads: 4\n  num_key_value_heads: 1\n  max_position_embeddings: 64\n"
             "  eos_token_id: 10\nbatch_size: 2\nseq_len: 32\nlog_every: 0\n");
  auto r = run_nativelm("--threads 1 train " + dir.file("c.yaml") + " --out " + dir.file("run") + " --train " +
                            dir.file("t.tok") + " --eval " + dir.file("t.tok") +
                            " --steps 30 --lr 0.01 --warmup-steps 3 --eval-batches 2",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trained 30 steps"), std::string::npos);
  r = run_nativelm("generate -m " + dir.file("run/model") + " --prompt-ids '110 97' --max-tokens 5 --temperature 0",
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int n = 0;
  for (char c : r.out) n += c == ' ';
  EXPECT_EQ(n, 4) << r.out;  // five ids
  r = run_nativelm("eval ppl -m " + dir.file("run/model") + " " + dir.file("t.tok") + " --json", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"tokens\":240"), std::string::npos) << r.out;

  // Errors: no data (usage, exit 2), a bad prompt id, a missing model.
  r = run_nativelm("train " + dir.file("c.yaml") + " --out " + dir.file("x"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nativelm: error: "), std::string::npos);
  r = run_nativelm("generate -m " + dir.file("run/model") + " --prompt-ids '9999'", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  r = run_nativelm("eval ppl -m " + dir.file("nope") + " " + dir.file("t.tok"), dir.path());
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace nlm::testing
