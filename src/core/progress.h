// A live progress line on stderr for long jobs: documents, bytes, docs/s, MB/s and an ETA when
// the total is known. It redraws from a background thread a few times a second, and is off when
// stderr is not a terminal or with --quiet, so logs and CI output stay clean.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace nlm {

class Progress {
 public:
  // total_bytes = 0 means unknown (no ETA). `force` shows the line even when not a TTY (tests).
  explicit Progress(std::string label, uint64_t total_bytes = 0, bool force = false);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Thread-safe; cheap enough to call per document.
  void add(uint64_t docs, uint64_t bytes) {
    docs_.fetch_add(docs, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  // Stops the redraw thread and clears the line.
  void finish();

  uint64_t docs() const { return docs_.load(); }
  uint64_t bytes() const { return bytes_.load(); }
  double seconds() const;
  // The text of the line as it would be drawn now (exposed for tests).
  std::string render() const;
  static bool enabled_by_default();

 private:
  void loop();
  std::string label_;
  std::atomic<uint64_t> docs_{0}, bytes_{0};
  const uint64_t total_;  // 0: unknown
  std::chrono::steady_clock::time_point start_;
  bool enabled_;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
};

// Human-readable figures shared by progress lines and reports: 1.2k, 3.4M; 12.3 MB; 1:02:03.
std::string human_count(double n);
std::string human_bytes(double bytes);
std::string human_duration(double seconds);

}  // namespace nlm
