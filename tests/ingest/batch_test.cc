// Batch ingestion: folders, archives, text, unsupported files, parallelism, resumption after an
// interruption, replacement of a changed file.

#include "ingest/batch.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "generate/hashing_embedder.h"
#include "index/index.h"
#include "ingest/archive.h"
#include "ingest/pdf_writer.h"
#include "tests/common/test_util.h"

namespace greffier::ingest {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Pdf(const std::string& subject) {
  return WritePdf(LayoutDocument(
      subject, {{PdfBlock::kTitle, subject},
                {PdfBlock::kParagraph, absl::StrCat("Le conseil municipal délibère sur ", subject,
                                                    " et adopte la proposition du maire.")}}));
}

// Writes an archive ("zip" or "gnutar" + gzip) with the given entries, using libarchive.
void WriteArchive(const fs::path& p, bool zip,
                  const std::vector<std::pair<std::string, std::string>>& entries) {
  struct archive* a = archive_write_new();
  if (zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_gnutar(a);
    archive_write_add_filter_gzip(a);
  }
  ASSERT_EQ(archive_write_open_filename(a, p.c_str()), ARCHIVE_OK);
  for (const auto& [name, bytes] : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, bytes.data(), bytes.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

class BatchTest : public ::testing::Test {
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
    o.extract.ocr = false;
    absl::StatusOr<std::unique_ptr<Ingester>> ing = Ingester::Open(o);
    ASSERT_TRUE(ing.ok()) << ing.status();
    ingester_ = std::move(*ing);

    in_ = scratch_.path() / "archive";
    WriteFile(in_ / "2012/voirie.pdf", Pdf("la voirie communale"));
    WriteFile(in_ / "2012/ecole.pdf", Pdf("la cantine scolaire"));
    WriteFile(in_ / "2013/sub/budget.pdf", Pdf("le budget primitif"));
    WriteFile(in_ / "notes.txt", "Notes de la secrétaire de mairie sur la séance.\n");
    WriteFile(in_ / "lisez-moi.md", "# Archives\n\nInventaire des délibérations.\n");
    WriteFile(in_ / "photo.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
    WriteArchive(scratch_.path() / "envoi.zip", true,
                 {{"a/cimetiere.pdf", Pdf("le cimetière")}, {"b/eau.pdf", Pdf("l'eau potable")}});
    WriteArchive(scratch_.path() / "envoi.tar.gz", false, {{"fetes.pdf", Pdf("les fêtes")}});
  }

  std::vector<std::string> Inputs() const {
    return {in_.string(), (scratch_.path() / "envoi.zip").string(),
            (scratch_.path() / "envoi.tar.gz").string()};
  }

  greffier::testing::ScratchDir scratch_;
  generate::HashingEmbedder embedder_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<Ingester> ingester_;
  fs::path in_;
};

TEST_F(BatchTest, IngestsFoldersArchivesAndReportsFailures) {
  BatchOptions o;
  o.jobs = 2;
  std::vector<BatchProgress> seen;
  o.on_progress = [&](const BatchProgress& p) {
    seen.push_back(p);
    seen.back().last = nullptr;  // points into the report, which moves
  };
  BatchReport r = RunBatch(ingester_.get(), Inputs(), o);
  EXPECT_EQ(r.files_total, 9u);
  EXPECT_EQ(r.ingested, 8u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_FALSE(r.cancelled);
  ASSERT_EQ(seen.size(), 10u);  // once counted, then per document
  EXPECT_EQ(seen.front().files_total, 9u);
  EXPECT_EQ(seen.front().files_done, 0u);
  EXPECT_EQ(seen.back().files_done, 9u);
  EXPECT_EQ(seen.back().files_total, 9u);
  EXPECT_GE(seen.back().pages_done, 8u);
  std::set<std::string> sources;
  for (const BatchItem& item : r.items) {
    sources.insert(item.source);
    if (item.outcome == BatchOutcome::kFailed) {
      EXPECT_TRUE(absl::StrContains(item.error, "photo.png: unsupported type")) << item.error;
    } else {
      EXPECT_FALSE(item.pages.empty());
    }
  }
  EXPECT_TRUE(sources.count(
      absl::StrCat(fs::absolute(scratch_.path() / "envoi.zip").string(), "!/b/eau.pdf")));
  EXPECT_EQ(index_->Stats().documents, 8u);

  // The same batch again does no work: everything is unchanged.
  BatchReport again = RunBatch(ingester_.get(), Inputs(), o);
  EXPECT_EQ(again.unchanged, 8u);
  EXPECT_EQ(again.ingested, 0u);
  EXPECT_EQ(again.pages, 0u);
  EXPECT_EQ(index_->Stats().documents, 8u);

  // A new version of one file replaces the old one.
  WriteFile(in_ / "2012/voirie.pdf", Pdf("la voirie communale révisée"));
  BatchReport third = RunBatch(ingester_.get(), Inputs(), o);
  EXPECT_EQ(third.replaced, 1u);
  EXPECT_EQ(third.unchanged, 7u);
  EXPECT_EQ(index_->Stats().documents, 8u);
}

TEST_F(BatchTest, InterruptedBatchResumesWithoutRedoingWork) {
  std::atomic<bool> cancel{false};
  BatchOptions o;
  o.jobs = 1;
  o.cancel = &cancel;
  o.on_progress = [&](const BatchProgress& p) {
    if (p.files_done == 3) cancel = true;  // as if Ctrl-C were pressed
  };
  BatchReport first = RunBatch(ingester_.get(), Inputs(), o);
  EXPECT_TRUE(first.cancelled);
  EXPECT_EQ(first.items.size(), 3u);
  const size_t done_first = first.ingested;

  cancel = false;
  o.on_progress = nullptr;
  BatchReport second = RunBatch(ingester_.get(), Inputs(), o);
  EXPECT_FALSE(second.cancelled);
  EXPECT_EQ(second.unchanged, done_first);
  EXPECT_EQ(second.ingested + second.unchanged, 8u);
  EXPECT_EQ(index_->Stats().documents, 8u);  // nothing stored twice
}

TEST_F(BatchTest, MissingInputsAndDamagedArchivesAreReported) {
  WriteFile(scratch_.path() / "broken.zip", std::string("PK\x03\x04garbage", 11));
  BatchReport r =
      RunBatch(ingester_.get(),
               {(scratch_.path() / "nowhere").string(), (scratch_.path() / "broken.zip").string()},
               BatchOptions());
  EXPECT_EQ(r.failed, 2u);
  ASSERT_EQ(r.items.size(), 2u);
  bool missing = false, broken = false;
  for (const auto& item : r.items) {
    missing |= absl::StrContains(item.error, "no such file or directory");
    broken |= absl::StrContains(item.error, "broken.zip");
  }
  EXPECT_TRUE(missing);
  EXPECT_TRUE(broken);
}

TEST(ArchiveTest, OversizedEntriesAreRefusedNotLoaded) {
  greffier::testing::ScratchDir dir;
  WriteArchive(dir.path() / "big.zip", true,
               {{"big.txt", std::string(1 << 20, 'a')}, {"small.txt", "petit"}});
  std::vector<ArchiveEntry> seen;
  absl::Status s =
      ForEachArchiveEntry((dir.path() / "big.zip").string(), 1000, [&](ArchiveEntry&& e) {
        seen.push_back(std::move(e));
        return true;
      });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen[0].error.empty());
  EXPECT_TRUE(seen[0].bytes.empty());
  EXPECT_EQ(seen[1].bytes, "petit");
  EXPECT_TRUE(LooksLikeArchive(std::string("PK\x03\x04", 4)));
  EXPECT_FALSE(LooksLikeArchive("%PDF-1.4"));
}

}  // namespace
}  // namespace greffier::ingest
