#ifndef GREFFIER_GENERATE_THREAD_POOL_H_
#define GREFFIER_GENERATE_THREAD_POOL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace greffier::generate {

// A fixed set of worker threads for the forward pass. Work is cut into
// chunks that threads claim dynamically, so the caller finishes a parallel
// section alone when the workers are descheduled (busy machines) instead of
// waiting for them. Workers spin briefly between sections, because a decode
// step issues hundreds of short ones, then sleep on a futex.
// Thread-safe: concurrent parallel sections are serialised.
class ThreadPool {
 public:
  // `n_threads` counts the caller; <= 0 means one per hardware thread.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Cuts [0, n) into chunks of `grain` items and calls
  // fn(begin, end, thread_index) for each; thread_index < size() identifies
  // the executing thread (for per-thread scratch). Returns when all are done.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn);
  // Same with a grain giving each thread a few chunks.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

  // Number of hardware threads (at least 1).
  static int HardwareThreads();

 private:
  void WorkerLoop(int index);
  // Claims and runs chunks of the current section; false when none left.
  void RunChunks(uint32_t gen, int thread_index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mu_;
  // Section state, packed so one CAS validates a claim: generation (16 bits),
  // chunk count (24 bits), next chunk (24 bits).
  std::atomic<uint64_t> state_{0};
  std::atomic<int64_t> done_{0};
  // Futex word that sleeping workers wait on, and how many sleep. Raw
  // futex calls: std::atomic::wait in GCC 12's libstdc++ lost wake-ups here.
  std::atomic<uint32_t> wake_{0};
  std::atomic<int> sleepers_{0};
  void WakeAll();
  std::atomic<bool> stop_{false};
  // Parameters of the current section; stable while any chunk is undone.
  const std::function<void(int64_t, int64_t, int)>* task_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_THREAD_POOL_H_
