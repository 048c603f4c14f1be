// Whole-model gradient checks: every parameter element of a tiny Llama in fp64 against central
// finite differences of the loss, for tied and untied embeddings, GQA and MHA, document
// masking, QKV bias and llama3 RoPE scaling; plus recomputation and fp32-vs-fp64 agreement.
#include <gtest/gtest.h>

#include <cmath>

#include "model_helpers.h"
#include "tensor/backend.h"
#include "tensor/cpu/cpu_backend.h"

namespace nlm::testing {
namespace {

using tensor::DType;

void check_model_gradients(const model::ModelConfig& cfg, bool docs, uint32_t seed) {
  auto& be = tensor::cpu_backend();
  // Thousands of tiny forwards: one thread avoids OpenMP start-up cost on a busy machine.
  auto& cpu = static_cast<tensor::CpuBackend&>(be);
  int threads = cpu.threads();
  cpu.set_threads(1);
  model::Llama m(cfg, be, {DType::F64, false});
  m.init_random(seed);
  model::Batch batch = random_batch(2, 5, static_cast<int>(cfg.vocab_size), seed + 1, docs);
  m.zero_grad();
  m.forward(batch);
  m.backward();
  EXPECT_GT(check_param_gradients(m, batch, [](const model::Param&) { return true; }), 500);
  cpu.set_threads(threads);
}

TEST(LlamaGrad, UntiedGqa) { check_model_gradients(tiny_config(false), false, 1); }
TEST(LlamaGrad, TiedGqa) { check_model_gradients(tiny_config(true), false, 2); }
TEST(LlamaGrad, UntiedMhaWithDocumentMask) { check_model_gradients(tiny_config(false, false), true, 3); }
TEST(LlamaGrad, TiedGqaWithDocumentMask) { check_model_gradients(tiny_config(true), true, 4); }
TEST(LlamaGrad, QkvBiasAndLlama3Rope) {
  check_model_gradients(with_bias_and_llama3_rope(tiny_config(false)), true, 5);
}

TEST(Llama, RecomputationGivesIdenticalGradients) {
  auto& be = tensor::cpu_backend();
  auto cfg = tiny_config(false);
  model::Llama a(cfg, be, {DType::F32, false}), b(cfg, be, {DType::F32, true});
  a.init_random(7);
  b.init_random(7);
  auto batch = random_batch(3, 6, 13, 8, true);
  a.zero_grad();
  b.zero_grad();
  EXPECT_EQ(a.forward(batch), b.forward(batch));
  a.backward();
  b.backward();
  EXPECT_EQ(all_grads(a), all_grads(b));
}

TEST(Llama, Fp32MatchesFp64) {
  auto& be = tensor::cpu_backend();
  auto cfg = tiny_config(true);
  model::Llama a(cfg, be, {DType::F32, false}), b(cfg, be, {DType::F64, false});
  a.init_random(9);
  b.init_random(9);
  auto batch = random_batch(2, 7, 13, 10, false);
  a.zero_grad();
  b.zero_grad();
  EXPECT_NEAR(a.forward(batch), b.forward(batch), 1e-5);
  a.backward();
  b.backward();
  auto ga = all_grads(a), gb = all_grads(b);
  for (size_t i = 0; i < ga.size(); ++i) EXPECT_NEAR(ga[i], gb[i], 1e-4 * std::max(1.0, std::abs(gb[i])));
}

TEST(Llama, KvCacheDecodingMatchesFullForward) {
  auto& be = tensor::cpu_backend();
  auto cfg = tiny_config(false);
  model::Llama m(cfg, be, {DType::F64, false});
  m.init_random(11);
  // Full forward over 6 tokens: the loss of target y at position t equals −log softmax(logits_t)[y].
  std::vector<int32_t> toks = {3, 1, 4, 1, 5, 9};
  m.reset_cache(8);
  std::vector<float> l1 = m.decode({3, 1, 4});
  std::vector<float> l2 = m.decode({1});
  std::vector<float> l3 = m.decode({5, 9});
  EXPECT_EQ(m.cache_length(), 6);
  auto nll = [](const std::vector<float>& z, int y) {
    double mx = z[0], s = 0;
    for (float v : z) mx = std::max(mx, double(v));
    for (float v : z) s += std::exp(v - mx);
    return std::log(s) + mx - z[y];
  };
  model::Batch b;
  b.B = 1;
  b.T = 6;
  b.inputs = toks;
  b.targets = {-1, -1, 7, 2, -1, 6};
  b.set_default_positions();
  m.forward(b);
  auto losses = m.token_losses();
  EXPECT_NEAR(losses[2], nll(l1, 7), 1e-5);
  EXPECT_NEAR(losses[3], nll(l2, 2), 1e-5);
  EXPECT_NEAR(losses[5], nll(l3, 6), 1e-5);
}

}  // namespace
}  // namespace nlm::testing
