// Sampling rules: greedy with a repetition penalty, top-k with a seed, and min-p.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "core/options.h"
#include "model/sampler.h"

namespace nlm::testing {
namespace {

// The in-place call on a reused buffer draws exactly what the copying call draws, token after
// token, with every rule on (its reused ordering buffers carry nothing from one draw to the next).
TEST(Sampler, InPlaceOnAReusedBufferDrawsTheSameTokens) {
  model::SamplingOptions o;
  o.temperature = 0.9;
  o.top_k = 0;
  o.top_p = 0.9;
  o.min_p = 0.02;
  o.repetition_penalty = 1.3;
  o.presence_penalty = 0.4;
  o.frequency_penalty = 0.2;
  o.vocab_limit = 300;
  o.seed = 11;
  model::Sampler copying(o), in_place(o);
  std::vector<float> buffer;
  std::vector<int32_t> history = {3, 3, 7};
  for (int step = 0; step < 200; ++step) {
    std::vector<float> logits(320);
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(0.37f * static_cast<float>(i * (step + 1)));
    buffer.assign(logits.begin(), logits.end());
    int32_t a = copying.sample(logits, history);
    int32_t b = in_place.sample_in_place(buffer, history);
    ASSERT_EQ(a, b) << "step " << step;
    EXPECT_LT(a, 300);
    history.push_back(a);
  }
}

TEST(Sampler, GreedyTopKAndSeeds) {
  std::vector<float> logits = {0.1f, 3.0f, 2.9f, -1.0f};
  model::SamplingOptions g;
  g.temperature = 0;
  EXPECT_EQ(model::Sampler(g).sample(logits, {}), 1);
  g.repetition_penalty = 2.0;  // 3.0/2 < 2.9: the seen token loses
  EXPECT_EQ(model::Sampler(g).sample(logits, {1}), 2);
  model::SamplingOptions k;
  k.temperature = 1.0;
  k.top_k = 2;
  k.top_p = 1.0;
  k.seed = 5;
  model::Sampler s(k);
  std::vector<int> counts(4);
  for (int i = 0; i < 400; ++i) ++counts[s.sample(logits, {})];
  EXPECT_EQ(counts[0] + counts[3], 0);
  EXPECT_GT(counts[1], 100);
  EXPECT_GT(counts[2], 100);
  k.min_p = 0.99;  // only the top token survives
  model::Sampler mp(k);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(mp.sample(logits, {}), 1);
}

TEST(Sampler, PresenceAndFrequencyPenalties) {
  std::vector<float> logits = {0.0f, 3.0f, 2.6f, 2.2f};
  model::SamplingOptions g;
  g.temperature = 0;
  g.presence_penalty = 0.6;  // 3.0 − 0.6 < 2.6
  EXPECT_EQ(model::Sampler(g).sample(logits, {1}), 2);
  g.presence_penalty = 0.3;  // once, however often seen: 2.7 > 2.6
  EXPECT_EQ(model::Sampler(g).sample(logits, {1, 1}), 1);
  g.presence_penalty = 0;
  g.frequency_penalty = 0.25;  // seen 3 times: 3.0 − 0.75 = 2.25; token 2 once: 2.35 > 2.25 > 2.2
  EXPECT_EQ(model::Sampler(g).sample(logits, {1, 1, 2, 1}), 2);
  g.frequency_penalty = -1.0;  // negative values encourage repeats
  EXPECT_EQ(model::Sampler(g).sample(logits, {3}), 3);
}

TEST(Sampler, NeverSamplesPastTheVocabLimit) {
  // Embedding rows past the tokenizer's vocabulary (padding) have no text: never sampled, even
  // when they hold the largest logits.
  std::vector<float> logits = {0.1f, 0.2f, 9.0f, 8.0f};
  model::SamplingOptions g;
  g.temperature = 0;
  g.vocab_limit = 2;
  EXPECT_EQ(model::Sampler(g).sample(logits, {}), 1);
  g.temperature = 1.0;
  g.top_k = 0;
  g.top_p = 1.0;
  model::Sampler s(g);
  for (int i = 0; i < 100; ++i) EXPECT_LT(s.sample(logits, {}), 2);
}

TEST(Sampler, LogitBiasIsAddedBeforePenaltiesAndSampling) {
  std::vector<float> logits = {0.0f, 3.0f, 2.6f, 2.2f};
  model::SamplingOptions g;
  g.temperature = 0;
  g.logit_bias = {{1, -0.5f}};  // 2.5 < 2.6
  EXPECT_EQ(model::Sampler(g).sample(logits, {}), 2);
  g.logit_bias = {{0, 100.0f}};  // +100 forces
  EXPECT_EQ(model::Sampler(g).sample(logits, {}), 0);
  g.logit_bias = {{1, -100.0f}, {2, -100.0f}, {99, 100.0f}, {-1, 100.0f}};  // ids outside the logits are ignored
  EXPECT_EQ(model::Sampler(g).sample(logits, {}), 3);
  // Sampled, -100 bans: over 2000 draws token 1 (the likeliest) never comes.
  g.temperature = 1.0;
  g.top_k = 0;
  g.top_p = 1.0;
  g.seed = 5;
  g.logit_bias = {{1, -100.0f}};
  model::Sampler s(g);
  for (int i = 0; i < 2000; ++i) ASSERT_NE(s.sample(logits, {}), 1);
  // A masked token (-inf, e.g. past the vocabulary limit) stays masked whatever its bias.
  g.temperature = 0;
  g.vocab_limit = 2;
  g.logit_bias = {{3, 100.0f}};
  EXPECT_EQ(model::Sampler(g).sample(logits, {}), 1);
}

TEST(Sampler, LogitBiasOptionParsesIdEqualsBias) {
  EXPECT_EQ(model::parse_logit_bias("42=-100"), (std::pair<int32_t, float>{42, -100.0f}));
  EXPECT_EQ(model::parse_logit_bias("7=2.5"), (std::pair<int32_t, float>{7, 2.5f}));
  for (const char* bad : {"", "42", "=1", "x=1", "42=", "42=abc", "42=100.5", "42=-101", "-1=3", "99999999999=1", "42=nan"})
    EXPECT_THROW(model::parse_logit_bias(bad), opt::OptionError) << bad;
}

TEST(Sampler, WholeDistributionAndLongNucleusAreSampledRight) {
  // No truncation: token 1 has three times token 0's probability.
  model::SamplingOptions o;
  o.temperature = 1.0;
  o.top_k = 0;
  o.top_p = 1.0;
  o.seed = 3;
  model::Sampler s(o);
  int ones = 0;
  for (int i = 0; i < 4000; ++i) ones += s.sample({0.0f, std::log(3.0f)}, {}) == 1;
  EXPECT_NEAR(ones / 4000.0, 0.75, 0.03);
  // A nucleus wider than the first ordered head (256): 5000 near-equal tokens, top_p 0.9 keeps
  // about 4500 of them, and the tail beyond is never drawn.
  std::vector<float> flat(5000);
  for (int i = 0; i < 5000; ++i) flat[static_cast<size_t>(i)] = -1e-4f * float(i);
  o.top_p = 0.9;
  model::Sampler n(o);
  std::set<int> seen;
  int max_id = 0;
  for (int i = 0; i < 3000; ++i) {
    int t = n.sample(flat, {});
    seen.insert(t);
    max_id = std::max(max_id, t);
  }
  EXPECT_GT(seen.size(), 1000u);
  EXPECT_LT(max_id, 4600);
}

TEST(Sampler, TopKOrderingMatchesAFullSortWithTies) {
  // Ties are broken by id, so partial ordering picks the same set a full sort would.
  std::vector<float> logits = {1.0f, 2.0f, 2.0f, 2.0f, 0.5f};
  model::SamplingOptions k;
  k.temperature = 1.0;
  k.top_k = 2;
  k.top_p = 1.0;
  model::Sampler s(k);
  for (int i = 0; i < 200; ++i) {
    int t = s.sample(logits, {});
    EXPECT_TRUE(t == 1 || t == 2) << t;
  }
}

}  // namespace
}  // namespace nlm::testing
