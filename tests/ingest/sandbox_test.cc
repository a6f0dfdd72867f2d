// The sandbox: children that crash, hang, spin or allocate too much are rejected with a reason, and
// the caller carries on.

#include "ingest/sandbox.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ingest/pdf_writer.h"

namespace greffier::ingest {
namespace {

SandboxOptions Short() {
  SandboxOptions o;
  o.wall_seconds = 2;
  o.cpu_seconds = 1;
  o.memory_bytes = 256ull << 20;
  return o;
}

TEST(SandboxTest, ResultAndErrorsComeBack) {
  absl::StatusOr<std::string> r = RunSandboxed(
      [] { return absl::StatusOr<std::string>(std::string("bonjour\0!", 9)); }, Short(), "ok.pdf");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, std::string("bonjour\0!", 9));
  r = RunSandboxed(
      [] {
        return absl::StatusOr<std::string>(absl::PermissionDeniedError("x.pdf: password required"));
      },
      Short(), "x.pdf");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message(), "x.pdf: password required");
}

TEST(SandboxTest, CrashIsReported) {
  absl::StatusOr<std::string> r = RunSandboxed(
      []() -> absl::StatusOr<std::string> {
        ::raise(SIGSEGV);
        return std::string();
      },
      Short(), "crash.pdf");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "crash.pdf: ")) << r.status();
#if !defined(__SANITIZE_ADDRESS__)  // ASan turns the signal into an exit status
  EXPECT_TRUE(absl::StrContains(r.status().message(), "crash.pdf: the file crashed the parser"))
      << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "signal 11")) << r.status();
#endif
}

TEST(SandboxTest, HangIsKilledAtTheWallClockLimit) {
  auto start = std::chrono::steady_clock::now();
  SandboxOptions o = Short();
  o.wall_seconds = 0.5;
  absl::StatusOr<std::string> r = RunSandboxed(
      []() -> absl::StatusOr<std::string> {
        ::sleep(30);
        return std::string();
      },
      o, "hang.pdf");
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "timed out")) << r.status();
  EXPECT_LT(s, 3);
}

TEST(SandboxTest, SpinningIsStoppedByTheCpuLimit) {
  SandboxOptions o = Short();
  o.wall_seconds = 20;
  absl::StatusOr<std::string> r = RunSandboxed(
      []() -> absl::StatusOr<std::string> {
        volatile uint64_t x = 0;
        while (true) x = x + 1;
      },
      o, "spin.pdf");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "CPU time limit")) << r.status();
}

TEST(SandboxTest, MemoryExplosionIsStopped) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "no address-space limit under sanitizers (they reserve terabytes)";
#endif
  absl::StatusOr<std::string> r = RunSandboxed(
      []() -> absl::StatusOr<std::string> {
        std::vector<std::vector<char>> hog;
        for (int i = 0; i < 64; ++i) hog.emplace_back(64 << 20, 'x');  // 4 GiB
        return std::string(hog.back().data(), 1);
      },
      Short(), "bomb.pdf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "memory limit")) << r.status();
}

TEST(SandboxTest, OversizedResultIsRefused) {
  SandboxOptions o = Short();
  o.max_result_bytes = 1 << 20;
  absl::StatusOr<std::string> r = RunSandboxed(
      [] { return absl::StatusOr<std::string>(std::string(4 << 20, 'a')); }, o, "big.pdf");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
}

TEST(SandboxTest, ConcurrentChildrenDoNotWaitForEachOther) {
  // A slow child forked by another thread while a quick child runs inherits the quick one's pipe;
  // the quick result must not wait for the slow child.
  SandboxOptions o = Short();
  o.wall_seconds = 10;
  double quick_seconds = 0;
  std::thread quick([&] {
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> r = RunSandboxed(
        []() -> absl::StatusOr<std::string> {
          ::usleep(300000);
          return std::string("quick");
        },
        o, "quick.pdf");
    quick_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(r.ok()) << r.status();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread slow([&] {
    absl::StatusOr<std::string> r = RunSandboxed(
        []() -> absl::StatusOr<std::string> {
          ::sleep(3);
          return std::string("slow");
        },
        o, "slow.pdf");
    EXPECT_TRUE(r.ok()) << r.status();
  });
  quick.join();
  slow.join();
  EXPECT_LT(quick_seconds, 2.0);
}

TEST(SandboxTest, ExtractionRecordRoundTripsAndRejectsGarbage) {
  ExtractedDocument doc;
  doc.mime_type = "application/pdf";
  doc.title = "Arrêté";
  doc.pages.resize(2);
  doc.pages[0].text = "Article 1er\nLe maire…";
  doc.pages[0].source = index::PageSource::kOcr;
  doc.pages[0].ocr_confidence = 87.5f;
  doc.pages[1].source = index::PageSource::kFailed;
  doc.pages[1].error = "page could not be parsed";
  std::string enc = EncodeExtracted(doc);
  absl::StatusOr<ExtractedDocument> back = DecodeExtracted(enc);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->title, doc.title);
  ASSERT_EQ(back->pages.size(), 2u);
  EXPECT_EQ(back->pages[0].text, doc.pages[0].text);
  EXPECT_EQ(back->pages[0].source, index::PageSource::kOcr);
  EXPECT_FLOAT_EQ(back->pages[0].ocr_confidence, 87.5f);
  EXPECT_EQ(back->pages[1].error, doc.pages[1].error);
  // Every truncation and a lying page count are rejected, never read out of bounds.
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_FALSE(DecodeExtracted(std::string_view(enc).substr(0, n)).ok()) << n;
  }
  std::string lie = enc;
  lie[5 + 4 + doc.mime_type.size() + 4 + doc.title.size()] = '\xFF';
  EXPECT_FALSE(DecodeExtracted(lie).ok());
}

TEST(SandboxTest, PdfExtractionInTheSandbox) {
  std::string pdf = WritePdf(LayoutDocument(
      "Note", {{PdfBlock::kParagraph, "Le conseil municipal se réunira le 3 mars en mairie."}}));
  ExtractOptions eo;
  eo.ocr = false;
  absl::StatusOr<ExtractedDocument> doc = ExtractPdfSandboxed(pdf, "note.pdf", eo, Short());
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->pages.size(), 1u);
  EXPECT_NE(doc->pages[0].text.find("conseil municipal"), std::string::npos);
  absl::StatusOr<ExtractedDocument> bad =
      ExtractPdfSandboxed("%PDF-1.4 garbage", "bad.pdf", eo, Short());
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StartsWith(bad.status().message(), "bad.pdf: ")) << bad.status();
}

// Pooled workers: one process serves many jobs, each under its own limits, and a failing job
// costs only its worker.
SandboxPool::JobFn TestJob() {
  return [](std::string_view input, const std::string& name) -> absl::StatusOr<std::string> {
    static int jobs_in_this_process = 0;
    ++jobs_in_this_process;
    if (input == "crash") ::raise(SIGSEGV);
    if (input == "term") ::raise(SIGTERM);
    if (input == "hang") ::sleep(30);
    if (input == "spin" || input == "work") {
      // "work" burns 0.6 s of CPU: under a 1 s limit only if each job has its own budget.
      const double seconds = input == "spin" ? 1e9 : 0.6;
      struct timespec t0;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
      volatile uint64_t x = 0;
      while (true) {
        for (int i = 0; i < 1000000; ++i) x = x + 1;
        struct timespec t;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        if (static_cast<double>(t.tv_sec - t0.tv_sec) + 1e-9 * (t.tv_nsec - t0.tv_nsec) > seconds) {
          break;
        }
      }
    }
    // Fails in a worker that served jobs before: leftovers of earlier documents.
    if (input == "flaky" && jobs_in_this_process > 1) ::raise(SIGSEGV);
    if (input == "bomb") {
      std::vector<std::vector<char>> hog;
      for (int i = 0; i < 64; ++i) hog.emplace_back(64 << 20, 'x');  // 4 GiB
    }
    if (input == "error") return absl::NotFoundError(name + ": no such thing");
    return absl::StrCat(name, ":", std::string(input), ":", getpid());
  };
}

// The worker's pid, from a reply of TestJob.
std::string Pid(const absl::StatusOr<std::string>& r) {
  return r.ok() ? r->substr(r->rfind(':') + 1) : std::string();
}

TEST(SandboxPoolTest, OneWorkerServesManyJobs) {
  SandboxPool pool(TestJob(), Short());
  absl::StatusOr<std::string> first = pool.Run("a", "a.pdf");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(absl::StartsWith(*first, "a.pdf:a:")) << *first;
  EXPECT_NE(Pid(first), std::to_string(getpid()));  // ran in a child
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::string> r = pool.Run(std::to_string(i), "n.pdf");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Pid(r), Pid(first));
  }
  absl::StatusOr<std::string> err = pool.Run("error", "e.pdf");
  EXPECT_EQ(err.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(err.status().message(), "e.pdf: no such thing");
  EXPECT_EQ(pool.workers_started(), 1);
}

TEST(SandboxPoolTest, WorkersRetireAfterTheirShare) {
  SandboxOptions o = Short();
  o.jobs_per_worker = 3;
  SandboxPool pool(TestJob(), o);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(pool.Run("x", "x.pdf").ok());
  EXPECT_EQ(pool.workers_started(), 3);
}

TEST(SandboxPoolTest, CrashHangAndSpinCostOnlyTheirWorker) {
  SandboxOptions o = Short();
  o.wall_seconds = 1;
  SandboxPool pool(TestJob(), o);
  ASSERT_TRUE(pool.Run("a", "a.pdf").ok());
  absl::StatusOr<std::string> crash = pool.Run("crash", "crash.pdf");
  ASSERT_FALSE(crash.ok());
  EXPECT_TRUE(absl::StartsWith(crash.status().message(), "crash.pdf: ")) << crash.status();
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_TRUE(absl::StrContains(crash.status().message(), "crashed the parser")) << crash.status();
#endif
  ASSERT_TRUE(pool.Run("b", "b.pdf").ok());
  auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> hang = pool.Run("hang", "hang.pdf");
  EXPECT_EQ(hang.status().code(), absl::StatusCode::kDeadlineExceeded) << hang.status();
  // A timeout is the document's own: not retried (that would double the wait).
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.9);
  o.wall_seconds = 20;
  SandboxPool spin_pool(TestJob(), o);
  absl::StatusOr<std::string> spin = spin_pool.Run("spin", "spin.pdf");
  EXPECT_EQ(spin.status().code(), absl::StatusCode::kResourceExhausted) << spin.status();
  EXPECT_TRUE(absl::StrContains(spin.status().message(), "CPU time limit")) << spin.status();
  EXPECT_TRUE(spin_pool.Run("c", "c.pdf").ok());
  EXPECT_TRUE(pool.Run("c", "c.pdf").ok());
}

TEST(SandboxPoolTest, TerminationStopsParsingWithoutARetry) {
  // The parent's own SIGTERM handler (a server's) must not keep a worker alive.
  auto previous = std::signal(SIGTERM, [](int) {});
  SandboxPool pool(TestJob(), Short());
  ASSERT_TRUE(pool.Run("a", "a.pdf").ok());
  absl::StatusOr<std::string> r = pool.Run("term", "t.pdf");
  std::signal(SIGTERM, previous);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "t.pdf: parsing stopped")) << r.status();
  EXPECT_EQ(pool.workers_started(), 1);  // not retried in a fresh worker
}

TEST(SandboxPoolTest, EachJobHasItsOwnCpuBudget) {
  SandboxOptions o = Short();  // 1 s of CPU per job
  o.wall_seconds = 20;
  SandboxPool pool(TestJob(), o);
  absl::StatusOr<std::string> first = pool.Run("work", "w.pdf");
  ASSERT_TRUE(first.ok()) << first.status();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::string> r = pool.Run("work", "w.pdf");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Pid(r), Pid(first));  // 2.4 s in one process, 0.6 s per job
  }
}

TEST(SandboxPoolTest, FailureAfterEarlierJobsIsRetriedInAFreshWorker) {
  SandboxPool pool(TestJob(), Short());
  ASSERT_TRUE(pool.Run("a", "a.pdf").ok());
  absl::StatusOr<std::string> r = pool.Run("flaky", "f.pdf");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(pool.workers_started(), 2);
}

TEST(SandboxPoolTest, MemoryExplosionIsStopped) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "no address-space limit under sanitizers (they reserve terabytes)";
#endif
  SandboxPool pool(TestJob(), Short());
  absl::StatusOr<std::string> r = pool.Run("bomb", "bomb.pdf");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "memory limit")) << r.status();
  EXPECT_TRUE(pool.Run("ok", "ok.pdf").ok());
}

TEST(SandboxPoolTest, ConcurrentCallsUseSeparateWorkers) {
  SandboxOptions o = Short();
  o.wall_seconds = 10;
  SandboxPool pool(TestJob(), o);
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<std::string>> results(4, absl::UnknownError("not run"));
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { results[t] = pool.Run("work", absl::StrCat("t", t, ".pdf")); });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < 4; ++t) {
    ASSERT_TRUE(results[t].ok()) << results[t].status();
    EXPECT_TRUE(absl::StartsWith(*results[t], absl::StrCat("t", t, ".pdf:"))) << *results[t];
  }
  EXPECT_GE(pool.workers_started(), 2);
  EXPECT_LE(pool.workers_started(), 4);
}

TEST(SandboxPoolTest, PdfParserPool) {
  std::string pdf = WritePdf(LayoutDocument(
      "Note", {{PdfBlock::kParagraph, "Le conseil municipal se réunira le 3 mars en mairie."}}));
  ExtractOptions eo;
  eo.ocr = false;
  std::unique_ptr<SandboxPool> pool = NewPdfParserPool(eo, Short());
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<ExtractedDocument> doc = ExtractPdfInPool(pool.get(), pdf, "note.pdf");
    ASSERT_TRUE(doc.ok()) << doc.status();
    ASSERT_EQ(doc->pages.size(), 1u);
    EXPECT_NE(doc->pages[0].text.find("conseil municipal"), std::string::npos);
    absl::StatusOr<ExtractedDocument> bad =
        ExtractPdfInPool(pool.get(), "%PDF-1.4 garbage", "bad.pdf");
    ASSERT_FALSE(bad.ok());
    EXPECT_TRUE(absl::StartsWith(bad.status().message(), "bad.pdf: ")) << bad.status();
  }
  EXPECT_EQ(pool->workers_started(), 1);
}

}  // namespace
}  // namespace greffier::ingest
