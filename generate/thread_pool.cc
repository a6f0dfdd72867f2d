#include "generate/thread_pool.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace greffier::generate {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

constexpr int kSpinIterations = 20000;
constexpr uint64_t kMaxChunks = (1u << 24) - 1;

inline uint32_t Gen(uint64_t s) { return static_cast<uint32_t>(s >> 48); }
inline uint64_t Total(uint64_t s) { return (s >> 24) & kMaxChunks; }
inline uint64_t Next(uint64_t s) { return s & kMaxChunks; }
inline uint64_t Pack(uint64_t gen, uint64_t total, uint64_t next) {
  return (gen & 0xffff) << 48 | total << 24 | next;
}

}  // namespace

int ThreadPool::HardwareThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads > 0 ? n_threads : HardwareThreads()) {
  workers_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) {
    workers_.emplace_back([this, i] { WorkerLoop(i); });
  }
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  uint64_t s = state_.load();
  state_.store(Pack(Gen(s) + 1, 0, 0));
  WakeAll();
  for (auto& t : workers_) t.join();
}

void ThreadPool::WakeAll() {
  // seq_cst with the sleeper's increment-then-check: either the sleeper sees
  // the new state or we see the sleeper.
  wake_.fetch_add(1);
  if (sleepers_.load() > 0) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&wake_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
            nullptr, 0);
  }
}

void ThreadPool::RunChunks(uint32_t gen, int thread_index) {
  uint64_t s = state_.load(std::memory_order_acquire);
  while (Gen(s) == gen && Next(s) < Total(s)) {
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      continue;
    }
    // The claim succeeded: the section's parameters stay valid until this
    // chunk is counted done.
    int64_t chunk = static_cast<int64_t>(Next(s));
    int64_t begin = chunk * grain_;
    int64_t end = std::min(n_, begin + grain_);
    (*task_)(begin, end, thread_index);
    done_.fetch_add(1, std::memory_order_acq_rel);
    s = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::WorkerLoop(int index) {
  // Generation 0 is the state at construction: a worker that starts late
  // still notices sections (or the stop) published before it ran.
  uint32_t seen = 0;
  while (true) {
    uint64_t s = state_.load(std::memory_order_acquire);
    int spins = 0;
    while (Gen(s) == seen) {
      if (++spins < kSpinIterations) {
        CpuRelax();
      } else {
        // Load the futex word before re-checking the state, so a section
        // published in between changes it and the wait returns at once.
        uint32_t w = wake_.load();
        sleepers_.fetch_add(1);
        s = state_.load();
        if (Gen(s) == seen) {
          syscall(SYS_futex, reinterpret_cast<uint32_t*>(&wake_), FUTEX_WAIT_PRIVATE, w, nullptr,
                  nullptr, 0);
        }
        sleepers_.fetch_sub(1);
      }
      s = state_.load(std::memory_order_acquire);
    }
    seen = Gen(s);
    if (stop_.load()) return;
    RunChunks(seen, index);
  }
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t chunks = (n + grain - 1) / grain;
  if (chunks > static_cast<int64_t>(kMaxChunks)) {
    grain = (n + kMaxChunks - 1) / kMaxChunks;
    chunks = (n + grain - 1) / grain;
  }
  if (n_threads_ == 1 || chunks == 1) {
    fn(0, n, 0);
    return;
  }
  std::lock_guard<std::mutex> lock(run_mu_);
  task_ = &fn;
  n_ = n;
  grain_ = grain;
  done_.store(0, std::memory_order_relaxed);
  uint32_t gen = Gen(state_.load(std::memory_order_relaxed)) + 1;
  state_.store(Pack(gen, chunks, 0));
  WakeAll();
  RunChunks(gen & 0xffff, 0);
  // Wait only for chunks that a worker claimed and is still running.
  int spins = 0;
  while (done_.load(std::memory_order_acquire) != chunks) {
    if (++spins < kSpinIterations) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  int64_t grain = std::max<int64_t>(1, n / (4 * n_threads_));
  ParallelFor(n, grain, [&](int64_t b, int64_t e, int) { fn(b, e); });
}

}  // namespace greffier::generate
