// External sort for fixed-size records (band keys, text hashes): records collect in a buffer of
// at most `memory_bytes`; a full buffer is sorted and written to a run file; drain() merges the
// runs (k-way, min-heap, at most kMaxFanIn files open at once) with the in-memory rest. Peak
// memory is set by the budget, not by how many records arrive. Sorted runs written elsewhere
// (dedup's per-file checkpoints) can be adopted. Run files the sorter wrote itself live in
// `spill_dir` and are removed when it goes away; adopted ones are left to their owner.
#pragma once
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <queue>
#include <string>
#include <type_traits>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"

namespace nlm {

template <class T>
class ExternalSorter {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  static constexpr size_t kMaxFanIn = 64;

  ExternalSorter(std::string spill_dir, std::string name, size_t memory_bytes)
      : dir_(std::move(spill_dir)), name_(std::move(name)),
        capacity_(std::max<size_t>(1024, memory_bytes / sizeof(T))) {}
  ~ExternalSorter() {
    std::error_code ec;
    for (const auto& r : owned_) std::filesystem::remove(r, ec);
  }
  ExternalSorter(const ExternalSorter&) = delete;
  ExternalSorter& operator=(const ExternalSorter&) = delete;

  // Sorts `items` and writes them as a run file (plain, not atomic: callers certify runs).
  static void write_run(const std::string& path, std::vector<T>& items) {
    std::sort(items.begin(), items.end());
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) runtime_error("cannot create spill file", path, "check that the output folder is writable");
    bool ok = std::fwrite(items.data(), sizeof(T), items.size(), f) == items.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) runtime_error("cannot write spill file", path, "check free disk space");
  }

  // Thread-safe. Spills a sorted run whenever the buffer reaches the budget.
  void add(const T* items, size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    count_ += n;
    while (n > 0) {
      // One allocation of the whole budget: growing by doubling would hold old and new copies at
      // once (up to 1.5x the budget). Pages the corpus never fills are never touched.
      if (buffer_.capacity() < capacity_) buffer_.reserve(capacity_);
      size_t take = std::min(n, capacity_ - buffer_.size());
      buffer_.insert(buffer_.end(), items, items + take);
      items += take;
      n -= take;
      if (buffer_.size() >= capacity_) spill();
    }
  }

  // Thread-safe. Takes a sorted run file holding `records` records into the merge.
  void adopt_run(const std::string& path, uint64_t records) {
    std::lock_guard<std::mutex> lock(mutex_);
    count_ += records;
    runs_.push_back(path);
  }

  uint64_t size() const { return count_; }
  size_t runs() const { return runs_.size(); }

  // Calls fn(const T&) for every record in ascending order. Call once, after all add()s.
  template <class Fn>
  void drain(Fn&& fn) {
    std::sort(buffer_.begin(), buffer_.end());
    if (runs_.empty()) {
      for (const T& t : buffer_) fn(t);
      std::vector<T>().swap(buffer_);
      return;
    }
    if (!buffer_.empty()) spill();
    std::vector<T>().swap(buffer_);
    // Too many runs to open at once: merge them in groups into longer runs first.
    while (runs_.size() > kMaxFanIn) {
      std::vector<std::string> group(runs_.begin(), runs_.begin() + kMaxFanIn);
      std::string path = next_path();
      std::vector<T> out;
      out.reserve(std::max<size_t>(1024, capacity_ / 2));
      std::FILE* f = std::fopen(path.c_str(), "wb");
      if (!f) runtime_error("cannot create spill file", path, "check that the output folder is writable");
      bool ok = true;
      merge(group, capacity_ / 2, [&](const T& t) {
        out.push_back(t);
        if (out.size() == out.capacity()) {
          ok = std::fwrite(out.data(), sizeof(T), out.size(), f) == out.size() && ok;
          out.clear();
        }
      });
      ok = std::fwrite(out.data(), sizeof(T), out.size(), f) == out.size() && ok;
      ok = (std::fclose(f) == 0) && ok;
      if (!ok) runtime_error("cannot write spill file", path, "check free disk space");
      owned_.push_back(path);
      runs_.erase(runs_.begin(), runs_.begin() + kMaxFanIn);
      runs_.push_back(path);
    }
    merge(runs_, capacity_, fn);
  }

 private:
  struct Run {
    std::FILE* file = nullptr;
    std::vector<T> buf;
    size_t pos = 0, len = 0;
  };
  static bool next(Run& r, T& out) {
    if (r.pos == r.len) {
      r.len = std::fread(r.buf.data(), sizeof(T), r.buf.size(), r.file);
      r.pos = 0;
      if (r.len == 0) return false;
    }
    out = r.buf[r.pos++];
    return true;
  }

  // k-way merge of sorted run files; each gets an equal share of `records` as its read buffer, or
  // its own size when that is smaller.
  template <class Fn>
  static void merge(const std::vector<std::string>& paths, size_t records, Fn&& fn) {
    const size_t per_run = std::max<size_t>(256, records / std::max<size_t>(1, paths.size()));
    std::vector<Run> runs(paths.size());
    using Head = std::pair<T, size_t>;
    auto greater = [](const Head& x, const Head& y) {
      return y.first < x.first || (!(x.first < y.first) && y.second < x.second);
    };
    std::priority_queue<Head, std::vector<Head>, decltype(greater)> heap(greater);
    for (size_t i = 0; i < runs.size(); ++i) {
      runs[i].file = std::fopen(paths[i].c_str(), "rb");
      if (!runs[i].file) runtime_error("cannot read spill file", paths[i], "check the output disk");
      // Never larger than the run itself: resize() touches every page, so small adopted runs
      // under a large budget would otherwise hold the whole budget in memory.
      size_t in_file = per_run;
      if (std::fseek(runs[i].file, 0, SEEK_END) == 0) {
        const long bytes = std::ftell(runs[i].file);
        if (bytes >= 0) in_file = static_cast<size_t>(bytes) / sizeof(T) + 1;
        std::rewind(runs[i].file);
      }
      runs[i].buf.resize(std::min(per_run, in_file));
      T first;
      if (next(runs[i], first)) heap.push({first, i});
    }
    while (!heap.empty()) {
      auto [item, i] = heap.top();
      heap.pop();
      fn(item);
      T following;
      if (next(runs[i], following)) heap.push({following, i});
    }
    for (auto& r : runs) std::fclose(r.file);
  }

  std::string next_path() {
    make_dirs(dir_);
    return dir_ + "/" + name_ + "-" + std::to_string(serial_++) + ".run";
  }

  void spill() {
    std::string path = next_path();
    write_run(path, buffer_);
    runs_.push_back(path);
    owned_.push_back(path);
    buffer_.clear();
  }

  std::string dir_, name_;
  size_t capacity_;
  std::vector<T> buffer_;
  std::vector<std::string> runs_, owned_;
  uint64_t count_ = 0;
  size_t serial_ = 0;
  std::mutex mutex_;
};

}  // namespace nlm
