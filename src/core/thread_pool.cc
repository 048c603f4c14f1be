// Worker loop and dynamic index distribution for ThreadPool.
#include "core/thread_pool.h"

#include <atomic>

#include "core/runtime.h"

namespace nlm {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = thread_count();
  workers_.reserve(threads);
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this, i] { run(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  has_work_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(task));
  }
  has_work_.notify_one();
}

void ThreadPool::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && active_ == 0; });
  if (error_) {
    auto e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void ThreadPool::run(int) {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      has_work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_ && queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      ++active_;
    }
    try {
      task();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --active_;
      if (queue_.empty() && active_ == 0) idle_.notify_all();
    }
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t)>& fn) {
  parallel_for_worker(n, [&](size_t i, int) { fn(i); });
}

void ThreadPool::parallel_for_worker(size_t n, const std::function<void(size_t, int)>& fn) {
  if (n == 0) return;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  int tasks = static_cast<int>(std::min<size_t>(n, workers_.size()));
  for (int w = 0; w < tasks; ++w) {
    submit([&, w] {
      for (;;) {
        if (failed.load(std::memory_order_relaxed)) return;
        size_t i = next.fetch_add(1);
        if (i >= n) return;
        try {
          fn(i, w);
        } catch (...) {
          failed = true;
          throw;
        }
      }
    });
  }
  wait();
}

}  // namespace nlm
