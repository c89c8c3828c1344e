// facekit/runtime/thread_pool.hpp - the threads a CPU session splits its ops over.
//
//   facekit::ThreadPool pool(2);                  // the caller's thread + 1 worker, started once
//   session->set_thread_pool(&pool);              // or FaceLandmarkerOptions::num_threads = 2
//
// facekit asks one thing of a pool: run `count` tasks and return when all are done
// (ThreadPoolInterface::parallel_for). A program with its own pool (a game engine's job system,
// OpenMP, TBB) implements that one call and hands it in through the tasks' `thread_pool` option;
// facekit then creates no thread of its own.
//
// ThreadPool is the built-in one: persistent workers that spin briefly between ops (an op lasts
// tens of microseconds; waking a sleeping thread costs about as much) and then sleep on a
// condition variable, so an idle pool costs nothing. parallel_for allocates nothing. Calls from
// several threads are serialised: a pool shared by several pipelines runs one op at a time.
//
// How an op splits is the op's own business (ops/op_common.hpp: OpDef::split): the parts are
// independent rows of its output, each computed exactly as the one-thread run computes it, so
// the results are bit-identical whatever the thread count.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace facekit {

/// What facekit needs of a thread pool.
class ThreadPoolInterface {
 public:
  using TaskFn = void (*)(void* context, int index);
  virtual ~ThreadPoolInterface() = default;
  /// Threads that run tasks, the calling thread included (>= 1).
  virtual int num_threads() const noexcept = 0;
  /// Runs task(context, i) for every i in [0, count), on any of the threads (the caller's
  /// included), and returns when all have finished. Must not allocate or throw.
  virtual void parallel_for(int count, TaskFn task, void* context) noexcept = 0;
};

namespace detail {
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}
}  // namespace detail

/// The built-in pool: num_threads - 1 workers plus the calling thread.
class ThreadPool final : public ThreadPoolInterface {
 public:
  /// Starts num_threads - 1 workers (none for num_threads <= 1: tasks then run on the caller).
  /// If the system refuses a thread, the pool keeps the workers it got (num_threads() says how
  /// many); the results do not depend on it.
  explicit ThreadPool(int num_threads) {
    const int workers = num_threads > 1 ? num_threads - 1 : 0;
    workers_.reserve(std::size_t(workers));
    for (int i = 0; i < workers; ++i) {
#if defined(__cpp_exceptions)
      try {
        workers_.emplace_back([this] { worker_loop(); });
      } catch (const std::system_error&) {
        break;
      }
#else
      workers_.emplace_back([this] { worker_loop(); });
#endif
    }
  }
  ~ThreadPool() override {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stop_.store(true);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const noexcept override { return int(workers_.size()) + 1; }

  void parallel_for(int count, TaskFn task, void* context) noexcept override {
    if (count <= 0) return;
    if (workers_.empty() || count == 1) {
      for (int i = 0; i < count; ++i) task(context, i);
      return;
    }
    std::lock_guard<std::mutex> caller(call_mutex_);
    task_ = task;
    context_ = context;
    count_ = count;
    next_.store(0, std::memory_order_relaxed);
    pending_.store(int(workers_.size()), std::memory_order_relaxed);
    // The job is published under the workers' sleep mutex: a worker tests for a new generation
    // under it before it sleeps, so it either sees this one or is woken, whatever the memory
    // model. (Under qemu-user the pool still hangs; cause not found yet, issue 16.)
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      generation_.fetch_add(1, std::memory_order_release);
      wake = sleepers_ > 0;
    }
    if (wake) wake_.notify_all();
    run_tasks();
    for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
      if (spins < kSpins) {
        detail::cpu_relax();
      } else {  // a worker is late (descheduled): sleep until the last one is done
        std::unique_lock<std::mutex> lock(done_mutex_);
        done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
        break;
      }
    }
  }

 private:
  // About 50-100 microseconds of pause instructions before a worker sleeps.
  static constexpr int kSpins = 2000;

  void run_tasks() noexcept {
    for (int i = next_.fetch_add(1, std::memory_order_relaxed); i < count_;
         i = next_.fetch_add(1, std::memory_order_relaxed))
      task_(context_, i);
  }

  void worker_loop() noexcept {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g = generation_.load(std::memory_order_acquire);
      for (int spins = 0; g == seen && !stop_.load(std::memory_order_relaxed); ++spins) {
        if (spins < kSpins) {
          detail::cpu_relax();
        } else {
          std::unique_lock<std::mutex> lock(sleep_mutex_);
          ++sleepers_;
          wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen || stop_.load(); });
          --sleepers_;
        }
        g = generation_.load(std::memory_order_acquire);
      }
      if (stop_.load()) return;
      seen = g;
      run_tasks();
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // The last one out wakes a caller that stopped spinning (under its mutex: no lost wake-up).
        std::lock_guard<std::mutex> lock(done_mutex_);
        done_.notify_one();
      }
    }
  }

  std::mutex call_mutex_;  // one parallel_for at a time
  // The job: written by the caller before generation_ moves, read by workers after.
  TaskFn task_ = nullptr;
  void* context_ = nullptr;
  int count_ = 0;
  std::atomic<int> next_{0};     // next task index to claim
  std::atomic<int> pending_{0};  // workers still in the current job
  std::atomic<uint64_t> generation_{0};  // moved under sleep_mutex_
  int sleepers_ = 0;                      // workers waiting on wake_ (under sleep_mutex_)
  std::atomic<bool> stop_{false};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::mutex done_mutex_;                 // a caller waiting for the last worker
  std::condition_variable done_;
  std::vector<std::thread> workers_;
};

}  // namespace facekit
