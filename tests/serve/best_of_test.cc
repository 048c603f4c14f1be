// best_of on /v1/completions: k candidates per prompt decoded together, the n with the highest
// mean logprob per token returned best first, usage counting every candidate, and the requests
// OpenAI refuses (best_of below n, streamed, on chat).
#include <gtest/gtest.h>

#include <algorithm>

#include "api_fixture.h"

namespace nlm::testing {
namespace {

using json = nlohmann::json;

double mean_logprob(const json& choice) {
  const json& lps = choice["logprobs"]["token_logprobs"];
  double sum = 0;
  for (const auto& v : lps) sum += v.get<double>();
  return lps.empty() ? 0 : sum / double(lps.size());
}

TEST(BestOf, ReturnsTheCandidatesWithTheHighestMeanLogprob) {
  TinyServer s(8);
  // The same seed gives the same candidates: candidate i samples with seed + i, as choice i of n.
  const json all = s.call({{"prompt", {"The cat", "Tá sé"}}, {"max_tokens", 8}, {"temperature", 1.5}, {"seed", 3},
                           {"n", 4}, {"logprobs", 0}});
  const json best = s.call({{"prompt", {"The cat", "Tá sé"}}, {"max_tokens", 8}, {"temperature", 1.5}, {"seed", 3},
                            {"n", 2}, {"best_of", 4}});
  ASSERT_EQ(all["choices"].size(), 8u);
  ASSERT_EQ(best["choices"].size(), 4u);
  bool reordered = false;  // the test means something only if the best are not simply the first
  for (size_t p = 0; p < 2; ++p) {
    std::vector<std::pair<double, size_t>> ranked;
    for (size_t i = 0; i < 4; ++i) ranked.emplace_back(-mean_logprob(all["choices"][p * 4 + i]), i);
    std::stable_sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.first < b.first; });
    reordered |= ranked[0].second != 0 || ranked[1].second != 1;
    for (size_t r = 0; r < 2; ++r) {
      const json& got = best["choices"][p * 2 + r];
      EXPECT_EQ(got["index"], p * 2 + r);
      EXPECT_EQ(got["text"], all["choices"][p * 4 + ranked[r].second]["text"]) << "prompt " << p << " rank " << r;
      EXPECT_TRUE(got["logprobs"].is_null());  // scored inside, not asked for
    }
  }
  EXPECT_TRUE(reordered) << "seed 3 should rank a later candidate among the best";
  // Every candidate's tokens are counted, as OpenAI bills them.
  EXPECT_EQ(best["usage"]["completion_tokens"], all["usage"]["completion_tokens"]);
  EXPECT_EQ(best["usage"]["prompt_tokens"], all["usage"]["prompt_tokens"]);
}

TEST(BestOf, WithLogprobsAndEqualToNIsPlainN) {
  TinyServer s(8);
  const json plain = s.call({{"prompt", "The"}, {"max_tokens", 6}, {"temperature", 1}, {"seed", 9}, {"n", 2}});
  const json same = s.call({{"prompt", "The"}, {"max_tokens", 6}, {"temperature", 1}, {"seed", 9}, {"n", 2}, {"best_of", 2}});
  EXPECT_EQ(same["choices"], plain["choices"]);
  const json lp = s.call({{"prompt", "The"}, {"max_tokens", 6}, {"temperature", 1}, {"seed", 9}, {"best_of", 3},
                          {"logprobs", 2}});
  ASSERT_EQ(lp["choices"].size(), 1u);
  EXPECT_EQ(lp["choices"][0]["logprobs"]["top_logprobs"][0].size(), 2u);
}

TEST(BestOf, RefusedBelowNStreamedOrOnChat) {
  TinyServer s(8);
  auto e = s.error_of({{"prompt", "The"}, {"n", 3}, {"best_of", 2}});
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "best_of");
  e = s.error_of({{"prompt", "The"}, {"best_of", 2}, {"stream", true}});
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "best_of");
  e = s.error_of({{"prompt", "The"}, {"best_of", 0}});
  EXPECT_EQ(e.status, 400);
  e = s.error_of({{"prompt", "The"}, {"best_of", "2"}});
  EXPECT_EQ(e.status, 400);
  e = s.error_of({{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}, {"best_of", 2}}, true);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "best_of");
  // Streamed with best_of equal to n is plain n.
  EXPECT_FALSE(s.stream({{"prompt", "The"}, {"max_tokens", 3}, {"best_of", 1}, {"stream", true}}).empty());
}

}  // namespace
}  // namespace nlm::testing
