// Rolling-window perplexity: every token is scored once, and windows long enough for a document
// agree with one long pass over it.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/perplexity.h"
#include "model/llama.h"
#include "tensor/backend.h"

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

}  // namespace
}  // namespace nlm::testing
