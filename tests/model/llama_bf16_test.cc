// The Llama model in mixed precision (ModelOptions::dtype = BF16) against the same model in F32
// with the same (bf16-representable) weights: the loss, every parameter gradient (per parameter,
// by cosine and relative norm), LoRA adapters, greedy decoding, and HF checkpoints in and out.
// Also that the accum_dtype tensors (gradients) are F32 and that an unsupported dtype is a clear
// error. On the CPU backend here; the same model code runs on any backend with BF16 ops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "core/error.h"
#include "fake_backend.h"
#include "model/hf_checkpoint.h"
#include "model/safetensors.h"
#include "model_helpers.h"
#include "tensor/backend.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

using tensor::DType;

tensor::Backend& cpu() { return tensor::backend_for("cpu"); }

// Larger than tiny_config so the sums that bf16 rounds are of realistic length, still fast.
model::ModelConfig small_config(bool tied) {
  model::ModelConfig c = tiny_config(tied);
  c.vocab_size = 61;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.initializer_range = 0.1;
  return c;
}

std::vector<double> host(const tensor::Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  t.backend().download(t, v.data(), DType::F64);
  return v;
}

// Copies every parameter value of `from` into the parameter of the same name in `to`.
void copy_weights(model::Llama& from, model::Llama& to) {
  for (auto& p : from.params()) {
    model::Param* q = to.find(p.name);
    ASSERT_NE(q, nullptr) << p.name;
    std::vector<double> v = host(p.value);
    to.backend().upload(q->value, v.data(), DType::F64);
  }
}

// An F32 and a BF16 model holding the same weights: the F32 model's, rounded to bf16.
struct Pair {
  model::Llama f32, bf16;
  Pair(const model::ModelConfig& c, uint64_t seed, bool recompute = false)
      : f32(c, cpu(), {DType::F32, recompute}), bf16(c, cpu(), {DType::BF16, recompute}) {
    f32.init_random(seed);
    sync();
  }
  // bf16 ← f32 (rounding), then f32 ← bf16, so both compute from the same values.
  void sync() {
    copy_weights(f32, bf16);
    copy_weights(bf16, f32);
  }
};

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return aa == 0 && bb == 0 ? 1.0 : ab / std::sqrt(aa * bb);
}
// ‖a − b‖ / ‖b‖.
double rel_norm(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0, n = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]) * (a[i] - b[i]), n += b[i] * b[i];
  return n == 0 ? std::sqrt(d) : std::sqrt(d / n);
}

// bf16 keeps 8 significant bits: each rounding is ≤ 2^-9 relative, and a two-layer forward and
// backward compounds a few dozen of them. Measured on these models (CPU): cosine ≥ 0.9997 and
// relative norm ≤ 1.5e-2 for every parameter but the k_proj biases (2.7e-2: their gradient is
// nearly zero, as softmax ignores a shift shared by all keys); the bounds leave room for other
// backends' summation orders. A wrong op fails them by far; a gradient rounded to bf16 on the
// way is caught exactly by the micro-batch test below.
constexpr double kMinCosine = 0.999;
constexpr double kMaxRelNorm = 5e-2;

// Every trainable parameter's gradient in the BF16 model is F32 and close to the F32 model's.
void expect_gradients_close(model::Llama& b, model::Llama& f) {
  int compared = 0;
  for (auto& p : b.params()) {
    model::Param* q = f.find(p.name);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(p.value.dtype(), DType::BF16) << p.name;
    if (!p.trainable) continue;
    ASSERT_TRUE(p.grad.defined()) << p.name;
    EXPECT_EQ(p.grad.dtype(), DType::F32) << p.name;
    std::vector<double> gb = host(p.grad), gf = host(q->grad);
    EXPECT_GT(cosine(gb, gf), kMinCosine) << p.name;
    EXPECT_LT(rel_norm(gb, gf), kMaxRelNorm) << p.name;
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

void check_against_fp32(const model::ModelConfig& c, bool docs, uint64_t seed) {
  Pair m(c, seed);
  model::Batch batch = random_batch(3, 9, static_cast<int>(c.vocab_size), uint32_t(seed) + 1, docs);
  m.f32.zero_grad();
  m.bf16.zero_grad();
  const double lf = m.f32.forward(batch), lb = m.bf16.forward(batch);
  EXPECT_NEAR(lb, lf, 2e-3 * lf);  // measured ≤ 1.3e-4 relative
  // Host read-backs are widened: per-token losses, logits, residuals.
  std::vector<double> tb = m.bf16.token_losses(), tf = m.f32.token_losses();
  ASSERT_EQ(tb.size(), tf.size());
  for (size_t i = 0; i < tb.size(); ++i) EXPECT_NEAR(tb[i], tf[i], 2e-2 * std::max(1.0, tf[i])) << i;
  EXPECT_EQ(tb[1], 0.0);  // the ignored target
  std::vector<float> zb = m.bf16.logits(), zf = m.f32.logits();
  std::vector<double> zbd(zb.begin(), zb.end()), zfd(zf.begin(), zf.end());
  EXPECT_LT(rel_norm(zbd, zfd), kMaxRelNorm);
  EXPECT_EQ(m.bf16.residual(2).size(), m.f32.residual(2).size());
  m.f32.backward();
  m.bf16.backward();
  expect_gradients_close(m.bf16, m.f32);
}

TEST(LlamaBf16, UntiedWithDocumentMaskMatchesFp32) { check_against_fp32(small_config(false), true, 11); }
TEST(LlamaBf16, TiedMatchesFp32) { check_against_fp32(small_config(true), false, 12); }
TEST(LlamaBf16, QkvBiasAndLlama3RopeMatchFp32) {
  check_against_fp32(with_bias_and_llama3_rope(small_config(false)), true, 13);
}

TEST(LlamaBf16, RecomputationGivesIdenticalGradients) {
  auto c = small_config(false);
  model::Llama a(c, cpu(), {DType::BF16, false}), b(c, cpu(), {DType::BF16, true});
  a.init_random(14);
  b.init_random(14);
  auto batch = random_batch(2, 8, 61, 15, true);
  a.zero_grad();
  b.zero_grad();
  EXPECT_EQ(a.forward(batch), b.forward(batch));
  a.backward();
  b.backward();
  EXPECT_EQ(all_grads(a), all_grads(b));
}

TEST(LlamaBf16, GradientsAccumulateInFp32AcrossMicroBatches) {
  // Two backward passes of the same batch give twice the gradient exactly: nothing is rounded
  // to bf16 between them.
  model::Llama m(small_config(false), cpu(), {DType::BF16, false});
  m.init_random(16);
  auto batch = random_batch(2, 6, 61, 17, false);
  m.zero_grad();
  m.forward(batch);
  m.backward();
  std::vector<double> once = all_grads(m);
  m.forward(batch);
  m.backward();
  std::vector<double> twice = all_grads(m);
  ASSERT_EQ(once.size(), twice.size());
  for (size_t i = 0; i < once.size(); ++i)
    ASSERT_FLOAT_EQ(static_cast<float>(twice[i]), static_cast<float>(2 * once[i])) << i;
}

TEST(LlamaBf16, LoraAdaptersMatchFp32AndMerge) {
  auto c = small_config(false);
  Pair m(c, 18);
  model::LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 8;
  lc.dropout = 0.25;
  lc.targets = {"q_proj", "v_proj", "down_proj"};
  m.f32.add_lora(lc, 19);
  m.bf16.add_lora(lc, 19);
  // B starts at zero, which leaves A's gradient zero: give B values so both are exercised.
  for (auto& p : m.f32.params())
    if (p.name.ends_with("lora_B.weight")) {
      std::mt19937 rng(20);
      std::normal_distribution<double> d(0.0, 0.05);
      std::vector<double> v(static_cast<size_t>(p.value.numel()));
      for (double& x : v) x = d(rng);
      cpu().upload(p.value, v.data(), DType::F64);
    }
  m.sync();
  for (auto& p : m.bf16.params()) {
    if (p.adapter) {
      EXPECT_EQ(p.value.dtype(), DType::BF16) << p.name;
      EXPECT_EQ(p.grad.dtype(), DType::F32) << p.name;
    } else if (!p.is_norm_or_bias) {
      EXPECT_FALSE(p.trainable) << p.name;
    }
  }
  auto batch = random_batch(2, 8, 61, 21, true);
  m.f32.set_training(true, 5);  // dropout on: the same masks in both (a function of the seeds)
  m.bf16.set_training(true, 5);
  m.f32.zero_grad();
  m.bf16.zero_grad();
  const double lf = m.f32.forward(batch), lb = m.bf16.forward(batch);
  EXPECT_NEAR(lb, lf, 1e-2 * lf);
  m.f32.backward();
  m.bf16.backward();
  expect_gradients_close(m.bf16, m.f32);

  // Merging folds the adapters into the bf16 weights; every weight trains again, in F32 grads.
  m.bf16.set_training(false);
  const double before = m.bf16.forward(batch);
  m.bf16.merge_lora();
  for (auto& p : m.bf16.params()) {
    EXPECT_TRUE(p.trainable);
    EXPECT_EQ(p.grad.dtype(), DType::F32) << p.name;
  }
  EXPECT_NEAR(m.bf16.forward(batch), before, 2e-2 * before);
}

// Trains an F32 model (plain AdamW through the backend) until it predicts a fixed successor for
// every token, so greedy decoding has clear margins.
void train_successor(model::Llama& m, int steps) {
  auto& be = m.backend();
  const int V = static_cast<int>(m.config().vocab_size), B = 4, T = 16;
  std::vector<tensor::Tensor> mom, var;
  for (auto& p : m.params()) {
    mom.push_back(be.zeros(p.value.shape(), DType::F32));
    var.push_back(be.zeros(p.value.shape(), DType::F32));
  }
  for (int step = 1; step <= steps; ++step) {
    model::Batch b;
    b.B = B;
    b.T = T;
    for (int r = 0; r < B; ++r) {
      int tok = (step * 7 + r * 13) % V;
      for (int t = 0; t < T; ++t) {
        int next = (tok * 5 + 3) % V;
        b.inputs.push_back(tok);
        b.targets.push_back(next);
        tok = next;
      }
    }
    b.set_default_positions();
    m.zero_grad();
    m.forward(b);
    m.backward();
    for (size_t i = 0; i < m.params().size(); ++i) {
      auto& p = m.params()[i];
      be.adamw_update(p.value, p.grad, mom[i], var[i], 2e-2, 0.9, 0.95, 1e-8, 0.0, step);
    }
  }
}

std::vector<int32_t> greedy(model::Llama& m, std::vector<int32_t> prompt, int n,
                            std::vector<std::vector<float>>* logits = nullptr) {
  m.reset_cache(static_cast<int>(prompt.size()) + n);
  std::vector<float> z = m.decode(prompt);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    if (logits) logits->push_back(z);
    int32_t best = static_cast<int32_t>(std::max_element(z.begin(), z.end()) - z.begin());
    out.push_back(best);
    z = m.decode({best});
  }
  return out;
}

TEST(LlamaBf16, GreedyDecodingMatchesFp32) {
  auto c = small_config(false);
  c.vocab_size = 31;  // 5 is invertible mod 31: the successor rule is a permutation
  Pair m(c, 22);
  train_successor(m.f32, 60);
  m.sync();
  std::vector<std::vector<float>> zf, zb;
  const std::vector<int32_t> prompt = {4, 23, 25};  // follows the rule: 4 → 23 → 25
  std::vector<int32_t> want = greedy(m.f32, prompt, 12, &zf);
  std::vector<int32_t> got = greedy(m.bf16, prompt, 12, &zb);
  EXPECT_EQ(got, want);
  // The model learned the rule, so the comparison is between confident predictions.
  int tok = prompt.back(), followed = 0;
  for (int32_t t : want) followed += t == (tok = (tok * 5 + 3) % 31);
  EXPECT_GE(followed, 10);
  for (size_t s = 0; s < zf.size(); ++s) {
    std::vector<double> a(zb[s].begin(), zb[s].end()), b(zf[s].begin(), zf[s].end());
    EXPECT_LT(rel_norm(a, b), 2e-2) << "step " << s;  // measured ≤ 4e-3
  }
}

TEST(LlamaBf16, DecodeMatchesForwardLogits) {
  // The KV-cache path and the training forward agree in bf16 too (both round the same way up
  // to summation order).
  model::Llama m(small_config(false), cpu(), {DType::BF16, false});
  m.init_random(23);
  const std::vector<int32_t> toks = {3, 14, 15, 9, 26, 5};
  model::Batch b;
  b.B = 1;
  b.T = static_cast<int>(toks.size());
  b.inputs = toks;
  b.targets.assign(toks.size(), -1);
  b.set_default_positions();
  m.forward(b);
  std::vector<float> full = m.logits();
  m.reset_cache(8);
  m.decode({3, 14, 15});
  m.decode({9, 26});
  std::vector<float> last = m.decode({5});
  const size_t V = last.size();
  std::vector<double> a(last.begin(), last.end()), w(full.end() - V, full.end());
  EXPECT_LT(rel_norm(a, w), 2e-2);
}

TEST(LlamaBf16, WeightedAndLogitBackwardsMatchTheMeanLoss) {
  // backward() of the mean loss, backward_weighted() with weights 1/valid, and backward_logits()
  // with ∂L/∂logits computed on the host from logits() give the same gradients in bf16.
  model::Llama m(small_config(false), cpu(), {DType::BF16, false});
  m.init_random(25);
  auto batch = random_batch(2, 7, 61, 26, false);
  int valid = 0;
  for (int32_t t : batch.targets) valid += t >= 0;
  m.zero_grad();
  m.forward(batch);
  m.backward();
  std::vector<double> want = all_grads(m);

  std::vector<double> w(batch.targets.size());
  for (size_t n = 0; n < w.size(); ++n) w[n] = batch.targets[n] >= 0 ? 1.0 / valid : 0.0;
  m.zero_grad();
  m.forward(batch);
  m.backward_weighted(w);
  std::vector<double> weighted = all_grads(m);
  EXPECT_GT(cosine(weighted, want), 0.9999);
  EXPECT_LT(rel_norm(weighted, want), 1e-2);

  m.zero_grad();
  m.forward(batch);
  std::vector<float> z = m.logits();
  const size_t V = z.size() / w.size();
  std::vector<float> dz(z.size(), 0.0f);
  for (size_t n = 0; n < w.size(); ++n) {
    if (batch.targets[n] < 0) continue;
    const float* row = z.data() + n * V;
    double mx = *std::max_element(row, row + V), sum = 0;
    for (size_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
    for (size_t v = 0; v < V; ++v) {
      const double p = std::exp(row[v] - mx) / sum, onehot = int(v) == batch.targets[n];
      dz[n * V + v] = static_cast<float>((p - onehot) / valid);
    }
  }
  m.backward_logits(dz);
  std::vector<double> from_logits = all_grads(m);
  EXPECT_GT(cosine(from_logits, want), 0.9999);
  EXPECT_LT(rel_norm(from_logits, want), 1e-2);
}

TEST(LlamaBf16, DecodingWithoutCachedAttentionMatches) {
  // The fake backend lacks attention_cached, so decode falls back to attention_forward over the
  // cached rows: the same logits as the CPU backend's cached attention, in bf16, step by step.
  auto c = small_config(false);
  model::Llama a(c, cpu(), {DType::BF16, false}), b(c, fake_backend(), {DType::BF16, false});
  a.init_random(27);
  copy_weights(a, b);
  const int64_t before = fake_backend().calls(tensor::Op::AttentionForward);
  a.reset_cache(8);
  b.reset_cache(8);
  const std::vector<std::vector<int32_t>> steps = {{7, 8, 9}, {40}, {2}, {60, 1}};
  for (const auto& step : steps) {
    std::vector<float> za = a.decode(step), zb = b.decode(step);
    std::vector<double> x(za.begin(), za.end()), y(zb.begin(), zb.end());
    EXPECT_LT(rel_norm(x, y), 1e-2) << "after " << a.cache_length() << " tokens";
  }
  EXPECT_GT(fake_backend().calls(tensor::Op::AttentionForward), before);
}

TEST(LlamaBf16, UnsupportedDtypesAreClearErrors) {
  auto c = small_config(false);
  try {
    model::Llama m(c, cpu(), {DType::F16, false});
    FAIL() << "F16 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("F16"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("BF16"), std::string::npos) << e.what();
  }
  for (DType bad : {DType::I32, DType::U8}) {
    model::ModelOptions o;
    o.dtype = bad;
    EXPECT_THROW(model::Llama(c, cpu(), o), Error) << tensor::dtype_name(bad);
  }
}

TEST(LlamaBf16, CheckpointsLoadAndSaveInBothDtypes) {
  auto c = small_config(false);
  TempDir dir;
  model::Llama f(c, cpu(), {DType::F32, false});
  f.init_random(24);
  model::save_hf_model(dir.file("f32"), f);  // an F32 model saves F32 by default
  {
    model::SafetensorsReader r(dir.file("f32/model.safetensors"));
    EXPECT_EQ(r.find("lm_head.weight")->dtype, DType::F32);
  }
  // A BF16 model loads the F32 file rounded to nearest even.
  auto b = model::load_hf_model(dir.file("f32"), cpu(), {DType::BF16, false});
  EXPECT_EQ(b->dtype(), DType::BF16);
  for (auto& p : b->params()) {
    std::vector<double> want = host(f.find(p.name)->value), got = host(p.value);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got[i], tensor::bf16_to_f32(tensor::f32_to_bf16(static_cast<float>(want[i])))) << p.name;
  }
  // It saves BF16 by default, exactly, and says so in config.json.
  model::save_hf_model(dir.file("bf16"), *b);
  {
    model::SafetensorsReader r(dir.file("bf16/model.safetensors"));
    EXPECT_EQ(r.find("model.layers.0.mlp.up_proj.weight")->dtype, DType::BF16);
  }
  EXPECT_NE(read_text(dir.file("bf16/config.json")).find("\"bfloat16\""), std::string::npos);
  // Reloading the BF16 file into either dtype gives the same values bit for bit.
  auto b2 = model::load_hf_model(dir.file("bf16"), cpu(), {DType::BF16, false});
  auto f2 = model::load_hf_model(dir.file("bf16"), cpu(), {DType::F32, false});
  for (auto& p : b->params()) {
    EXPECT_EQ(host(b2->find(p.name)->value), host(p.value)) << p.name;
    EXPECT_EQ(host(f2->find(p.name)->value), host(p.value)) << p.name;
  }
  // An explicit dtype still wins.
  model::SaveOptions so;
  so.dtype = DType::F32;
  model::save_hf_model(dir.file("bf16-as-f32"), *b, so);
  model::SafetensorsReader r(dir.file("bf16-as-f32/model.safetensors"));
  EXPECT_EQ(r.find("model.norm.weight")->dtype, DType::F32);
}

}  // namespace
}  // namespace nlm::testing
