// Real French administrative PDFs (../shared/corpus/fr-admin): born-digital documents give
// page-accurate passages without running headers; scanned pages are OCR'd. Prints pages/s figures
// and the OCR agreement with the reference OCR shipped with the scans.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "generate/hashing_embedder.h"
#include "index/index.h"
#include "ingest/ingester.h"
#include "ingest/passage_splitter.h"
#include "ingest/pdf_extractor.h"
#include "ingest/text_normalize.h"
#include "tests/common/test_util.h"

namespace greffier::ingest {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> Pdfs(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".pdf") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The code points [begin, end) of `text`.
std::string CodePointSlice(const std::string& text, size_t begin, size_t end) {
  std::string out;
  size_t cp = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    bool lead = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (lead && i > 0) ++cp;
    if (cp >= begin && cp < end) out.push_back(text[i]);
  }
  return out;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(FrAdminSharedTest, BornDigitalPassagesArePageAccurate) {
  GREFFIER_REQUIRE_SHARED("corpus/fr-admin/regardscitoyens-CM-chemere");
  const fs::path root = greffier::testing::SharedDir() / "corpus/fr-admin";
  std::vector<fs::path> files = Pdfs(root / "regardscitoyens-CM-chemere");
  for (const char* f :
       {"cquest-jorf/joe_20200124_0020_0001.pdf", "etalab-formIAble-cerfa/cerfa_13969_01.pdf"}) {
    if (fs::exists(root / f)) files.push_back(root / f);
  }
  ASSERT_GT(files.size(), 30u);
  ExtractOptions o;
  o.ocr = false;
  size_t pages = 0, passages = 0, header_pages = 0, cm_pages = 0, deliberations = 0;
  double extract_s = 0;
  for (const fs::path& f : files) {
    const std::string bytes = Read(f);
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<ExtractedDocument> doc = ExtractPdf(bytes, f.filename().string(), o);
    extract_s += Seconds(t0);
    ASSERT_TRUE(doc.ok()) << doc.status();
    pages += doc->pages.size();
    const bool cm = absl::StrContains(f.string(), "source-pdf");
    const bool jo = absl::StrContains(f.string(), "joe_");
    for (const auto& p : doc->pages) {
      EXPECT_NE(p.source, index::PageSource::kFailed) << f;
      // The Journal officiel's running head, on portrait and landscape pages alike.
      if (jo) {
        EXPECT_FALSE(absl::StrContains(p.text, "Texte 1 sur 128")) << p.text.substr(0, 200);
      }
      if (cm) {
        ++cm_pages;
        header_pages += absl::StrContains(p.text, "DEPARTEMENT DE LOIRE-ATLANTIQUE");
      }
    }
    std::vector<index::PassageRecord> ps = SplitIntoPassages(doc->pages);
    passages += ps.size();
    for (const auto& p : ps) {
      ASSERT_GE(p.page_start, 1u);
      ASSERT_LE(p.page_start, p.page_end);
      ASSERT_LE(p.page_end, doc->pages.size());
      if (!p.section_path.empty() && absl::StartsWith(p.section_path[0], "Délibération")) {
        ++deliberations;
      }
      // The offsets point at the passage's first and last characters in its pages.
      const std::string& first = doc->pages[p.page_start - 1].text;
      const std::string& last = doc->pages[p.page_end - 1].text;
      const size_t n = std::min<size_t>(12, CodePointCount(p.text));
      std::string head = CodePointSlice(first, p.char_start, p.char_start + n);
      std::string tail =
          CodePointSlice(last, p.char_end - std::min<size_t>(n, p.char_end), p.char_end);
      EXPECT_TRUE(absl::StartsWith(p.text, head))
          << f << " p." << p.page_start << ": [" << head << "] vs [" << p.text.substr(0, 40) << "]";
      EXPECT_TRUE(absl::EndsWith(p.text, tail)) << f << " p." << p.page_end << ": [" << tail << "]";
    }
  }
  std::printf(
      "born-digital extraction (layout, no OCR): %zu files, %zu pages in %.2f "
      "s = %.0f "
      "pages/s (1 thread); %zu passages\n",
      files.size(), pages, extract_s, static_cast<double>(pages) / extract_s, passages);
  // The running header of the council minutes is gone from (nearly) every page.
  EXPECT_LE(header_pages * 20, cm_pages) << header_pages << " of " << cm_pages;
  // Numbered délibérations structure the minutes.
  EXPECT_GT(deliberations, 50u);
}

class FrAdminPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    index::IndexOptions io;
    io.path = (scratch_.path() / "index").string();
    io.embedder_id = embedder_.Identity();
    io.dimension = embedder_.Dimension();
    absl::StatusOr<std::unique_ptr<index::Index>> idx = index::Index::Open(io);
    ASSERT_TRUE(idx.ok()) << idx.status();
    index_ = std::move(*idx);
    IngesterOptions o;
    o.index = index_.get();
    o.embedder = &embedder_;
    absl::StatusOr<std::unique_ptr<Ingester>> ing = Ingester::Open(o);
    ASSERT_TRUE(ing.ok()) << ing.status();
    ingester_ = std::move(*ing);
  }
  greffier::testing::ScratchDir scratch_;
  generate::HashingEmbedder embedder_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<Ingester> ingester_;
};

TEST_F(FrAdminPipelineTest, FullPipelineOnBornDigitalDocuments) {
  GREFFIER_REQUIRE_SHARED("corpus/fr-admin/regardscitoyens-CM-chemere");
  const fs::path root = greffier::testing::SharedDir() / "corpus/fr-admin";
  std::vector<fs::path> files = Pdfs(root / "regardscitoyens-CM-chemere/source-pdf");
  const fs::path jorf = root / "cquest-jorf/joe_20200124_0020_0001.pdf";
  if (fs::exists(jorf)) files.push_back(jorf);
  size_t pages = 0, minutes = 0, ocr = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (const fs::path& f : files) {
    absl::StatusOr<IngestResult> r = ingester_->Ingest(Read(f), f.string(), IngestMetadata());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->outcome, IngestOutcome::kIngested);
    pages += r->pages.size();
    for (const auto& p : r->pages) ocr += p.source == index::PageSource::kOcr;
    absl::StatusOr<index::DocumentRecord> d = index_->GetDocument(r->document_id);
    ASSERT_TRUE(d.ok());
    minutes += d->document_type == "procès-verbal";
    if (f == jorf) {
      EXPECT_EQ(d->document_type, "arrêté");
      EXPECT_EQ(d->date, "2020-01-22");
      EXPECT_TRUE(absl::StartsWith(d->title, "Arrêté du 22 janvier 2020")) << d->title;
      bool nor = false;
      for (const auto& [k, v] : d->extra) nor |= k == "nor" && v == "PRMD1937810A";
      EXPECT_TRUE(nor);
    }
  }
  double s = Seconds(t0);
  std::printf(
      "full pipeline (sandboxed extraction + structure + passages + embeddings "
      "+ "
      "store), 1 thread: %zu files, %zu pages (%zu of them OCR'd) in %.2f s = "
      "%.0f "
      "pages/s\n",
      files.size(), pages, ocr, s, static_cast<double>(pages) / s);
  EXPECT_GE(minutes * 10, (files.size() - 1) * 8) << minutes << " minutes recognised";
}

// Character-level agreement: 1 - edit distance / longer length, on texts with whitespace collapsed.
double Agreement(const std::string& a8, const std::string& b8) {
  auto squash = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      bool space = c == ' ' || c == '\n' || c == '\t' || c == '\f' || c == '\r';
      if (space) {
        if (!out.empty() && out.back() != ' ') out.push_back(' ');
      } else {
        out.push_back(c);
      }
    }
    return out;
  };
  const std::string a = squash(a8), b = squash(b8);
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return 1.0 - static_cast<double>(prev[b.size()]) /
                   static_cast<double>(std::max<size_t>(1, std::max(a.size(), b.size())));
}

TEST_F(FrAdminPipelineTest, ScannedPagesAreOcrd) {
  GREFFIER_REQUIRE_SHARED("corpus/fr-admin/etalab-datacamp-arretes-scannes");
  const fs::path dir =
      greffier::testing::SharedDir() / "corpus/fr-admin/etalab-datacamp-arretes-scannes";
  const fs::path scan = dir / "pdf/Ablon sur Seine.pdf";
  const std::string bytes = Read(scan);
  auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<IngestResult> r = ingester_->Ingest(bytes, scan.string(), IngestMetadata());
  double s = Seconds(t0);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->pages.size(), 3u);
  for (const auto& p : r->pages) {
    EXPECT_EQ(p.source, index::PageSource::kOcr) << p.error;
    EXPECT_GT(p.ocr_confidence, 40);  // the street-list annex scores lowest
    EXPECT_GT(p.char_count, 200u);
  }
  std::printf("OCR (200 dpi, fra+eng, sandboxed): %zu pages in %.1f s = %.2f pages/s\n",
              r->pages.size(), s, static_cast<double>(r->pages.size()) / s);
  absl::StatusOr<index::DocumentRecord> d = index_->GetDocument(r->document_id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->document_type, "arrêté");

  // Agreement with the reference OCR of the same scan (itself imperfect).
  ExtractOptions o;
  absl::StatusOr<ExtractedDocument> doc = ExtractPdf(bytes, "Ablon sur Seine.pdf", o);
  ASSERT_TRUE(doc.ok());
  std::string ours;
  for (const auto& p : doc->pages) ours += p.text + "\n";
  // GREFFIER_OCR_DUMP=FILE keeps our OCR text, to compare lines with the reference by eye.
  if (const char* dump = std::getenv("GREFFIER_OCR_DUMP"); dump != nullptr) {
    std::ofstream(dump) << ours;
  }
  const fs::path ref = dir / "tesseract_ocr_txt/Ablon sur Seine.pdf.tiff.txt";
  if (fs::exists(ref)) {
    double agreement = Agreement(ours, NormalizeText(Read(ref)));
    std::printf("character agreement with the reference OCR: %.3f\n", agreement);
    EXPECT_GT(agreement, 0.6);
  }
  // Passages of OCR'd pages are page-accurate too.
  for (const auto& p : SplitIntoPassages(doc->pages)) {
    const std::string& page = doc->pages[p.page_start - 1].text;
    const size_t n = std::min<size_t>(10, CodePointCount(p.text));
    EXPECT_TRUE(absl::StartsWith(p.text, CodePointSlice(page, p.char_start, p.char_start + n)));
  }
}

}  // namespace
}  // namespace greffier::ingest
