// Prometheus text rendering of the server's metrics (see metrics.h). Names follow Prometheus
// conventions (nativelm_ prefix, _total counters, _seconds units).
#include "serve/metrics.h"

#include <cstdio>

namespace nlm::serve {

namespace {
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}
}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

std::string Histogram::render(const std::string& name, const std::string& help) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
  out += name + "_sum " + num(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
  return out;
}

std::string Metrics::render(const std::string& model) const {
  std::string out;
  auto scalar = [&](const std::string& name, const char* type, const std::string& help, double v) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + num(v) + "\n";
  };
  out += "# HELP nativelm_model_info The model this server serves.\n# TYPE nativelm_model_info gauge\n";
  std::string label;
  for (char c : model) {  // label values escape backslash, quote and newline
    if (c == '\\' || c == '"') label += '\\';
    if (c == '\n') {
      label += "\\n";
      continue;
    }
    label += c;
  }
  out += "nativelm_model_info{model=\"" + label + "\"} 1\n";
  scalar("nativelm_requests_total", "counter", "Generation requests that completed.", double(requests_ok.load()));
  scalar("nativelm_request_errors_total", "counter", "Generation requests that failed after admission.",
         double(requests_error.load()));
  scalar("nativelm_requests_rejected_total", "counter", "Generation requests refused with 429 (queue full).",
         double(requests_rejected.load()));
  scalar("nativelm_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.", double(prompt_tokens.load()));
  scalar("nativelm_prompt_tokens_cached_total", "counter", "Prompt tokens served from the prefix cache (not recomputed).",
         double(prompt_tokens_cached.load()));
  scalar("nativelm_generation_tokens_total", "counter", "Tokens generated.", double(generated_tokens.load()));
  scalar("nativelm_decode_steps_total", "counter", "Batched decode iterations.", double(steps.load()));
  scalar("nativelm_queue_depth", "gauge", "Requests waiting for a slot.", double(queue_depth.load()));
  scalar("nativelm_slots_busy", "gauge", "Slots generating now.", double(slots_busy.load()));
  scalar("nativelm_slots_total", "gauge", "Slots (sequences decoded together).", double(slots_total.load()));
  scalar("nativelm_kv_cache_tokens", "gauge", "Positions held in the KV cache, all slots.", double(kv_tokens.load()));
  const double cap = double(kv_capacity.load());
  scalar("nativelm_kv_cache_usage_ratio", "gauge", "Share of the KV cache in use (0..1).",
         cap > 0 ? double(kv_tokens.load()) / cap : 0.0);
  out += time_to_first_token.render("nativelm_time_to_first_token_seconds",
                                    "Time from admission to the first generated token.");
  out += inter_token_latency.render("nativelm_inter_token_latency_seconds", "Time between successive tokens of a request.");
  out += request_duration.render("nativelm_request_duration_seconds", "Time from admission to the last token.");
  return out;
}

}  // namespace nlm::serve
