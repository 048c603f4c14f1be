// Shared helpers for the model tests: tiny configs and random packed batches.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "model/config.h"
#include "model/llama.h"

namespace nlm::testing {

inline model::ModelConfig tiny_config(bool tied, bool gqa = true) {
  model::ModelConfig c;
  c.vocab_size = 13;
  c.hidden_size = 8;
  c.intermediate_size = 12;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = gqa ? 2 : 4;
  c.head_dim = 4;  // q width 16 ≠ hidden 8: exercises an explicit head_dim
  c.max_position_embeddings = 64;
  c.tie_word_embeddings = tied;
  c.initializer_range = 0.5;  // large weights so every path carries signal in a gradient check
  return c;
}

// c as a Qwen2-style model with QKV biases and Llama 3.1 RoPE scaling (short original context,
// so the scaling changes every frequency band).
inline model::ModelConfig with_bias_and_llama3_rope(model::ModelConfig c) {
  c.model_type = "qwen2";
  c.attention_bias = true;
  c.rope_scaling.type = "llama3";
  c.rope_scaling.factor = 8;
  c.rope_scaling.original_max_position_embeddings = 4;
  return c;
}

// Every defined parameter gradient of m, concatenated in parameter order, on the host.
inline std::vector<double> all_grads(model::Llama& m) {
  std::vector<double> out;
  for (auto& p : m.params()) {
    if (!p.grad.defined()) continue;
    std::vector<double> g(static_cast<size_t>(p.grad.numel()));
    m.backend().download(p.grad, g.data(), tensor::DType::F64);
    out.insert(out.end(), g.begin(), g.end());
  }
  return out;
}

// B rows of T tokens; with docs, each row holds two documents and positions restart.
inline model::Batch random_batch(int B, int T, int V, uint32_t seed, bool docs) {
  std::mt19937 rng(seed);
  model::Batch b;
  b.B = B;
  b.T = T;
  for (int i = 0; i < B * T; ++i) {
    b.inputs.push_back(static_cast<int32_t>(rng() % V));
    b.targets.push_back(static_cast<int32_t>(rng() % V));
  }
  b.targets[1] = -1;  // an ignored target
  b.set_default_positions();
  if (docs) {
    for (int r = 0; r < B; ++r) {
      int cut = 1 + r % (T - 1);
      for (int t = 0; t < T; ++t) {
        b.docs.push_back(t < cut ? 0 : 1);
        b.positions[r * T + t] = t < cut ? t : t - cut;
      }
    }
  }
  return b;
}

// Checks the gradients of the last forward+backward of `batch` (already in the params' grads) for
// every element of every param `which` selects, against central finite differences of the loss
// (fp64 models); returns how many elements it checked.
inline int check_param_gradients(model::Llama& m, const model::Batch& batch,
                                 const std::function<bool(const model::Param&)>& which) {
  auto& be = m.backend();
  const double h = 1e-6;
  int checked = 0;
  for (auto& p : m.params()) {
    if (!which(p)) continue;
    std::vector<double> value(p.value.numel()), grad(p.value.numel());
    be.download(p.value, value.data(), tensor::DType::F64);
    be.download(p.grad, grad.data(), tensor::DType::F64);
    for (size_t i = 0; i < value.size(); ++i) {
      double orig = value[i];
      value[i] = orig + h;
      be.upload(p.value, value.data(), tensor::DType::F64);
      double lp = m.forward(batch);
      value[i] = orig - h;
      be.upload(p.value, value.data(), tensor::DType::F64);
      double lm = m.forward(batch);
      value[i] = orig;
      be.upload(p.value, value.data(), tensor::DType::F64);
      double numeric = (lp - lm) / (2 * h);
      EXPECT_NEAR(grad[i], numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << p.name << "[" << i << "]";
      if (std::abs(grad[i] - numeric) > 1e-6 * std::max(1.0, std::abs(numeric))) return checked;  // one report
      ++checked;
    }
  }
  return checked;
}

}  // namespace nlm::testing
