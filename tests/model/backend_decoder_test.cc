// The server's decoder for non-CPU devices (`serve --device cuda`): the model's own KV-cache path
// with a cache per slot. Run on the test's "fake" backend (the CPU kernels under another name),
// it must give the CPU inference engine's logits for prompts, every-row scoring and interleaved
// steps, reuse a truncated prefix, and refuse what the engine refuses while keeping every slot.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.h"
#include "decoder_config.h"
#include "fake_backend.h"
#include "model/backend_decoder.h"
#include "model/decoder.h"
#include "model/llama.h"
#include "tensor/backend.h"

namespace nlm {
namespace {

model::ModelConfig config() { return testing::decoder_config(/*tied=*/false, /*bias=*/false, /*llama3=*/false, 96); }

std::vector<int32_t> tokens(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = static_cast<int32_t>(rng() % 67u);
  return t;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

struct Pair {
  std::unique_ptr<model::Decoder> cpu;
  std::unique_ptr<model::BackendDecoder> dev;
  explicit Pair(int slots, int context = 96) {
    model::Llama reference(config(), tensor::backend_for("cpu"));
    reference.init_random(11);
    cpu = std::make_unique<model::Decoder>(reference, model::DecoderOptions{tensor::cpu::WeightFormat::F32, 1, slots, context, 256});
    auto m = std::make_unique<model::Llama>(config(), testing::fake_backend());
    m->init_random(11);
    dev = std::make_unique<model::BackendDecoder>(std::move(m), slots, context);
  }
};

constexpr double kTol = 2e-4;  // the packed engine and the backend's kernels sum in other orders

TEST(BackendDecoder, PromptsAndInterleavedStepsGiveTheEnginesLogits) {
  Pair p(3);
  const int64_t V = 67;
  std::vector<float> a(static_cast<size_t>(3 * V)), b(a.size());
  // Prompts of different lengths in three slots (one long enough to be fed in two chunks).
  for (int s = 0; s < 3; ++s) {
    const auto ids = tokens(5 + 7 * s, 100u + static_cast<uint32_t>(s));
    p.cpu->prefill(s, ids.data(), static_cast<int>(ids.size()), a.data());
    p.dev->prefill(s, ids.data(), static_cast<int>(ids.size()), b.data());
    EXPECT_LT(max_abs_diff({a.begin(), a.begin() + V}, {b.begin(), b.begin() + V}), kTol) << "slot " << s;
  }
  // Steps of all three slots, then of two, as a continuous batch does.
  for (int t = 0; t < 12; ++t) {
    const int32_t slots[3] = {2, 0, 1};
    const int32_t ids[3] = {static_cast<int32_t>(t % 67), static_cast<int32_t>((t * 5) % 67), 3};
    const int n = t < 6 ? 3 : 2;
    p.cpu->step(slots, ids, n, a.data());
    p.dev->step(slots, ids, n, b.data());
    std::vector<float> x(a.begin(), a.begin() + n * V), y(b.begin(), b.begin() + n * V);
    EXPECT_LT(max_abs_diff(x, y), kTol) << "step " << t;
  }
  for (int s = 0; s < 3; ++s) EXPECT_EQ(p.dev->tokens(s), p.cpu->tokens(s));
  EXPECT_EQ(p.dev->length(1), 5 + 7 + 6);
}

TEST(BackendDecoder, EveryRowScoringAcrossChunksMatches) {
  Pair p(1, 96);
  const auto ids = tokens(90, 7);
  const int64_t V = 67;
  std::vector<float> a(static_cast<size_t>(90 * V)), b(a.size());
  p.cpu->prefill(0, ids.data(), 90, a.data(), /*every_row=*/true);
  p.dev->prefill(0, ids.data(), 90, b.data(), /*every_row=*/true);
  EXPECT_LT(max_abs_diff(a, b), kTol);
}

TEST(BackendDecoder, ATruncatedSlotFeedsOnlyTheRestAndMatchesAFreshOne) {
  Pair p(2);
  const int64_t V = 67;
  const auto first = tokens(30, 1);
  auto second = first;
  second.resize(20);
  const auto tail = tokens(9, 2);
  second.insert(second.end(), tail.begin(), tail.end());
  std::vector<float> z(static_cast<size_t>(V)), fresh(z.size());
  p.dev->prefill(0, first.data(), 30, z.data());
  const int reused = p.dev->reuse_prefix(0, second);
  EXPECT_EQ(reused, 20);
  p.dev->prefill(0, second.data() + reused, static_cast<int>(second.size()) - reused, z.data());
  p.dev->prefill(1, second.data(), static_cast<int>(second.size()), fresh.data());
  EXPECT_LT(max_abs_diff(z, fresh), 1e-5);
  EXPECT_EQ(p.dev->tokens(0), second);
}

TEST(BackendDecoder, RefusesWhatTheEngineRefusesAndKeepsEverySlot) {
  Pair p(2, 16);
  const int64_t V = 67;
  std::vector<float> z(static_cast<size_t>(2 * V));
  const auto ids = tokens(10, 3);
  p.dev->prefill(0, ids.data(), 10, z.data());
  const int32_t bad[2] = {5, 67};
  EXPECT_THROW(p.dev->prefill(1, bad, 2, z.data()), Error);                // id past the vocabulary
  EXPECT_THROW(p.dev->prefill(0, ids.data(), 7, z.data()), Error);         // 17 > context 16
  EXPECT_THROW(p.dev->prefill(0, ids.data(), 0, z.data()), Error);         // nothing to feed
  const int32_t twice[2] = {0, 0}, two[2] = {1, 2};
  EXPECT_THROW(p.dev->step(twice, two, 2, z.data()), Error);               // one slot twice
  const int32_t past[1] = {2};
  EXPECT_THROW(p.dev->step(past, two, 1, z.data()), Error);                // slot 2 of 2
  EXPECT_EQ(p.dev->length(0), 10);
  EXPECT_EQ(p.dev->length(1), 0);
  // Both slots still decode, and slot 0 as if nothing had happened.
  const int32_t slots[2] = {0, 1};
  p.dev->step(slots, two, 2, z.data());
  std::vector<float> want(static_cast<size_t>(V));
  p.cpu->prefill(0, ids.data(), 10, want.data());
  p.cpu->step(slots, two, 1, want.data());
  EXPECT_LT(max_abs_diff({z.begin(), z.begin() + V}, want), kTol);
  EXPECT_NE(p.dev->describe().find("on fake"), std::string::npos) << p.dev->describe();
}

TEST(BackendDecoder, ContextPastTheModelsPositionsIsAUsageError) {
  auto m = std::make_unique<model::Llama>(config(), testing::fake_backend());
  try {
    model::BackendDecoder d(std::move(m), 1, 97);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("96"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nlm
