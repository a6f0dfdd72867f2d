#include "generate/thread_pool.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace greffier::generate {
namespace {

TEST(ThreadPoolTest, EveryIndexRunsExactlyOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 7, 100, 1000}) {
      for (int64_t grain : {1, 3, 64}) {
        std::vector<std::atomic<int>> hits(n);
        std::atomic<bool> bad_index{false};
        pool.ParallelFor(n, grain, [&](int64_t b, int64_t e, int ti) {
          if (ti < 0 || ti >= threads) bad_index = true;
          for (int64_t i = b; i < e; ++i) hits[i]++;
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1);
        EXPECT_FALSE(bad_index.load());
      }
    }
  }
}

TEST(ThreadPoolTest, WorkersSleepAndWakeUp) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  for (int round = 0; round < 3; ++round) {
    // Long enough for workers to give up spinning and sleep.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pool.ParallelFor(300, 1, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) sum += i;
    });
  }
  EXPECT_EQ(sum.load(), 3 * 299 * 300 / 2);
}

TEST(ThreadPoolTest, ManyShortSections) {
  ThreadPool pool(2);
  std::atomic<int64_t> count{0};
  for (int i = 0; i < 20000; ++i) {
    pool.ParallelFor(4, 1, [&](int64_t b, int64_t e, int) { count += e - b; });
  }
  EXPECT_EQ(count.load(), 80000);
}

}  // namespace
}  // namespace greffier::generate
