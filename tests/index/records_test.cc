#include "index/records.h"

#include <gtest/gtest.h>

#include "index/codec.h"

namespace greffier::index {
namespace {

DocumentRecord SampleDoc() {
  DocumentRecord d;
  d.id = 42;
  d.source_path = "archives/arrêté-2024.pdf";
  d.content_hash = std::string(64, 'a');
  d.mime_type = "application/pdf";
  d.title = "Arrêté n° 2024-117";
  d.collection = "mairie";
  d.document_type = "arrete";
  d.date = "2024-03-12";
  d.access_labels = {"rh", "confidentiel"};
  d.extra = {{"service", "voirie"}};
  d.pages = {{PageSource::kTextLayer, 1200, 0, ""},
             {PageSource::kOcr, 800, 91.5f, ""},
             {PageSource::kFailed, 0, 0, "timeout"}};
  d.passage_ids = {7, 8, 9};
  d.ingested_at_ms = 1700000000123;
  d.size_bytes = 123456;
  return d;
}

TEST(RecordsTest, DocumentRoundTrip) {
  DocumentRecord d = SampleDoc();
  absl::StatusOr<DocumentRecord> back = DecodeDocument(EncodeDocument(d));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, d.id);
  EXPECT_EQ(back->source_path, d.source_path);
  EXPECT_EQ(back->title, d.title);
  EXPECT_EQ(back->access_labels, d.access_labels);
  EXPECT_EQ(back->extra, d.extra);
  ASSERT_EQ(back->pages.size(), 3u);
  EXPECT_EQ(back->pages[1].source, PageSource::kOcr);
  EXPECT_FLOAT_EQ(back->pages[1].ocr_confidence, 91.5f);
  EXPECT_EQ(back->pages[2].error, "timeout");
  EXPECT_EQ(back->passage_ids, d.passage_ids);
  EXPECT_EQ(back->ingested_at_ms, d.ingested_at_ms);
  EXPECT_EQ(back->size_bytes, d.size_bytes);
}

TEST(RecordsTest, PassageRoundTrip) {
  PassageRecord p{5, 42, 2, 3, 100, 40, {"Chapitre II", "Article 7"}, "Le maire arrête…"};
  absl::StatusOr<PassageRecord> back = DecodePassage(EncodePassage(p));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->page_start, 2u);
  EXPECT_EQ(back->page_end, 3u);
  EXPECT_EQ(back->char_start, 100u);
  EXPECT_EQ(back->char_end, 40u);
  EXPECT_EQ(back->section_path, p.section_path);
  EXPECT_EQ(back->text, p.text);
}

TEST(RecordsTest, EveryTruncationIsAnErrorNotACrash) {
  std::string bytes = EncodeDocument(SampleDoc());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeDocument(bytes.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
  std::string vec = EncodeVector({1, 2, 3});
  for (size_t n = 0; n < vec.size(); ++n) EXPECT_FALSE(DecodeVector(vec.substr(0, n)).ok());
}

TEST(RecordsTest, WrongMagicAndFutureVersionAreRejected) {
  std::string bytes = EncodePassage(PassageRecord{});
  EXPECT_FALSE(DecodeDocument(bytes).ok());  // a passage is not a document
  std::string future = bytes;
  future[4] = 9;
  absl::StatusOr<PassageRecord> r = DecodePassage(future);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("version"), std::string::npos);
}

TEST(RecordsTest, HugeLengthPrefixIsRejected) {
  Encoder e("GFPS", 1);
  e.PutVarint(1);
  e.PutVarint(1);
  e.PutVarint(1);
  e.PutVarint(1);
  e.PutVarint(0);
  e.PutVarint(0);
  e.PutVarint(UINT64_MAX);  // section count far beyond the data
  EXPECT_FALSE(DecodePassage(e.Finish()).ok());
}

TEST(RecordsTest, IdKeysSortNumerically) {
  EXPECT_LT(EncodeId(255), EncodeId(256));
  EXPECT_LT(EncodeId(1), EncodeId(1ull << 40));
  absl::StatusOr<uint64_t> id = DecodeId(EncodeId(123456789));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 123456789u);
  EXPECT_FALSE(DecodeId("short").ok());
}

}  // namespace
}  // namespace greffier::index
