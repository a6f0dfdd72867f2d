// The Ask pipeline below gRPC: reproducibility and replay from the audit record.

#include "service/ask_pipeline.h"

#include <gtest/gtest.h>

#include <cmath>

#include "generate/hashing_embedder.h"
#include "index/audit_log.h"
#include "ingest/ingester.h"
#include "ingest/pdf_writer.h"
#include "ingest/sample_archive.h"
#include "service/data_dir.h"
#include "tests/common/test_util.h"

namespace greffier::service {
namespace {

class AskPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = OpenIndex(dir_.path().string(), embedder_, false);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(*index);
    ingest::IngesterOptions io;
    io.index = index_.get();
    io.embedder = &embedder_;
    auto ingester = ingest::Ingester::Open(io);
    ASSERT_TRUE(ingester.ok());
    for (const auto& doc : ingest::SampleDocuments()) {
      ingest::LayoutOptions layout;
      layout.font_size = 14;
      ingest::IngestMetadata meta;
      if (doc.document_type == "notice") meta.access_labels = {"etat-civil"};
      auto r = (*ingester)->Ingest(
          ingest::WritePdf(ingest::LayoutDocument(doc.title, doc.blocks, layout)), doc.file_name,
          meta);
      ASSERT_TRUE(r.ok()) << r.status();
      ids_[doc.file_name] = r->document_id;
    }
    AskPipelineOptions options;
    options.retriever = RetrieverOptionsFor(embedder_);
    pipeline_ = std::make_unique<AskPipeline>(index_.get(), &embedder_, nullptr, options);
  }

  absl::StatusOr<v1::FinalAnswer> Ask(const std::string& question, const Caller& caller) {
    v1::AskRequest req;
    req.set_question(question);
    return pipeline_->Ask(
        req, caller, [](const v1::AskEvent&) { return true; }, nullptr);
  }

  testing::ScratchDir dir_;
  generate::HashingEmbedder embedder_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<AskPipeline> pipeline_;
  std::map<std::string, uint64_t> ids_;
};

TEST_F(AskPipelineTest, SameQuestionSameAnswerAndReplayMatches) {
  Caller clerk{"clerk", {"etat-civil"}, false};
  auto a = Ask("Quelles pièces fournir pour une carte d'identité ?", clerk);
  auto b = Ask("Quelles pièces fournir pour une carte d'identité ?", clerk);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->refused());
  EXPECT_EQ(a->answer(), b->answer());  // byte for byte
  EXPECT_NE(a->audit_record_id(), b->audit_record_id());

  auto record = index_->audit().Get(a->audit_record_id());
  ASSERT_TRUE(record.ok());
  // The record holds what replay needs, the caller's labels included: without them the
  // labelled notice would be invisible and the answer would differ.
  EXPECT_NE(record->body_json.find("\"caller_labels\":[\"etat-civil\"]"), std::string::npos);
  auto replay = pipeline_->ReplayRecord(*record);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->match) << replay->recorded << " vs " << replay->replayed;
  EXPECT_EQ(replay->replayed, a->answer());

  // Once the cited document is gone, replay reports the difference.
  ASSERT_TRUE(index_->DeleteDocument(ids_["notice-demande-carte-identite.pdf"]).ok());
  replay = pipeline_->ReplayRecord(*record);
  ASSERT_TRUE(replay.ok());
  EXPECT_FALSE(replay->match);
}

TEST_F(AskPipelineTest, RefusalsReplayToo) {
  auto a = Ask("Quelle est la capitale de l'Australie ?", Caller{"x", {}, false});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->refused());
  auto record = index_->audit().Get(a->audit_record_id());
  ASSERT_TRUE(record.ok());
  auto replay = pipeline_->ReplayRecord(*record);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->match);
}

TEST_F(AskPipelineTest, ARequestSetsItsOwnRefusalThresholdAndReplayKeepsIt) {
  const Caller caller{"x", {}, false};
  const std::string question = "Devant quel tribunal former un recours contre l'arrêté ?";
  auto plain = Ask(question, caller);
  ASSERT_TRUE(plain.ok());
  ASSERT_FALSE(plain->refused());
  EXPECT_DOUBLE_EQ(plain->min_evidence(), AskPipelineOptions().min_evidence);
  // The evidence is the geometric mean of its two parts, and passed the threshold.
  EXPECT_GT(plain->coverage(), 0.0);
  EXPECT_GT(plain->support(), 0.0);
  EXPECT_LE(plain->support(), 1.0);
  EXPECT_NEAR(plain->evidence(), std::sqrt(plain->coverage() * plain->support()), 1e-12);
  EXPECT_GE(plain->evidence(), plain->min_evidence());
  ASSERT_LT(plain->evidence(), 0.99);

  auto ask_with = [&](double threshold) {
    v1::AskRequest r;
    r.set_question(question);
    r.set_min_evidence(threshold);
    return pipeline_->Ask(
        r, caller, [](const v1::AskEvent&) { return true; }, nullptr);
  };
  // A stricter caller than the evidence allows gets a refusal, and is told why.
  auto strict = ask_with(plain->evidence() + 0.01);
  ASSERT_TRUE(strict.ok()) << strict.status();
  EXPECT_TRUE(strict->refused());
  EXPECT_NE(strict->refusal_reason().find("below the threshold"), std::string::npos);
  EXPECT_TRUE(strict->citations().empty());
  EXPECT_DOUBLE_EQ(strict->evidence(), plain->evidence());
  // Just below it, the same answer.
  auto loose = ask_with(plain->evidence() - 0.01);
  ASSERT_TRUE(loose.ok());
  EXPECT_FALSE(loose->refused());
  EXPECT_EQ(loose->answer(), plain->answer());

  // Out of range is the caller's error, named.
  auto error = ask_with(1.5);
  EXPECT_EQ(error.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(error.status().message().find("min_evidence"), std::string::npos);

  // Replay uses the threshold recorded, not the replaying server's: a server started with a
  // stricter default still answers what was answered, and refuses what a request refused.
  auto record = index_->audit().Get(plain->audit_record_id());
  ASSERT_TRUE(record.ok());
  EXPECT_NE(record->body_json.find("\"min_evidence\":0.12"), std::string::npos);
  AskPipelineOptions stricter;
  stricter.retriever = RetrieverOptionsFor(embedder_);
  stricter.min_evidence = plain->evidence() + 0.01;
  AskPipeline other(index_.get(), &embedder_, nullptr, stricter);
  auto replay = other.ReplayRecord(*record);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->match) << replay->recorded << " vs " << replay->replayed;
  auto strict_record = index_->audit().Get(strict->audit_record_id());
  ASSERT_TRUE(strict_record.ok());
  replay = pipeline_->ReplayRecord(*strict_record);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->match) << replay->recorded << " vs " << replay->replayed;
}

TEST_F(AskPipelineTest, OnlyAskRecordsReplay) {
  index::AuditRecord r;
  r.caller = "x";
  r.kind = "delete";
  r.body_json = "{}";
  auto stored = index_->audit().Append(r);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(pipeline_->ReplayRecord(*stored).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AskPipelineTest, AnswersHaveAtMostThreeSentencesEachCited) {
  auto a = Ask("Devant quel tribunal former un recours contre l'arrêté ?", Caller{"x", {}, false});
  ASSERT_TRUE(a.ok());
  ASSERT_FALSE(a->refused());
  EXPECT_LE(a->sentences_size(), 3);
  for (const auto& s : a->sentences()) {
    EXPECT_TRUE(s.supported()) << s.sentence();
    EXPECT_FALSE(s.cited().empty());
  }
  EXPECT_NE(a->answer().find("Orléans"), std::string::npos) << a->answer();
}

}  // namespace
}  // namespace greffier::service
