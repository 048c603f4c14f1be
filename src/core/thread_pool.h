// A fixed pool of worker threads for shard-parallel stages. Tasks are std::function<void()>;
// parallel_for() hands out indices dynamically so uneven shards still balance. An exception in
// a task is captured and rethrown to the caller of wait()/parallel_for(), never lost.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace nlm {

class ThreadPool {
 public:
  // threads <= 0 uses nlm::thread_count().
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }
  void submit(std::function<void()> task);
  // Blocks until every submitted task has finished; rethrows the first task exception.
  void wait();
  // Runs fn(i) for i in [0, n) on the pool and waits. fn(i, worker) variant gives a worker slot
  // in [0, size()) so callers can keep per-thread state without locks.
  void parallel_for(size_t n, const std::function<void(size_t)>& fn);
  void parallel_for_worker(size_t n, const std::function<void(size_t, int)>& fn);

 private:
  void run(int worker);
  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> queue_;
  std::mutex mutex_;
  std::condition_variable has_work_;
  std::condition_variable idle_;
  size_t active_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace nlm
