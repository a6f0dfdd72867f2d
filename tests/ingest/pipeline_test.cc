// The ingestion pipeline end to end below the API: bytes -> passages in the index.

#include <gtest/gtest.h>

#include "generate/hashing_embedder.h"
#include "index/index.h"
#include "ingest/ingester.h"
#include "ingest/pdf_writer.h"
#include "ingest/sample_archive.h"
#include "tests/common/test_util.h"

namespace greffier::ingest {
namespace {

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    index::IndexOptions io;
    io.path = dir_.path().string();
    io.embedder_id = embedder_.Identity();
    io.dimension = embedder_.Dimension();
    auto index = index::Index::Open(io);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(*index);
    IngesterOptions options;
    options.index = index_.get();
    options.embedder = &embedder_;
    auto ingester = Ingester::Open(options);
    ASSERT_TRUE(ingester.ok());
    ingester_ = std::move(*ingester);
  }

  // The passage of `doc_id` whose text contains `phrase`.
  std::optional<index::PassageRecord> FindPassage(uint64_t doc_id, const std::string& phrase) {
    auto doc = index_->GetDocument(doc_id);
    if (!doc.ok()) return std::nullopt;
    for (uint64_t pid : doc->passage_ids) {
      auto p = index_->GetPassage(pid);
      if (p.ok() && testing::CollapseWhitespace(p->text).find(phrase) != std::string::npos)
        return *p;
    }
    return std::nullopt;
  }

  testing::ScratchDir dir_;
  generate::HashingEmbedder embedder_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<Ingester> ingester_;
};

// Three pages, each with a distinctive sentence, so page spans can be checked.
std::string ThreePagePdf(const std::string& variant) {
  PdfDocumentSpec spec;
  spec.title = "Arrêté de test " + variant;
  const char* sentences[] = {"Le stationnement est interdit place de la Mairie.",
                             "La vitesse est limitée à trente kilomètres par heure.",
                             "Le présent arrêté entre en vigueur le 1er juillet 2024."};
  for (int i = 0; i < 3; ++i) {
    PdfPageSpec page;
    page.lines.push_back({72, 760, 12, true, "Article " + std::to_string(i + 1)});
    page.lines.push_back({72, 740, 11, false, sentences[i]});
    page.lines.push_back({72, 720, 11, false, "Version " + variant + "."});
    spec.pages.push_back(page);
  }
  return WritePdf(spec);
}

TEST_F(PipelineTest, PassagesKeepTheirPageAndSection) {
  auto r = ingester_->Ingest(ThreePagePdf("A"), "arrete.pdf", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outcome, IngestOutcome::kIngested);
  ASSERT_EQ(r->pages.size(), 3u);
  for (const auto& p : r->pages) EXPECT_EQ(p.source, index::PageSource::kTextLayer);
  EXPECT_EQ(r->title, "Arrêté de test A");
  auto p = FindPassage(r->document_id, "trente kilomètres");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->page_start, 2u);
  EXPECT_EQ(p->page_end, 2u);
  ASSERT_FALSE(p->section_path.empty());
  EXPECT_EQ(p->section_path.back(), "Article 2");
}

TEST_F(PipelineTest, SameBytesAreANoOpAndNewBytesReplace) {
  auto first = ingester_->Ingest(ThreePagePdf("A"), "arrete.pdf", {});
  ASSERT_TRUE(first.ok());
  auto again = ingester_->Ingest(ThreePagePdf("A"), "copy-elsewhere.pdf", {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, IngestOutcome::kUnchanged);
  EXPECT_EQ(again->document_id, first->document_id);
  EXPECT_EQ(index_->Stats().documents, 1u);

  auto second = ingester_->Ingest(ThreePagePdf("B"), "arrete.pdf", {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->outcome, IngestOutcome::kReplaced);
  EXPECT_EQ(second->replaced_document_id, first->document_id);
  EXPECT_EQ(index_->Stats().documents, 1u);
  EXPECT_TRUE(absl::IsNotFound(index_->GetDocument(first->document_id).status()));
  EXPECT_TRUE(FindPassage(second->document_id, "Version B").has_value());
}

TEST_F(PipelineTest, GivenMetadataIsStored) {
  IngestMetadata meta;
  meta.title = "Titre imposé";
  meta.collection = "voirie";
  meta.document_type = "arrete";
  meta.date = "2024-06-01";
  meta.access_labels = {"agents"};
  auto r = ingester_->Ingest(ThreePagePdf("A"), "arrete.pdf", meta);
  ASSERT_TRUE(r.ok());
  auto doc = index_->GetDocument(r->document_id);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->title, "Titre imposé");
  EXPECT_EQ(doc->collection, "voirie");
  EXPECT_EQ(doc->date, "2024-06-01");
  EXPECT_EQ(doc->access_labels, std::vector<std::string>{"agents"});
}

TEST_F(PipelineTest, BadInputGivesErrorsNamingTheFileAndKeepsStoredData) {
  auto good = ingester_->Ingest(ThreePagePdf("A"), "good.pdf", {});
  ASSERT_TRUE(good.ok());

  auto png = ingester_->Ingest(std::string("\x89PNG\r\n\x1a\n\0\0\0", 11), "photo.pdf", {});
  ASSERT_FALSE(png.ok());
  EXPECT_EQ(png.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(png.status().message().find("photo.pdf"), std::string::npos);
  EXPECT_NE(png.status().message().find("unsupported type"), std::string::npos);

  std::string pdf = ThreePagePdf("C");
  auto truncated = ingester_->Ingest(pdf.substr(0, 40), "broken.pdf", {});
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("broken.pdf"), std::string::npos);

  auto empty = ingester_->Ingest("", "empty.txt", {});
  EXPECT_FALSE(empty.ok());

  EXPECT_EQ(index_->Stats().documents, 1u);
  EXPECT_TRUE(index_->GetDocument(good->document_id).ok());
}

TEST_F(PipelineTest, TooLargeFileIsRefused) {
  IngesterOptions options;
  options.index = index_.get();
  options.embedder = &embedder_;
  options.max_file_bytes = 100;
  auto ingester = Ingester::Open(options);
  ASSERT_TRUE(ingester.ok());
  auto r = (*ingester)->Ingest(ThreePagePdf("A"), "big.pdf", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("big.pdf"), std::string::npos);
}

TEST_F(PipelineTest, PlainTextIsAccepted) {
  auto r = ingester_->Ingest(
      "Article 1er\nLa cantine ouvre à midi.\n\nArticle 2\nElle ferme à 14 h.", "note.txt", {});
  ASSERT_TRUE(r.ok()) << r.status();
  auto p = FindPassage(r->document_id, "14 h");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->section_path.back(), "Article 2");
}

TEST_F(PipelineTest, SampleArchiveIngestsWithSeveralPagesEach) {
  for (const auto& doc : SampleDocuments()) {
    LayoutOptions layout;
    layout.font_size = 14;
    PdfDocumentSpec spec = LayoutDocument(doc.title, doc.blocks, layout);
    auto r = ingester_->Ingest(WritePdf(spec), doc.file_name, {});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GE(r->pages.size(), 2u) << doc.file_name;
    EXPECT_GT(r->passage_count, 1u) << doc.file_name;
  }
  // Every sample question's answer phrase is stored in its document.
  for (const auto& q : SampleQuestions()) {
    auto id = index_->FindBySource(q.file_name);
    ASSERT_TRUE(id.ok() && id->has_value()) << q.file_name;
    EXPECT_TRUE(FindPassage(**id, q.answer).has_value()) << q.answer;
  }
}

}  // namespace
}  // namespace greffier::ingest
