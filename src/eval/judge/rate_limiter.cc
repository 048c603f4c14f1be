// The shared request and token budget (rate_limiter.h).
#include "eval/judge/rate_limiter.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace nlm::eval::judge {

RateLimiter::RateLimiter(double rpm, double tpm, Clock clock, Sleep sleep_until)
    : rpm_(rpm), tpm_(tpm), clock_(std::move(clock)), sleep_until_(std::move(sleep_until)) {
  if (!clock_)
    clock_ = [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
  if (!sleep_until_)
    sleep_until_ = [this](double t) {
      const double wait = t - clock_();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    };
}

int64_t RateLimiter::estimate(size_t prompt_bytes, int64_t max_tokens) {
  return int64_t((prompt_bytes + 3) / 4) + std::max<int64_t>(max_tokens, 0);
}

void RateLimiter::acquire(int64_t tokens) {
  if (!limits()) return;
  double start;
  {
    // The start is reserved under the lock and slept outside it: each caller gets the next slot,
    // in the order they asked.
    std::lock_guard<std::mutex> lock(mu_);
    const double now = clock_();
    start = now;
    if (rpm_ > 0) start = std::max(start, next_request_);
    if (tpm_ > 0) {
      const double rate = tpm_ / 60.0, cap = rate;  // one second's worth
      if (level_time_ < 0) level_ = cap, level_time_ = now;
      const double base = std::max(start, level_time_);
      const double level = std::min(cap, level_ + (base - level_time_) * rate);
      const double need = std::min(double(std::max<int64_t>(tokens, 0)), cap);
      start = need > level ? base + (need - level) / rate : base;
      level_ = std::min(cap, level + (start - base) * rate) - double(std::max<int64_t>(tokens, 0));
      level_time_ = start;
    }
    if (rpm_ > 0) next_request_ = start + 60.0 / rpm_;
  }
  if (start > clock_()) sleep_until_(start);
}

void RateLimiter::settle(int64_t estimated, int64_t actual) {
  if (tpm_ <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  level_ += double(estimated - actual);
}

}  // namespace nlm::eval::judge
