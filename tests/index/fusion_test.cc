#include "index/fusion.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace greffier::index {
namespace {

std::vector<uint64_t> Ids(const std::vector<FusedHit>& hits) {
  std::vector<uint64_t> ids;
  for (const auto& h : hits) ids.push_back(h.passage_id);
  return ids;
}

const FusedHit* Find(const std::vector<FusedHit>& hits, uint64_t id) {
  for (const auto& h : hits) {
    if (h.passage_id == id) return &h;
  }
  return nullptr;
}

TEST(FusionTest, ReciprocalRankSumsBothLists) {
  std::vector<ScoredPassage> lexical = {{10, 9.0}, {20, 5.0}, {30, 1.0}};
  std::vector<ScoredPassage> dense = {{20, 0.9}, {40, 0.8}, {10, 0.1}};
  FusionOptions options;
  options.method = FusionMethod::kReciprocalRank;
  options.dense_weight = 1.0;
  auto fused = FuseRankings(lexical, dense, options);
  ASSERT_EQ(fused.size(), 4u);
  // 20: ranks 2 and 1; 10: ranks 1 and 3; 40: rank 2; 30: rank 3.
  EXPECT_EQ(Ids(fused), (std::vector<uint64_t>{20, 10, 40, 30}));
  EXPECT_DOUBLE_EQ(fused[0].score, 1.0 / 62 + 1.0 / 61);
  EXPECT_DOUBLE_EQ(fused[1].score, 1.0 / 61 + 1.0 / 63);
  EXPECT_DOUBLE_EQ(fused[2].score, 1.0 / 62);
  EXPECT_DOUBLE_EQ(fused[3].score, 1.0 / 63);
}

TEST(FusionTest, KeepsPerListRanksAndScores) {
  std::vector<ScoredPassage> lexical = {{1, 7.5}, {2, 3.25}};
  std::vector<ScoredPassage> dense = {{3, 0.5}, {2, 0.25}};
  auto fused = FuseRankings(lexical, dense);
  const FusedHit* two = Find(fused, 2);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->lexical_rank, 2u);
  EXPECT_DOUBLE_EQ(two->lexical_score, 3.25);
  EXPECT_EQ(two->dense_rank, 2u);
  EXPECT_DOUBLE_EQ(two->dense_score, 0.25);
  const FusedHit* one = Find(fused, 1);
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->lexical_rank, 1u);
  EXPECT_EQ(one->dense_rank, 0u);
  EXPECT_DOUBLE_EQ(one->dense_score, 0.0);
  const FusedHit* three = Find(fused, 3);
  ASSERT_NE(three, nullptr);
  EXPECT_EQ(three->lexical_rank, 0u);
  EXPECT_EQ(three->dense_rank, 1u);
}

TEST(FusionTest, TiesGoToSmallerId) {
  // Same ranks in mirrored lists: equal RRF scores.
  std::vector<ScoredPassage> lexical = {{9, 1.0}, {4, 0.5}};
  std::vector<ScoredPassage> dense = {{4, 1.0}, {9, 0.5}};
  FusionOptions options;
  options.dense_weight = 1.0;
  auto fused = FuseRankings(lexical, dense, options);
  ASSERT_EQ(fused.size(), 2u);
  EXPECT_DOUBLE_EQ(fused[0].score, fused[1].score);
  EXPECT_EQ(Ids(fused), (std::vector<uint64_t>{4, 9}));
}

TEST(FusionTest, DuplicateInOneListKeepsBestOccurrence) {
  std::vector<ScoredPassage> lexical = {{5, 3.0}, {6, 2.0}, {5, 1.0}};
  auto fused = FuseRankings(lexical, {});
  ASSERT_EQ(fused.size(), 2u);
  const FusedHit* five = Find(fused, 5);
  ASSERT_NE(five, nullptr);
  EXPECT_EQ(five->lexical_rank, 1u);
  EXPECT_DOUBLE_EQ(five->lexical_score, 3.0);
}

TEST(FusionTest, EmptyInputs) {
  EXPECT_TRUE(FuseRankings({}, {}).empty());
  std::vector<ScoredPassage> dense = {{1, 0.3}, {2, 0.2}};
  for (FusionMethod m :
       {FusionMethod::kReciprocalRank, FusionMethod::kMinMaxScore, FusionMethod::kZScore}) {
    FusionOptions options;
    options.method = m;
    EXPECT_EQ(Ids(FuseRankings({}, dense, options)), (std::vector<uint64_t>{1, 2}));
    EXPECT_EQ(Ids(FuseRankings(dense, {}, options)), (std::vector<uint64_t>{1, 2}));
  }
}

TEST(FusionTest, LimitKeepsBest) {
  std::vector<ScoredPassage> lexical = {{1, 4}, {2, 3}, {3, 2}, {4, 1}};
  FusionOptions options;
  options.limit = 2;
  EXPECT_EQ(Ids(FuseRankings(lexical, {}, options)), (std::vector<uint64_t>{1, 2}));
}

TEST(FusionTest, WeightsShiftTheBalance) {
  std::vector<ScoredPassage> lexical = {{1, 2.0}, {2, 1.0}};
  std::vector<ScoredPassage> dense = {{2, 0.9}, {1, 0.1}};
  FusionOptions options;
  options.dense_weight = 0.0;
  EXPECT_EQ(Ids(FuseRankings(lexical, dense, options)), (std::vector<uint64_t>{1, 2}));
  options.dense_weight = 1.0;
  options.lexical_weight = 0.0;
  EXPECT_EQ(Ids(FuseRankings(lexical, dense, options)), (std::vector<uint64_t>{2, 1}));
}

TEST(FusionTest, SmallerRrfKFavoursTopRanks) {
  // 1 is first in one list only; 2 is third in both.
  std::vector<ScoredPassage> lexical = {{1, 3}, {7, 2}, {2, 1}};
  std::vector<ScoredPassage> dense = {{5, 3}, {6, 2}, {2, 1}};
  FusionOptions options;
  options.method = FusionMethod::kReciprocalRank;
  options.dense_weight = 1.0;
  options.rrf_k = 60;
  // 2 / (k + 3) > 1 / (k + 1) exactly when k > 1.
  EXPECT_EQ(FuseRankings(lexical, dense, options)[0].passage_id, 2u);
  options.rrf_k = 0.5;
  EXPECT_EQ(FuseRankings(lexical, dense, options)[0].passage_id, 1u);
}

TEST(FusionTest, MinMaxNormalisesEachList) {
  // BM25-like and cosine-like scales: normalisation makes them comparable.
  std::vector<ScoredPassage> lexical = {{1, 30.0}, {2, 20.0}, {3, 10.0}};
  std::vector<ScoredPassage> dense = {{3, 0.9}, {2, 0.8}, {4, 0.5}};
  FusionOptions options;
  options.method = FusionMethod::kMinMaxScore;
  options.dense_weight = 1.0;
  auto fused = FuseRankings(lexical, dense, options);
  ASSERT_EQ(fused.size(), 4u);
  auto score = [&](uint64_t id) { return Find(fused, id)->score; };
  EXPECT_DOUBLE_EQ(score(1), 1.0 + 0.0);  // Absent from dense: 0.
  EXPECT_DOUBLE_EQ(score(2), 0.5 + (0.8 - 0.5) / (0.9 - 0.5));
  EXPECT_DOUBLE_EQ(score(3), 0.0 + 1.0);
  EXPECT_DOUBLE_EQ(score(4), 0.0 + 0.0);
  EXPECT_EQ(fused[0].passage_id, 2u);
  // Same positive score everywhere in a list: every listed passage counts
  // fully.
  std::vector<ScoredPassage> flat = {{7, 0.5}, {8, 0.5}};
  auto flat_fused = FuseRankings(flat, {}, options);
  ASSERT_EQ(flat_fused.size(), 2u);
  EXPECT_DOUBLE_EQ(flat_fused[0].score, 1.0);
  EXPECT_DOUBLE_EQ(flat_fused[1].score, 1.0);
}

TEST(FusionTest, LoneHitCountsAndAllZeroListIsIgnored) {
  // A single strong BM25 hit, and the dense list of an all-zero query vector
  // (arbitrary passages, all scored 0): the BM25 hit must stay first.
  std::vector<ScoredPassage> lexical = {{42, 12.0}};
  std::vector<ScoredPassage> dense = {{1, 0.0}, {2, 0.0}, {3, 0.0}};
  for (FusionMethod m : {FusionMethod::kMinMaxScore, FusionMethod::kZScore}) {
    FusionOptions options;
    options.method = m;
    options.dense_weight = 1.0;
    auto fused = FuseRankings(lexical, dense, options);
    ASSERT_EQ(fused.size(), 4u);
    EXPECT_EQ(fused[0].passage_id, 42u);
    EXPECT_DOUBLE_EQ(fused[0].score, 1.0);
    for (size_t i = 1; i < fused.size(); ++i) {
      EXPECT_DOUBLE_EQ(fused[i].score, 0.0);
    }
  }
}

TEST(FusionTest, DefaultsAreMinMaxWithHalfDenseWeight) {
  FusionOptions options;
  EXPECT_EQ(options.method, FusionMethod::kMinMaxScore);
  EXPECT_DOUBLE_EQ(options.dense_weight, 0.5);
  std::vector<ScoredPassage> lexical = {{1, 10.0}, {2, 8.0}, {3, 2.0}};
  std::vector<ScoredPassage> dense = {{2, 0.9}, {3, 0.5}};
  auto fused = FuseRankings(lexical, dense);
  ASSERT_EQ(fused.size(), 3u);
  EXPECT_DOUBLE_EQ(Find(fused, 1)->score, 1.0);
  EXPECT_DOUBLE_EQ(Find(fused, 2)->score, 0.75 + 0.5 * 1.0);
  EXPECT_DOUBLE_EQ(Find(fused, 3)->score, 0.0);
  EXPECT_EQ(Ids(fused), (std::vector<uint64_t>{2, 1, 3}));
}

TEST(FusionTest, ZScoreGivesAbsentPassagesTheListMinimum) {
  std::vector<ScoredPassage> lexical = {{1, 3.0}, {2, 1.0}};
  std::vector<ScoredPassage> dense = {{3, 0.7}, {1, 0.3}};
  FusionOptions options;
  options.method = FusionMethod::kZScore;
  options.dense_weight = 1.0;
  auto fused = FuseRankings(lexical, dense, options);
  ASSERT_EQ(fused.size(), 3u);
  // Each two-element list has z-scores +1 and -1.
  EXPECT_NEAR(Find(fused, 1)->score, 1.0 + -1.0, 1e-12);
  EXPECT_NEAR(Find(fused, 2)->score, -1.0 + -1.0, 1e-12);
  EXPECT_NEAR(Find(fused, 3)->score, -1.0 + 1.0, 1e-12);
  EXPECT_EQ(fused.back().passage_id, 2u);
}

TEST(FusionTest, InputOrderNotScoreDecidesRrf) {
  // RRF uses positions: a list given best first with odd scores still counts
  // by position.
  std::vector<ScoredPassage> lexical = {{1, -5.0}, {2, 100.0}};
  FusionOptions options;
  options.method = FusionMethod::kReciprocalRank;
  auto fused = FuseRankings(lexical, {}, options);
  EXPECT_EQ(Ids(fused), (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(std::isfinite(fused[0].score));
}

}  // namespace
}  // namespace greffier::index
