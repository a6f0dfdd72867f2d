#include "index/bm25.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace greffier::index {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A hand-made corpus: passage id → terms (already analysed).
const std::map<uint64_t, std::vector<std::string>>& Corpus() {
  static const auto* const kCorpus = new std::map<uint64_t, std::vector<std::string>>{
      {10, {"budget", "commune", "vote", "budget"}},
      {11, {"budget", "conseil"}},
      {12, {"conseil", "municipal", "seance", "publique", "vote", "maire", "adjoint", "budget"}},
      {13, {"urbanisme", "permis", "construire"}},
      {14, {"conseil", "conseil", "conseil", "municipal"}},
  };
  return *kCorpus;
}

MemoryPostings MakePostings() {
  MemoryPostings postings;
  for (const auto& [id, terms] : Corpus()) {
    EXPECT_TRUE(postings.Add(id, terms).ok());
  }
  return postings;
}

// BM25 straight from its definition, over Corpus(), independent of
// MemoryPostings' bookkeeping.
double ExpectedScore(const std::vector<std::string>& query, uint64_t id, double k1, double b) {
  const auto& corpus = Corpus();
  double total_length = 0;
  for (const auto& [pid, terms] : corpus) total_length += terms.size();
  const double n = corpus.size();
  const double avgdl = total_length / n;
  const auto& doc = corpus.at(id);
  double score = 0;
  for (const std::string& q : query) {
    double df = 0;
    for (const auto& [pid, terms] : corpus) {
      if (std::find(terms.begin(), terms.end(), q) != terms.end()) ++df;
    }
    const double tf = std::count(doc.begin(), doc.end(), q);
    if (df == 0 || tf == 0) continue;
    const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
    score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc.size() / avgdl));
  }
  return score;
}

std::vector<uint64_t> Ids(const std::vector<ScoredPassage>& hits) {
  std::vector<uint64_t> ids;
  for (const auto& h : hits) ids.push_back(h.passage_id);
  return ids;
}

TEST(MemoryPostingsTest, Statistics) {
  MemoryPostings postings = MakePostings();
  EXPECT_EQ(postings.NumDocuments(), 5u);
  EXPECT_DOUBLE_EQ(postings.AverageLength(), (4 + 2 + 8 + 3 + 4) / 5.0);
  EXPECT_EQ(*postings.DocumentFrequency("budget"), 3u);
  EXPECT_EQ(*postings.DocumentFrequency("absent"), 0u);
  EXPECT_EQ(*postings.Length(12), 8u);
  std::map<uint64_t, uint32_t> seen;
  ASSERT_TRUE(
      postings.ForEachPosting("conseil", [&](uint64_t id, uint32_t tf) { seen[id] = tf; }).ok());
  EXPECT_EQ(seen, (std::map<uint64_t, uint32_t>{{11, 1}, {12, 1}, {14, 3}}));
  EXPECT_EQ(postings.Add(11, {"x"}).code(), absl::StatusCode::kAlreadyExists);
}

TEST(MemoryPostingsTest, RemoveIsExact) {
  MemoryPostings postings = MakePostings();
  ASSERT_TRUE(postings.Remove(14).ok());
  EXPECT_EQ(postings.NumDocuments(), 4u);
  EXPECT_DOUBLE_EQ(postings.AverageLength(), (4 + 2 + 8 + 3) / 4.0);
  EXPECT_EQ(*postings.DocumentFrequency("conseil"), 2u);
  Bm25Searcher searcher(&postings);
  auto hits = searcher.Search({"conseil", "municipal"}, 10);
  ASSERT_TRUE(hits.ok()) << hits.status();
  for (const auto& h : *hits) EXPECT_NE(h.passage_id, 14u);
  EXPECT_EQ(postings.Remove(14).code(), absl::StatusCode::kNotFound);
  // The id can be reused once removed (replacement).
  EXPECT_TRUE(postings.Add(14, {"permis"}).ok());
  EXPECT_EQ(*postings.DocumentFrequency("permis"), 2u);
}

TEST(Bm25SearcherTest, ScoresMatchTheFormulaAndOrder) {
  MemoryPostings postings = MakePostings();
  for (double k1 : {0.9, 1.2, 2.0}) {
    for (double b : {0.0, 0.75, 1.0}) {
      Bm25Searcher searcher(&postings, {k1, b});
      const std::vector<std::string> query = {"conseil", "budget", "vote"};
      auto hits = searcher.Search(query, 10);
      ASSERT_TRUE(hits.ok()) << hits.status();
      // Every passage with a query term, and only those.
      EXPECT_EQ(hits->size(), 4u);
      for (const auto& h : *hits) {
        EXPECT_NEAR(h.score, ExpectedScore(query, h.passage_id, k1, b), 1e-12)
            << "passage " << h.passage_id;
      }
      for (size_t i = 1; i < hits->size(); ++i) {
        EXPECT_GE((*hits)[i - 1].score, (*hits)[i].score);
      }
    }
  }
}

TEST(Bm25SearcherTest, KnownOrderOnTheTinyCorpus) {
  MemoryPostings postings = MakePostings();
  Bm25Searcher searcher(&postings, {1.2, 0.75});
  // « conseil » three times in a short passage beats one mention.
  auto hits = searcher.Search({"conseil"}, 2);
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_THAT(Ids(*hits), ElementsAre(14, 11));
  hits = searcher.Search({"permis", "construire"}, 5);
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_THAT(Ids(*hits), ElementsAre(13));
}

TEST(Bm25SearcherTest, RepeatedQueryTermsCount) {
  MemoryPostings postings = MakePostings();
  Bm25Searcher searcher(&postings);
  auto once = searcher.Search({"vote"}, 5);
  auto twice = searcher.Search({"vote", "vote"}, 5);
  ASSERT_TRUE(once.ok() && twice.ok());
  ASSERT_EQ(once->size(), twice->size());
  for (size_t i = 0; i < once->size(); ++i) {
    EXPECT_NEAR((*twice)[i].score, 2 * (*once)[i].score, 1e-12);
  }
}

TEST(Bm25SearcherTest, TopKAndTies) {
  MemoryPostings postings;
  for (uint64_t id : {7, 3, 5, 1}) {
    ASSERT_TRUE(postings.Add(id, {"meme", "texte"}).ok());
  }
  Bm25Searcher searcher(&postings);
  auto hits = searcher.Search({"texte"}, 3);
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_THAT(Ids(*hits), ElementsAre(1, 3, 5));  // Equal scores: by id.
  EXPECT_THAT(*searcher.Search({"texte"}, 0), IsEmpty());
  EXPECT_THAT(*searcher.Search({}, 3), IsEmpty());
  EXPECT_THAT(*searcher.Search({"absent"}, 3), IsEmpty());
  MemoryPostings empty;
  EXPECT_THAT(*Bm25Searcher(&empty).Search({"texte"}, 3), IsEmpty());
}

TEST(Bm25SearcherTest, FilterAppliesInsideTheSearch) {
  MemoryPostings postings = MakePostings();
  Bm25Searcher searcher(&postings);
  const std::vector<std::string> query = {"conseil", "budget", "vote"};
  auto all = searcher.Search(query, 10);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_GE(all->size(), 3u);
  const uint64_t best = (*all)[0].passage_id;

  std::map<uint64_t, int> calls;
  auto filter = [&](uint64_t id) {
    ++calls[id];
    return id != best;
  };
  // k = 2 still yields 2 passages although the best one is refused.
  auto filtered = searcher.Search(query, 2, filter);
  ASSERT_TRUE(filtered.ok()) << filtered.status();
  EXPECT_THAT(Ids(*filtered), ElementsAre((*all)[1].passage_id, (*all)[2].passage_id));
  // Scores of allowed passages are unchanged.
  EXPECT_DOUBLE_EQ((*filtered)[0].score, (*all)[1].score);
  // Asked once per candidate, never for passages without a query term.
  for (const auto& [id, n] : calls) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(calls.count(13), 0u);
  // With pruning, passages that cannot enter the top k are not even offered.
  EXPECT_LE(calls.size(), all->size());
  // Scoring every posting offers every candidate.
  Bm25Searcher::Options exhaustive;
  exhaustive.dynamic_pruning = false;
  calls.clear();
  filtered = Bm25Searcher(&postings, exhaustive).Search(query, 2, filter);
  ASSERT_TRUE(filtered.ok()) << filtered.status();
  EXPECT_THAT(Ids(*filtered), ElementsAre((*all)[1].passage_id, (*all)[2].passage_id));
  EXPECT_EQ(calls.size(), all->size());

  auto none = searcher.Search(query, 10, [](uint64_t) { return false; });
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, IsEmpty());
}

// A source whose reads fail: the error must surface, not an empty ranking.
class FailingSource : public PostingsSource {
 public:
  enum class Fail { kDocumentFrequency, kLength };
  explicit FailingSource(Fail fail) : fail_(fail) {}
  absl::Status ForEachPosting(std::string_view, const PostingFn& fn) const override {
    fn(1, 1);
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> DocumentFrequency(std::string_view) const override {
    if (fail_ == Fail::kDocumentFrequency) {
      return absl::DataLossError("df broken");
    }
    return 1;
  }
  absl::StatusOr<uint32_t> Length(uint64_t) const override {
    return absl::DataLossError("length broken");
  }
  uint64_t NumDocuments() const override { return 2; }
  double AverageLength() const override { return 1; }

 private:
  Fail fail_;
};

TEST(Bm25SearcherTest, SourceErrorsPropagate) {
  FailingSource df_fails(FailingSource::Fail::kDocumentFrequency);
  EXPECT_EQ(Bm25Searcher(&df_fails).Search({"x"}, 3).status().code(), absl::StatusCode::kDataLoss);
  FailingSource length_fails(FailingSource::Fail::kLength);
  EXPECT_EQ(Bm25Searcher(&length_fails).Search({"x"}, 3).status().code(),
            absl::StatusCode::kDataLoss);
}

// ---- Dynamic pruning ----

TEST(PostingListTest, CursorAdvanceEraseAndOutOfOrderAdds) {
  PostingList list;
  std::set<uint64_t> ids;
  std::mt19937_64 rng(7);
  // Mostly increasing ids with gaps, some beyond 32 bits from their block start, some out of
  // order.
  uint64_t id = 1;
  for (int i = 0; i < 2000; ++i) {
    id += 1 + rng() % 50;
    if (i == 700) id += uint64_t{1} << 33;
    list.Add(id, 1 + rng() % 300, 10);
    ids.insert(id);
  }
  for (int i = 0; i < 50; ++i) {
    uint64_t back = 1 + rng() % id;
    if (ids.insert(back).second) list.Add(back, 2, 10);
  }
  for (int i = 0; i < 400; ++i) {
    auto it = ids.begin();
    std::advance(it, static_cast<long>(rng() % ids.size()));
    EXPECT_TRUE(list.Erase(*it));
    EXPECT_FALSE(list.Erase(*it));
    ids.erase(it);
  }
  EXPECT_EQ(list.live(), ids.size());
  std::vector<uint64_t> seen;
  for (PostingList::Cursor c(&list); c.id() != PostingList::Cursor::kEnd; c.Next()) {
    seen.push_back(c.id());
  }
  EXPECT_EQ(seen, std::vector<uint64_t>(ids.begin(), ids.end()));
  // Advance lands on the first live id >= target, from any position.
  for (int i = 0; i < 300; ++i) {
    PostingList::Cursor c(&list);
    uint64_t target = 0;
    for (int step = 0; step < 5; ++step) {
      target += rng() % (id / 4);
      c.Advance(target);
      auto expected = ids.lower_bound(target);
      ASSERT_EQ(c.id(), expected == ids.end() ? PostingList::Cursor::kEnd : *expected);
    }
  }
  list.Compact([](uint64_t) { return 10u; });
  EXPECT_EQ(list.dead(), 0u);
  seen.clear();
  for (PostingList::Cursor c(&list); c.id() != PostingList::Cursor::kEnd; c.Next()) {
    seen.push_back(c.id());
  }
  EXPECT_EQ(seen, std::vector<uint64_t>(ids.begin(), ids.end()));
}

// Random corpora with Zipf-like term frequencies, removals and filters: the pruned search
// must return exactly the exhaustive search's top k (same ids, same order, same scores).
TEST(Bm25PruningTest, SameTopKAsExhaustiveOnRandomCorpora) {
  Bm25Searcher::Options pruned_options;
  Bm25Searcher::Options exhaustive_options;
  exhaustive_options.dynamic_pruning = false;
  size_t compared = 0, nonempty = 0;
  for (int corpus = 0; corpus < 12; ++corpus) {
    std::mt19937_64 rng(100 + corpus);
    const int vocabulary = 20 + corpus * 40;
    std::vector<double> weights;
    for (int i = 0; i < vocabulary; ++i) weights.push_back(1.0 / (i + 1));
    std::discrete_distribution<int> word(weights.begin(), weights.end());
    MemoryPostings postings;
    std::vector<uint64_t> ids;
    const int passages = 300 + corpus * 150;
    uint64_t next = 1;
    for (int p = 0; p < passages; ++p) {
      std::vector<std::string> terms;
      const int length = 1 + static_cast<int>(rng() % 80);
      for (int t = 0; t < length; ++t) terms.push_back("w" + std::to_string(word(rng)));
      // Some ids out of order, some far apart.
      uint64_t id = (p % 37 == 5) ? next + 100000 + rng() % 1000 : next++;
      if (p % 53 == 7) id = 1 + rng() % next;
      if (postings.Add(id, terms).ok()) ids.push_back(id);
    }
    // Remove a third of the passages (lists get dead postings and compactions).
    std::shuffle(ids.begin(), ids.end(), rng);
    for (size_t i = 0; i < ids.size() / 3; ++i) ASSERT_TRUE(postings.Remove(ids[i]).ok());
    Bm25Searcher pruned(&postings, pruned_options);
    Bm25Searcher exhaustive(&postings, exhaustive_options);
    for (int q = 0; q < 60; ++q) {
      std::vector<std::string> query;
      const int terms = 1 + static_cast<int>(rng() % 6);
      for (int t = 0; t < terms; ++t) {
        // Frequent and rare terms, sometimes unknown ones.
        int w = (t % 2 == 0) ? word(rng) : static_cast<int>(rng() % (vocabulary + 5));
        query.push_back("w" + std::to_string(w));
      }
      const size_t k = 1 + rng() % 30;
      Bm25Searcher::Filter filter;
      if (q % 3 == 1) filter = [](uint64_t id) { return id % 3 != 0; };
      if (q % 3 == 2) filter = [](uint64_t id) { return id % 11 == 0; };
      auto a = pruned.Search(query, k, filter);
      auto e = exhaustive.Search(query, k, filter);
      ASSERT_TRUE(a.ok() && e.ok());
      ASSERT_EQ(a->size(), e->size()) << "corpus " << corpus << " query " << q;
      for (size_t i = 0; i < a->size(); ++i) {
        EXPECT_EQ((*a)[i].passage_id, (*e)[i].passage_id) << "corpus " << corpus << " rank " << i;
        EXPECT_EQ((*a)[i].score, (*e)[i].score) << "corpus " << corpus << " rank " << i;
        if (filter) {
          EXPECT_TRUE(filter((*a)[i].passage_id));
        }
      }
      ++compared;
      nonempty += !a->empty();
    }
  }
  EXPECT_EQ(compared, 12u * 60u);
  EXPECT_GT(nonempty, compared / 2);
}

// Pruning must also cut work: on a corpus where one rare term decides, the filter is offered
// far fewer passages than contain the frequent term.
TEST(Bm25PruningTest, SkipsPassagesThatCannotEnterTheTopK) {
  MemoryPostings postings;
  for (uint64_t id = 1; id <= 5000; ++id) {
    std::vector<std::string> terms = {"commun", "commun", "autre"};
    if (id % 500 == 0) terms.push_back("rare");
    ASSERT_TRUE(postings.Add(id, terms).ok());
  }
  size_t offered = 0;
  auto count = [&offered](uint64_t) {
    ++offered;
    return true;
  };
  auto hits = Bm25Searcher(&postings).Search({"rare", "commun"}, 5, count);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 5u);
  for (const auto& h : *hits) EXPECT_EQ(h.passage_id % 500, 0u);
  EXPECT_LT(offered, 100u);
  Bm25Searcher::Options exhaustive;
  exhaustive.dynamic_pruning = false;
  offered = 0;
  auto all = Bm25Searcher(&postings, exhaustive).Search({"rare", "commun"}, 5, count);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(offered, 5000u);
}

TEST(PostingKeyTest, RoundTrip) {
  const std::string long_term(300, 'x');  // Two-byte length varint.
  for (const std::string& term : {std::string("budget"), std::string(""), std::string("l.2121-29"),
                                  std::string("d\xC3\xA9lib"), std::string("a\0b", 3), long_term}) {
    for (uint64_t id : {uint64_t{0}, uint64_t{1}, uint64_t{256}, uint64_t{1} << 40, UINT64_MAX}) {
      std::string key = EncodePostingKey(term, id);
      EXPECT_TRUE(key.starts_with(PostingKeyPrefix(term)));
      auto decoded = DecodePostingKey(key);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      EXPECT_EQ(decoded->term, term);
      EXPECT_EQ(decoded->passage_id, id);
    }
  }
}

TEST(PostingKeyTest, ByteOrderIsIdOrderWithinATerm) {
  std::vector<uint64_t> ids = {5, 256, 1, uint64_t{1} << 33, 255, 0};
  std::vector<std::string> keys;
  for (uint64_t id : ids) keys.push_back(EncodePostingKey("vote", id));
  std::sort(keys.begin(), keys.end());
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(DecodePostingKey(keys[i])->passage_id, ids[i]);
  }
  // One term's prefix never covers another term's keys.
  EXPECT_FALSE(EncodePostingKey("vote", 1).starts_with(PostingKeyPrefix("vot")));
  EXPECT_FALSE(EncodePostingKey("vot", 1).starts_with(PostingKeyPrefix("vote")));
}

TEST(PostingKeyTest, CorruptKeysAreErrors) {
  const std::string good = EncodePostingKey("budget", 42);
  EXPECT_EQ(DecodePostingKey("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(DecodePostingKey(good.substr(0, good.size() - 1)).ok());
  EXPECT_FALSE(DecodePostingKey(good + "x").ok());
  EXPECT_FALSE(DecodePostingKey(std::string("\x80", 1)).ok());  // Cut varint.
  EXPECT_FALSE(DecodePostingKey(std::string("\xFF\xFF\xFF\xFF\xFF\x01", 6)).ok());
  // Overlong length (0x86 0x00 means 6): one value must have one key.
  std::string overlong = std::string("\x86\x00", 2) + good.substr(1);
  EXPECT_FALSE(DecodePostingKey(overlong).ok());
}

TEST(PostingValueTest, RoundTripAndErrors) {
  for (const PostingValue& v :
       {PostingValue{3, {1, 7, 300000}}, PostingValue{1, {}}, PostingValue{2, {0, UINT32_MAX}}}) {
    auto encoded = EncodePostingValue(v);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    auto decoded = DecodePostingValue(*encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->tf, v.tf);
    EXPECT_EQ(decoded->positions, v.positions);
  }
  EXPECT_FALSE(EncodePostingValue({2, {5, 5}}).ok());
  EXPECT_FALSE(EncodePostingValue({2, {5, 4}}).ok());

  const std::string good = *EncodePostingValue({3, {1, 7, 300000}});
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodePostingValue(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodePostingValue(good + "\x01").ok());
  // A huge announced count is refused before any allocation.
  EXPECT_FALSE(DecodePostingValue(std::string("\x01\xFF\xFF\xFF\xFF\x0F", 6)).ok());
  // Positions past 2^32 - 1 are refused.
  EXPECT_FALSE(DecodePostingValue(std::string("\x01\x02\xFF\xFF\xFF\xFF\x0F"
                                              "\x01",
                                              8))
                   .ok());
}

}  // namespace
}  // namespace greffier::index
