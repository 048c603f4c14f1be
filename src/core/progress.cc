// Redraw thread and formatting for the progress line.
#include "core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "core/log.h"
#include "core/runtime.h"

namespace nlm {

std::string human_count(double n) {
  char buf[32];
  if (n < 1000) std::snprintf(buf, sizeof buf, "%.0f", n);
  else if (n < 1e6) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else if (n < 1e9) std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
  return buf;
}

std::string human_bytes(double b) {
  char buf[32];
  if (b < 1e3) std::snprintf(buf, sizeof buf, "%.0f B", b);
  else if (b < 1e6) std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
  else if (b < 1e9) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  return buf;
}

std::string human_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

bool Progress::enabled_by_default() {
  return !runtime_options().quiet && ::isatty(STDERR_FILENO);
}

Progress::Progress(std::string label, uint64_t total_bytes, bool force)
    : label_(std::move(label)), total_(total_bytes), start_(std::chrono::steady_clock::now()) {
  enabled_ = force || enabled_by_default();
  if (enabled_) thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() { finish(); }

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::render() const {
  double s = std::max(seconds(), 1e-9);
  double d = static_cast<double>(docs_.load()), b = static_cast<double>(bytes_.load());
  std::string line = label_ + ": " + human_count(d) + " docs, " + human_bytes(b) + ", " +
                     human_count(d / s) + " docs/s, " + human_bytes(b / s) + "/s";
  const uint64_t total = total_;
  if (total > 0 && b > 0) {
    double frac = std::min(1.0, b / static_cast<double>(total));
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.0f%%", frac * 100);
    line += std::string(", ") + pct + ", ETA " + human_duration(s * (1 - frac) / std::max(frac, 1e-9));
  }
  return line;
}

void Progress::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
    log::raw("\r" + render() + "\x1b[K");
  }
}

void Progress::finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    log::raw("\r\x1b[K");
  }
}

}  // namespace nlm
