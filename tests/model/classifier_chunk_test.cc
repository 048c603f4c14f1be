// The chunked classifier (model/classifier.h): the LM head and cross-entropy computed over chunks of
// rows give the same loss, per-token losses, logits and gradients as one chunk of all B·T rows, for
// every backward variant (mean loss, fused forward_backward, per-token weights, given dlogits), with
// chunks that do not divide B·T, a chunk larger than B·T, ignored targets (a whole chunk of them
// too), and in BF16; finite differences check a chunked model's gradients in F64.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "core/error.h"
#include "model/classifier.h"
#include "model_helpers.h"
#include "tensor/backend.h"
#include "tensor/cpu/cpu_backend.h"

namespace nlm::testing {
namespace {

using tensor::DType;

tensor::Backend& cpu() { return tensor::backend_for("cpu"); }

// A model in `dt` whose classifier runs chunk_rows rows at a time, with weights from `seed`.
std::unique_ptr<model::Llama> make_model(const model::ModelConfig& c, DType dt, int64_t chunk_rows, uint64_t seed) {
  model::ModelOptions o;
  o.dtype = dt;
  o.classifier_chunk_rows = chunk_rows;
  auto m = std::make_unique<model::Llama>(c, cpu(), o);
  m->init_random(seed);
  return m;
}

// ‖a − b‖ / ‖b‖ (‖a − b‖ when b = 0).
double rel(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0, n = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d += (a[i] - b[i]) * (a[i] - b[i]), n += b[i] * b[i];
  return n == 0 ? std::sqrt(d) : std::sqrt(d / n);
}
std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// rows 0..T−1 of batch row 1 ignored: with chunk 3 and T = 5 that covers chunk [6, 9) whole.
model::Batch batch_with_ignored(int B, int T, int V, uint32_t seed) {
  model::Batch b = random_batch(B, T, V, seed, true);
  for (int t = 0; t < T; ++t) b.targets[static_cast<size_t>(T + t)] = -1;
  return b;
}

// Every backward variant of a model with `chunk` rows per chunk against the same model in one chunk.
void expect_chunked_matches(const model::ModelConfig& c, DType dt, int64_t chunk, double tol) {
  SCOPED_TRACE("chunk " + std::to_string(chunk));
  const int B = 3, T = 5, N = B * T;
  auto ref_owner = make_model(c, dt, N, 21), m_owner = make_model(c, dt, chunk, 21);
  model::Llama &ref = *ref_owner, &m = *m_owner;
  const model::Batch batch = batch_with_ignored(B, T, static_cast<int>(c.vocab_size), 22);

  // Mean loss: forward, then backward (which recomputes the head's logits chunk by chunk).
  ref.zero_grad();
  m.zero_grad();
  const double lr = ref.forward(batch), lm = m.forward(batch);
  EXPECT_NEAR(lm, lr, tol * std::abs(lr));
  EXPECT_LT(rel(m.token_losses(), ref.token_losses()), tol);
  EXPECT_EQ(m.token_losses()[static_cast<size_t>(T + 2)], 0.0);  // ignored
  EXPECT_LT(rel(widen(m.logits()), widen(ref.logits())), tol);
  ref.backward(0.5);
  m.backward(0.5);
  EXPECT_LT(rel(all_grads(m), all_grads(ref)), tol) << "backward";

  // The fused pass gives the same loss and gradients as forward + backward.
  ref.zero_grad();
  m.zero_grad();
  EXPECT_NEAR(m.forward_backward(batch, 0.5), lr, tol * std::abs(lr));
  EXPECT_LT(rel(m.token_losses(), ref.token_losses()), tol);
  ref.forward(batch);
  ref.backward(0.5);
  EXPECT_LT(rel(all_grads(m), all_grads(ref)), tol) << "forward_backward";

  // Per-token weights of both signs (DPO's backward).
  std::vector<double> w(N);
  for (int n = 0; n < N; ++n) w[static_cast<size_t>(n)] = 0.3 * (n % 4) - 0.4;
  ref.zero_grad();
  m.zero_grad();
  ref.forward(batch);
  m.forward(batch);
  ref.backward_weighted(w);
  m.backward_weighted(w);
  EXPECT_LT(rel(all_grads(m), all_grads(ref)), tol) << "backward_weighted";

  // ∂L/∂logits given on the host (distillation's backward).
  std::vector<float> d(static_cast<size_t>(N * c.vocab_size));
  std::mt19937 rng(23);
  std::normal_distribution<float> g(0, 0.1f);
  for (float& x : d) x = g(rng);
  ref.zero_grad();
  m.zero_grad();
  ref.forward(batch);
  m.forward(batch);
  ref.backward_logits(d);
  m.backward_logits(d);
  EXPECT_LT(rel(all_grads(m), all_grads(ref)), tol) << "backward_logits";
}

TEST(ClassifierChunk, ChunkRowsFollowTheByteBudget) {
  // 128 MiB of logits: 1048 fp32 rows of a 32000 vocabulary, 2097 bf16 rows.
  EXPECT_EQ(model::classifier_chunk_rows(0, 8192, 32000, DType::F32), 1048);
  EXPECT_EQ(model::classifier_chunk_rows(0, 8192, 32000, DType::BF16), 2097);
  EXPECT_EQ(model::classifier_chunk_rows(0, 100000, 256000, DType::F32), 512);  // the floor
  EXPECT_EQ(model::classifier_chunk_rows(0, 100, 32000, DType::F32), 100);     // never beyond N
  EXPECT_EQ(model::classifier_chunk_rows(7, 100, 32000, DType::F32), 7);       // asked for
  EXPECT_EQ(model::classifier_chunk_rows(500, 100, 13, DType::F64), 100);
  EXPECT_EQ(model::classifier_chunk_rows(-3, 1, 13, DType::F64), 1);
}

TEST(ClassifierChunk, F64ChunksMatchOneChunk) {
  for (bool tied : {false, true})
    for (int64_t chunk : {1, 3, 4, 15, 64}) expect_chunked_matches(tiny_config(tied), DType::F64, chunk, 1e-12);
}

TEST(ClassifierChunk, F32ChunksMatchOneChunk) {
  for (int64_t chunk : {2, 7}) expect_chunked_matches(tiny_config(false), DType::F32, chunk, 1e-5);
}

TEST(ClassifierChunk, Bf16ChunksMatchOneChunk) {
  auto c = tiny_config(true);
  c.vocab_size = 61;
  c.initializer_range = 0.1;
  // Per-row results are the same ops on the same rows; only the LM head's fp32 dW sums split
  // differently (a chunk's sum, then +=), so the bf16 model matches its one-chunk self closely.
  for (int64_t chunk : {4, 6}) expect_chunked_matches(c, DType::BF16, chunk, 1e-5);
}

// Finite differences of the loss against a model that runs its head in chunks of 4 of 10 rows.
TEST(ClassifierChunk, ChunkedGradientsMatchFiniteDifferences) {
  auto& cpu_be = static_cast<tensor::CpuBackend&>(tensor::cpu_backend());
  const int threads = cpu_be.threads();
  cpu_be.set_threads(1);
  for (bool tied : {false, true}) {
    auto owner = make_model(tiny_config(tied), DType::F64, 4, 31);
    model::Llama& m = *owner;
    model::Batch batch = random_batch(2, 5, 13, 32, true);
    m.zero_grad();
    m.forward_backward(batch);
    EXPECT_GT(check_param_gradients(m, batch, [](const model::Param& p) {
                return p.name == "lm_head.weight" || p.name == "model.embed_tokens.weight" ||
                       p.name == "model.norm.weight" || p.name.starts_with("model.layers.1.mlp.down");
              }),
              150);
  }
  cpu_be.set_threads(threads);
}

TEST(ClassifierChunk, AllTargetsIgnoredGiveZeroLossAndNoGradient) {
  auto owner = make_model(tiny_config(false), DType::F64, 3, 41);
  model::Llama& m = *owner;
  model::Batch batch = random_batch(2, 5, 13, 42, false);
  for (auto& t : batch.targets) t = -1;
  m.zero_grad();
  EXPECT_EQ(m.forward_backward(batch), 0.0);
  for (double g : all_grads(m)) ASSERT_EQ(g, 0.0);
  for (double l : m.token_losses()) EXPECT_EQ(l, 0.0);
}

TEST(ClassifierChunk, TargetBeyondTheVocabularyNamesItsRow) {
  auto owner = make_model(tiny_config(false), DType::F64, 3, 51);
  model::Llama& m = *owner;
  model::Batch batch = random_batch(2, 5, 13, 52, false);
  batch.targets[7] = 13;
  try {
    m.forward(batch);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("target id 13 >= vocabulary 13 (row 7)"), std::string::npos) << e.what();
  }
}

TEST(ClassifierChunk, FrozenModelRefusesTheFusedStep) {
  auto owner = make_model(tiny_config(false), DType::F64, 3, 61);
  model::Llama& m = *owner;
  m.freeze();
  model::Batch batch = random_batch(2, 5, 13, 62, false);
  EXPECT_THROW(m.forward_backward(batch), Error);
  EXPECT_GT(m.forward(batch), 0.0);  // forward still works
}

TEST(ClassifierChunk, BackwardLogitsChecksItsSize) {
  auto owner = make_model(tiny_config(false), DType::F64, 3, 71);
  model::Llama& m = *owner;
  model::Batch batch = random_batch(2, 5, 13, 72, false);
  m.forward(batch);
  EXPECT_THROW(m.backward_logits(std::vector<float>(10 * 13 - 1)), Error);
  EXPECT_THROW(m.backward_weighted(std::vector<double>(9)), Error);
}

}  // namespace
}  // namespace nlm::testing
