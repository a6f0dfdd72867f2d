// The sandbox: children that crash, hang, spin or allocate too much are rejected with a reason, and
// the caller carries on.

#include "ingest/sandbox.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
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

}  // namespace
}  // namespace greffier::ingest
