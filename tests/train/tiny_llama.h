// A tiny Llama (2 layers, biases, GQA) and deterministic batches of two rows with two documents
// each, for tests that train a few steps through the model directly.
#pragma once
#include "model/config.h"
#include "model/llama.h"

namespace nlm::testing {

inline model::ModelConfig seam_config() {
  model::ModelConfig c;
  c.vocab_size = 29;
  c.hidden_size = 16;
  c.intermediate_size = 24;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 32;
  c.attention_bias = true;
  c.initializer_range = 0.3;
  return c;
}

// Two rows of 8 tokens, two documents per row (positions restart), one ignored target.
inline model::Batch seam_batch(int step) {
  model::Batch b;
  b.B = 2;
  b.T = 8;
  for (int i = 0; i < 16; ++i) {
    b.inputs.push_back((i * 7 + step * 3 + 1) % 29);
    b.targets.push_back((i * 5 + step + 2) % 29);
  }
  b.targets[3] = -1;
  b.set_default_positions();
  for (int r = 0; r < 2; ++r)
    for (int t = 0; t < 8; ++t) {
      int cut = 3 + r;
      b.docs.push_back(t < cut ? 0 : 1);
      b.positions[r * 8 + t] = t < cut ? t : t - cut;
    }
  return b;
}

}  // namespace nlm::testing
