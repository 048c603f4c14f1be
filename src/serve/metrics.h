// The server's Prometheus figures (/metrics): counters, gauges and latency histograms, written
// in the text exposition format (version 0.0.4) that Prometheus and vLLM/llama-server dashboards
// scrape. Updated by the batching scheduler and the HTTP layer from several threads.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace nlm::serve {

// A cumulative histogram over fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // The metric's lines: NAME_bucket{le="..."} ..., NAME_sum, NAME_count, with HELP and TYPE.
  std::string render(const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative (+Inf last)
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct Metrics {
  std::atomic<uint64_t> requests_ok{0}, requests_error{0}, requests_rejected{0};  // done, failed, 429
  std::atomic<uint64_t> prompt_tokens{0}, generated_tokens{0}, prompt_tokens_cached{0};
  std::atomic<uint64_t> steps{0};  // batched decode iterations
  Histogram time_to_first_token{{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}};
  Histogram inter_token_latency{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}};
  Histogram request_duration{{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}};
  // Gauges, read when rendering.
  std::atomic<int> queue_depth{0}, slots_busy{0}, slots_total{0};
  std::atomic<int64_t> kv_tokens{0}, kv_capacity{0};

  std::string render(const std::string& model) const;
};

}  // namespace nlm::serve
