// The inference engine against the training model: the same logits at every position (prefill
// and step), batched steps equal to unbatched ones bit for bit, prefix reuse through truncate,
// BF16/int8 weights within stated bounds, and the errors a caller can hit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.h"
#include "decoder_config.h"
#include "model/decoder.h"
#include "model/llama.h"
#include "tensor/backend.h"
#include "tensor/cpu/cpu_backend.h"

namespace nlm {
namespace {

using tensor::cpu::WeightFormat;

using testing::decoder_config;

std::vector<int32_t> tokens(int n, int V, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = static_cast<int32_t>(rng() % static_cast<uint32_t>(V));
  return t;
}

// Logits [T, V] of the training forward over `ids`.
std::vector<float> full_logits(model::Llama& m, const std::vector<int32_t>& ids) {
  model::Batch b;
  b.B = 1;
  b.T = static_cast<int>(ids.size());
  b.inputs = ids;
  b.targets.assign(ids.size(), -1);
  b.set_default_positions();
  m.forward(b);
  return m.logits();
}

// The kind of nlm::Error fn throws (the test fails when it throws nothing).
template <class F>
ErrorKind error_kind(F fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no nlm::Error thrown";
  return ErrorKind::Runtime;
}

double max_abs_diff(const float* a, const float* b, int64_t n) {
  double d = 0;
  for (int64_t i = 0; i < n; ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

// Prefills `prompt` of T tokens in chunks of `chunk`, then steps through the rest.
void expect_matches_forward(bool tied, bool bias, bool llama3, int T = 40, int chunk = 8, int prompt = 19) {
  auto cfg = decoder_config(tied, bias, llama3);
  cfg.max_position_embeddings = std::max<int64_t>(64, T);
  model::Llama m(cfg, tensor::cpu_backend());
  m.init_random(7);
  const auto ids = tokens(T, 67, 3);
  const auto ref = full_logits(m, ids);
  const int64_t V = cfg.vocab_size;
  model::Decoder d(m, {WeightFormat::F32, 2, 1, T, chunk});
  std::vector<float> z(static_cast<size_t>(V));
  d.prefill(0, ids.data(), prompt, z.data());
  EXPECT_LT(max_abs_diff(z.data(), ref.data() + (prompt - 1) * V, V), 2e-4);
  int argmax_agree = 0;
  for (int t = prompt; t < T; ++t) {
    const int32_t slot = 0;
    d.step(&slot, &ids[static_cast<size_t>(t)], 1, z.data());
    const float* r = ref.data() + int64_t(t) * V;
    EXPECT_LT(max_abs_diff(z.data(), r, V), 2e-4) << "position " << t;
    argmax_agree += std::max_element(z.begin(), z.end()) - z.begin() == std::max_element(r, r + V) - r;
  }
  EXPECT_EQ(argmax_agree, T - prompt);
  EXPECT_EQ(d.length(0), T);
}

// Decode steps on 2 and 3 threads (one thread team splitting every op, in uneven shares with 3)
// give the single-threaded forward's logits bit for bit, for every weight format: each value is
// computed by the same code whichever thread owns it. Heads of 16 take the vector attention.
TEST(Decoder, ThreadTeamsGiveTheSingleThreadLogitsBitForBit) {
  auto cfg = decoder_config(false, true, false);
  cfg.hidden_size = 64;
  cfg.num_attention_heads = 4;  // heads of 16 over 2 KV heads
  cfg.intermediate_size = 96;
  model::Llama m(cfg, tensor::cpu_backend());
  m.init_random(11);
  const int64_t V = cfg.vocab_size;
  const auto ids = tokens(30, 67, 4);
  for (auto fmt : {WeightFormat::F32, WeightFormat::BF16, WeightFormat::Q8}) {
    std::vector<std::vector<float>> got;
    for (int threads : {1, 2, 3}) {
      model::Decoder d(m, {fmt, threads, 2, 32, 256});
      std::vector<float> z(static_cast<size_t>(2 * V)), all;
      d.prefill(0, ids.data(), 5, z.data());
      d.prefill(1, ids.data() + 5, 3, z.data());
      for (int t = 8; t < 30; t += 2) {
        const int32_t slots[2] = {0, 1};
        d.step(slots, &ids[static_cast<size_t>(t)], 2, z.data());
        all.insert(all.end(), z.begin(), z.end());
      }
      // One-row steps, where part of each product's rows goes to whichever thread is free.
      for (int t = 0; t < 6; ++t) {
        const int32_t slot = 1;
        d.step(&slot, &ids[static_cast<size_t>(t)], 1, z.data());
        all.insert(all.end(), z.begin(), z.begin() + V);
      }
      got.push_back(all);
    }
    for (size_t k = 1; k < got.size(); ++k)
      for (size_t i = 0; i < got[0].size(); ++i)
        ASSERT_EQ(got[k][i], got[0][i]) << tensor::cpu::weight_format_name(fmt) << " threads " << k + 1 << " at " << i;
  }
}

// Chunks of 8, 8 and 3 rows: the row-by-row kernels.
TEST(Decoder, MatchesTrainingForwardUntied) { expect_matches_forward(false, false, false); }
// Chunks of 100 and 50 rows: the prompt path (sgemm linears, attention in tiles of 64 query rows
// against every earlier key, the second chunk after 100 cached positions).
TEST(Decoder, PromptChunksMatchTrainingForward) { expect_matches_forward(false, true, false, 160, 100, 150); }
TEST(Decoder, MatchesTrainingForwardTiedWithBiasAndLlama3Rope) { expect_matches_forward(true, true, true); }

TEST(Decoder, BatchedStepEqualsUnbatchedBitForBit) {
  auto cfg = decoder_config(false, true, false);
  model::Llama m(cfg, tensor::cpu_backend());
  m.init_random(5);
  const int64_t V = cfg.vocab_size;
  model::Decoder batched(m, {WeightFormat::F32, 2, 3, 32, 256});
  model::Decoder single(m, {WeightFormat::F32, 2, 1, 32, 256});
  std::vector<std::vector<int32_t>> prompts = {tokens(5, 67, 1), tokens(9, 67, 2), tokens(2, 67, 3)};
  std::vector<float> z(static_cast<size_t>(V)), zb(static_cast<size_t>(3 * V));
  for (int s = 0; s < 3; ++s) batched.prefill(s, prompts[s].data(), static_cast<int>(prompts[s].size()), z.data());
  // Unbatched reference: each sequence alone, one after another.
  std::vector<std::vector<float>> want(3);
  const auto next = tokens(3 * 6, 67, 9);
  for (int s = 0; s < 3; ++s) {
    single.truncate(0, 0);
    single.prefill(0, prompts[s].data(), static_cast<int>(prompts[s].size()), z.data());
    for (int t = 0; t < 6; ++t) {
      const int32_t slot = 0;
      single.step(&slot, &next[static_cast<size_t>(t * 3 + s)], 1, z.data());
      want[s].insert(want[s].end(), z.begin(), z.end());
    }
  }
  const int32_t order[3] = {2, 0, 1};  // slots in any order
  for (int t = 0; t < 6; ++t) {
    int32_t ids[3];
    for (int i = 0; i < 3; ++i) ids[i] = next[static_cast<size_t>(t * 3 + order[i])];
    batched.step(order, ids, 3, zb.data());
    for (int i = 0; i < 3; ++i)
      for (int64_t v = 0; v < V; ++v)
        ASSERT_EQ(zb[static_cast<size_t>(i * V + v)], want[order[i]][static_cast<size_t>(t * V + v)])
            << "step " << t << " slot " << order[i];
  }
}

TEST(Decoder, TruncateReusesAPrefix) {
  auto cfg = decoder_config(true, false, false);
  model::Llama m(cfg, tensor::cpu_backend());
  m.init_random(9);
  const int64_t V = cfg.vocab_size;
  model::Decoder d(m, {WeightFormat::F32, 1, 1, 64, 256});
  const auto a = tokens(12, 67, 4);
  auto b = a;
  b[8] = (b[8] + 1) % 67;  // shares the first 8 tokens
  std::vector<float> za(static_cast<size_t>(V)), zb(static_cast<size_t>(V));
  d.prefill(0, a.data(), 12, za.data());
  d.truncate(0, 8);
  EXPECT_EQ(d.length(0), 8);
  d.prefill(0, b.data() + 8, 4, zb.data());
  model::Decoder fresh(m, {WeightFormat::F32, 1, 1, 64, 256});
  fresh.prefill(0, b.data(), 12, za.data());
  EXPECT_EQ(za, zb);
  d.truncate(0, 100);  // never grows
  EXPECT_EQ(d.length(0), 12);
}

TEST(Decoder, ReducedPrecisionWeightsStayClose) {
  auto cfg = decoder_config(false, false, false);
  model::Llama m(cfg, tensor::cpu_backend());
  m.init_random(13);
  const int64_t V = cfg.vocab_size;
  const auto ids = tokens(24, 67, 8);
  std::vector<float> ref(static_cast<size_t>(V)), z(static_cast<size_t>(V));
  model::Decoder f32(m, {WeightFormat::F32, 2, 1, 32, 256});
  f32.prefill(0, ids.data(), 24, ref.data());
  double scale = 0;
  for (float v : ref) scale = std::max(scale, double(std::fabs(v)));
  // int8 quantises the activations too (blocks of 64, as llama.cpp's Q8_0 does), in the prompt
  // path as in decode: a prompt fed in chunks of 4 rows (the decode kernels) lands as close.
  for (auto [fmt, bound] : {std::pair{WeightFormat::BF16, 0.02}, std::pair{WeightFormat::Q8, 0.08}}) {
    model::Decoder d(m, {fmt, 2, 1, 32, 256});
    d.prefill(0, ids.data(), 24, z.data());
    const double err = max_abs_diff(z.data(), ref.data(), V) / scale;
    EXPECT_LT(err, bound) << tensor::cpu::weight_format_name(fmt);
    model::Decoder rows(m, {fmt, 2, 1, 32, 4});
    std::vector<float> zr(static_cast<size_t>(V));
    rows.prefill(0, ids.data(), 24, zr.data());
    EXPECT_LT(max_abs_diff(zr.data(), ref.data(), V) / scale, bound) << tensor::cpu::weight_format_name(fmt);
    // The two routes differ in fp32 sum order, and for int8 in the odd activation rounded the
    // other way; measured 1.5e-6 (bf16) and 8e-3 (int8).
    EXPECT_LT(max_abs_diff(zr.data(), z.data(), V) / scale, fmt == WeightFormat::Q8 ? 0.02 : 1e-4)
        << tensor::cpu::weight_format_name(fmt);
    EXPECT_GT(err, 0.0) << "a reduced format that changes nothing is not reduced";
    EXPECT_LT(d.weight_bytes(), f32.weight_bytes() * (fmt == WeightFormat::Q8 ? 0.3 : 0.55));
  }
}

TEST(Decoder, ClearErrors) {
  auto cfg = decoder_config(false, false, false);
  model::Llama m(cfg, tensor::cpu_backend());
  m.init_random(1);
  model::Decoder d(m, {WeightFormat::F32, 1, 2, 8, 4});
  std::vector<float> z(static_cast<size_t>(cfg.vocab_size));
  const auto ids = tokens(9, 67, 1);
  EXPECT_EQ(error_kind([&] { d.prefill(0, ids.data(), 9, z.data()); }), ErrorKind::Usage);  // 9 > context 8
  EXPECT_EQ(d.length(0), 0);
  const int32_t bad = 67;
  EXPECT_EQ(error_kind([&] { d.prefill(0, &bad, 1, z.data()); }), ErrorKind::Usage);
  EXPECT_EQ(error_kind([&] { d.prefill(0, ids.data(), 0, z.data()); }), ErrorKind::Usage);
  d.prefill(0, ids.data(), 8, z.data());
  const int32_t slot = 0;
  EXPECT_EQ(error_kind([&] { d.step(&slot, ids.data(), 1, z.data()); }), ErrorKind::Usage);  // full
  const int32_t twice[2] = {1, 1};
  EXPECT_THROW(d.step(twice, ids.data(), 2, z.data()), Error);
  EXPECT_THROW(d.length(2), Error);
}

TEST(Decoder, RefusesUnmergedLora) {
  auto cfg = decoder_config(false, false, false);
  model::Llama m(cfg, tensor::cpu_backend());
  m.init_random(1);
  model::LoraConfig lc;
  lc.rank = 2;
  m.add_lora(lc, 1);
  EXPECT_EQ(error_kind([&] { model::Decoder d(m); }), ErrorKind::Usage);
}

}  // namespace
}  // namespace nlm
