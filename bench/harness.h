// A tiny benchmark harness: repeat a measurement, report the median (the machines are noisy, so
// medians and ratios are what we quote), and print figures in one greppable format:
//   BENCH <name> <value> <unit> (median of N, min .. max)
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace nlm::bench {

struct Sample {
  double median = 0, min = 0, max = 0;
  int runs = 0;
};

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs fn `runs` times (after `warmup` untimed runs) and returns wall-time statistics in seconds.
inline Sample time_runs(const std::function<void()>& fn, int runs = 5, int warmup = 1) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    double s = now_seconds();
    fn();
    t.push_back(now_seconds() - s);
  }
  std::sort(t.begin(), t.end());
  Sample r;
  r.runs = runs;
  r.min = t.front();
  r.max = t.back();
  r.median = t.size() % 2 ? t[t.size() / 2] : (t[t.size() / 2 - 1] + t[t.size() / 2]) / 2;
  return r;
}

// Median, min and max of values measured elsewhere (rates, back-to-back ratios).
inline Sample sample_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Sample s;
  s.runs = static_cast<int>(v.size());
  if (v.empty()) return s;
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return s;
}

// Prints a throughput figure computed from a time sample: amount / seconds.
inline void report_rate(const std::string& name, double amount, const Sample& s, const std::string& unit) {
  std::printf("BENCH %-40s %10.1f %s (median of %d, %.1f .. %.1f)\n", name.c_str(), amount / s.median,
              unit.c_str(), s.runs, amount / s.max, amount / s.min);
  std::fflush(stdout);
}

inline void report_value(const std::string& name, double value, const std::string& unit) {
  std::printf("BENCH %-40s %10.3f %s\n", name.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

}  // namespace nlm::bench
