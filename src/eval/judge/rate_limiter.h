// One requests-per-minute and tokens-per-minute budget shared by every concurrent client of a run
// (synth's workers, the judge), so the limits hold for the run as a whole rather than per client.
// Requests are spaced evenly (60/rpm s apart); tokens drain a bucket refilled at tpm/60 per second
// that holds at most one second's worth, each request reserving an estimate (the prompt's bytes/4
// plus max_tokens, as OpenAI counts a request) that the answer's usage then corrects. The clock and
// the sleep are injectable so the schedule can be tested without waiting.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>

namespace nlm::eval::judge {

class RateLimiter {
 public:
  using Clock = std::function<double()>;      // seconds, monotonic
  using Sleep = std::function<void(double)>;  // sleep until this clock time
  // rpm, tpm: 0 = no limit of that kind.
  RateLimiter(double requests_per_minute, double tokens_per_minute, Clock clock = {}, Sleep sleep_until = {});
  // Blocks until a request estimated at `tokens` may start, and reserves it.
  void acquire(int64_t tokens);
  // Corrects an earlier reservation with the tokens the request really used.
  void settle(int64_t estimated, int64_t actual);
  bool limits() const { return rpm_ > 0 || tpm_ > 0; }
  // A request's token estimate: ceil(prompt bytes / 4) + max_tokens.
  static int64_t estimate(size_t prompt_bytes, int64_t max_tokens);

 private:
  double rpm_, tpm_;
  Clock clock_;
  Sleep sleep_until_;
  std::mutex mu_;
  double next_request_ = -1e300;  // earliest start of the next request (rpm)
  double level_ = 0;              // tokens in the bucket at level_time_ (may be negative: debt)
  double level_time_ = -1;        // < 0: not started (the bucket starts full)
};

}  // namespace nlm::eval::judge
