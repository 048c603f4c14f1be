// The model shape the training benchmarks share (bench_train, bench_sft), so their tokens/s
// compare: d=384, 6 layers, 6 heads, 2 KV heads, SwiGLU 1536, vocab 8192, untied (~19M
// parameters), batch 8 × seq 256.
#pragma once
#include "model/config.h"

namespace nlm::bench {

constexpr int kTrainB = 8, kTrainT = 256;

inline model::ModelConfig train_bench_config() {
  model::ModelConfig c;
  c.vocab_size = 8192;
  c.hidden_size = 384;
  c.intermediate_size = 1536;
  c.num_hidden_layers = 6;
  c.num_attention_heads = 6;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = kTrainT;
  c.tie_word_embeddings = false;
  return c;
}

}  // namespace nlm::bench
