// Every file of ../shared/corpus/robustness/ (malformed, hostile and unusual PDFs) goes through the
// ingester: none may crash or hang it; each is ingested or rejected with a reason. Prints the
// tally.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "generate/hashing_embedder.h"
#include "index/index.h"
#include "ingest/ingester.h"
#include "tests/common/test_util.h"

namespace greffier::ingest {
namespace {

namespace fs = std::filesystem;

// "path: timed out after 8 s (wall clock)..." -> "timed out after N s"
std::string ReasonClass(const std::string& message, const std::string& source) {
  std::string m = message;
  if (absl::StartsWith(m, source + ": ")) m = m.substr(source.size() + 2);
  size_t cut = m.find_first_of("(;");
  if (cut != std::string::npos) m = m.substr(0, cut);
  std::string out;
  for (char c : m) {
    if (c >= '0' && c <= '9') {
      if (out.empty() || out.back() != 'N') out.push_back('N');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ':')) out.pop_back();
  return out;
}

TEST(RobustnessSharedTest, EveryFileIsIngestedOrRejectedWithAReason) {
  GREFFIER_REQUIRE_SHARED("corpus/robustness");
  const fs::path root = greffier::testing::SharedDir() / "corpus/robustness";
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 100u);

  greffier::testing::ScratchDir scratch;
  generate::HashingEmbedder embedder;
  index::IndexOptions io;
  io.path = (scratch.path() / "index").string();
  io.embedder_id = embedder.Identity();
  io.dimension = embedder.Dimension();
  absl::StatusOr<std::unique_ptr<index::Index>> idx = index::Index::Open(io);
  ASSERT_TRUE(idx.ok()) << idx.status();
  IngesterOptions o;
  o.index = idx->get();
  o.embedder = &embedder;
  // Short limits keep the suite fast; the hanging files hit them.
  o.sandbox_limits.wall_seconds = 8;
  o.sandbox_limits.cpu_seconds = 6;
  o.sandbox_limits.memory_bytes = 1ull << 30;
  // OCR runs (the renderer is part of the attack surface) on one page per file, at a resolution
  // that keeps the run short.
  o.extract.ocr_options.dpi = 72;
  o.extract.max_ocr_pages = 1;
  absl::StatusOr<std::unique_ptr<Ingester>> ingester = Ingester::Open(o);
  ASSERT_TRUE(ingester.ok()) << ingester.status();

  std::mutex mu;
  std::map<std::string, int> tally;
  std::map<std::string, std::string> example;
  std::map<std::string, int> page_errors;
  int ingested = 0, rejected = 0, pages = 0, ocr_pages = 0, failed_pages = 0;
  double slowest = 0;
  std::string slowest_file;
  std::atomic<size_t> next{0};
  auto start = std::chrono::steady_clock::now();
  auto worker = [&] {
    while (true) {
      size_t i = next++;
      if (i >= files.size()) return;
      const std::string rel = fs::relative(files[i], root).string();
      std::ifstream in(files[i], std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      auto t0 = std::chrono::steady_clock::now();
      absl::StatusOr<IngestResult> r = (*ingester)->Ingest(buf.str(), rel, IngestMetadata());
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard lock(mu);
      if (s > slowest) slowest = s, slowest_file = rel;
      if (r.ok()) {
        ++ingested;
        for (const auto& p : r->pages) {
          ++pages;
          ocr_pages += p.source == index::PageSource::kOcr;
          if (p.source == index::PageSource::kFailed) {
            ++failed_pages;
            ++page_errors[ReasonClass(p.error, "")];
          }
        }
      } else {
        ++rejected;
        const std::string message(r.status().message());
        EXPECT_TRUE(absl::StartsWith(message, rel)) << "error does not name the file: " << message;
        std::string reason = ReasonClass(message, rel);
        EXPECT_FALSE(reason.empty()) << message;
        ++tally[reason];
        example.emplace(reason, message);
      }
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("robustness corpus: %zu files in %.1f s (2 threads)\n", files.size(), total);
  std::printf("  ingested: %d (%d pages, %d OCR'd, %d failed pages)\n", ingested, pages, ocr_pages,
              failed_pages);
  for (const auto& [reason, n] : page_errors) std::printf("    %5d pages: %s\n", n, reason.c_str());
  std::printf("  rejected: %d\n", rejected);
  for (const auto& [reason, n] : tally) {
    std::printf("    %4d  %s   e.g. %s\n", n, reason.c_str(), example[reason].c_str());
  }
  std::printf("  crashed: 0, hung: 0 (slowest file %.1f s: %s)\n", slowest, slowest_file.c_str());
  EXPECT_EQ(ingested + rejected, static_cast<int>(files.size()));
  // No file may hold the ingester beyond the sandbox's wall clock (plus reaping and indexing).
  EXPECT_LT(slowest, o.sandbox_limits.wall_seconds + 10);
  // Known cases from robustness_highlights.tsv.
  EXPECT_GT(tally["password required"], 0);
}

}  // namespace
}  // namespace greffier::ingest
