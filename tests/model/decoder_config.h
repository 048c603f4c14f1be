// The small Llama the inference-engine tests run (decoder_test.cc, backend_decoder_test.cc):
// 3 layers, grouped-query attention (6 heads over 2 KV heads), a 67-token vocabulary.
#pragma once
#include "model/config.h"

namespace nlm::testing {

inline model::ModelConfig decoder_config(bool tied, bool bias, bool llama3, int positions = 64) {
  model::ModelConfig c;
  c.vocab_size = 67;
  c.hidden_size = 48;
  c.intermediate_size = 72;
  c.num_hidden_layers = 3;
  c.num_attention_heads = 6;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = positions;
  c.tie_word_embeddings = tied;
  c.attention_bias = bias;
  c.initializer_range = 0.2;
  if (llama3) {
    c.rope_scaling.type = "llama3";
    c.rope_scaling.factor = 8;
    c.rope_scaling.original_max_position_embeddings = 16;
  }
  return c;
}

}  // namespace nlm::testing
