// The shared rate limiter on a fake clock: requests are spaced 60/rpm apart, tokens drain a bucket
// refilled at tpm/60 per second and corrected by the usage the answers report; and on the real
// clock, several threads sharing one limiter are spaced as one.
#include "eval/judge/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace nlm::eval::judge {
namespace {

// A clock that only moves when the limiter sleeps.
struct FakeTime {
  double now = 100;
  RateLimiter make(double rpm, double tpm) {
    return RateLimiter(
        rpm, tpm, [this] { return now; }, [this](double t) { now = std::max(now, t); });
  }
};

TEST(RateLimiter, RequestsPerMinuteSpacesStartsEvenly) {
  FakeTime t;
  RateLimiter l = t.make(60, 0);
  std::vector<double> starts;
  for (int k = 0; k < 5; ++k) {
    l.acquire(1000000);  // tokens do not matter without a token limit
    starts.push_back(t.now);
  }
  EXPECT_EQ(starts, (std::vector<double>{100, 101, 102, 103, 104}));
  t.now = 200;  // idle time is not saved up into a burst beyond the next start
  l.acquire(1);
  EXPECT_EQ(t.now, 200);
  l.acquire(1);
  EXPECT_EQ(t.now, 201);
}

TEST(RateLimiter, TokensPerMinuteWaitsForTheBucketAndUsageCorrectsTheEstimate) {
  FakeTime t;
  RateLimiter l = t.make(0, 600);  // 10 tokens a second; the bucket holds 10
  l.acquire(10);                   // the full bucket: at once
  EXPECT_EQ(t.now, 100);
  l.acquire(5);  // empty bucket: 0.5 s for 5 tokens
  EXPECT_DOUBLE_EQ(t.now, 100.5);
  l.acquire(40);  // more than the bucket holds: waits for a full bucket, then owes 30
  EXPECT_DOUBLE_EQ(t.now, 101.5);
  l.acquire(1);  // the debt of 30 and this 1: 3.1 s
  EXPECT_DOUBLE_EQ(t.now, 104.6);
  // The estimate was 40 but the answer used 10: the 30 tokens come back.
  l.settle(40, 10);
  l.acquire(10);
  EXPECT_DOUBLE_EQ(t.now, 104.6);  // without the refund: 105.6
  // A request that used more than estimated delays the next ones.
  const double before = t.now;
  l.settle(1, 101);
  l.acquire(1);
  EXPECT_NEAR(t.now - before, 10.1, 1e-6);
}

TEST(RateLimiter, BothLimitsTogetherTakeTheLaterStart) {
  FakeTime t;
  RateLimiter l = t.make(120, 600);  // 0.5 s between requests, 10 tokens/s
  l.acquire(2);
  EXPECT_EQ(t.now, 100);
  l.acquire(2);  // the request spacing binds
  EXPECT_DOUBLE_EQ(t.now, 100.5);
  l.acquire(20);  // the spacing binds again; the bucket (full) goes 10 into debt
  EXPECT_DOUBLE_EQ(t.now, 101);
  l.acquire(1);  // spacing allows 101.5, but the debt of 10 less 5 refilled and this 1 take 0.6 s more
  EXPECT_DOUBLE_EQ(t.now, 102.1);
  EXPECT_EQ(RateLimiter::estimate(401, 100), 101 + 100);
  RateLimiter none = t.make(0, 0);
  EXPECT_FALSE(none.limits());
  none.acquire(1 << 30);
  EXPECT_DOUBLE_EQ(t.now, 102.1);
}

TEST(RateLimiter, ThreadsSharingOneLimiterAreSpacedAsOne) {
  RateLimiter l(600, 0);  // 0.1 s apart over all threads
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> at;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        l.acquire(1);
        std::lock_guard<std::mutex> lock(mu);
        at.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_EQ(at.size(), 12u);
  std::sort(at.begin(), at.end());
  // 12 starts need 11 gaps of 0.1 s; four limiters of their own would take 0.2 s. (A late
  // wake-up can shorten one gap, so only the span is checked: the schedule is on the fake clock.)
  EXPECT_GE(at.back(), 11 * 0.1 - 0.02);
}

}  // namespace
}  // namespace nlm::eval::judge
