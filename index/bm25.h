#ifndef GREFFIER_INDEX_BM25_H_
#define GREFFIER_INDEX_BM25_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace greffier::index {

// Read access to term postings and passage length statistics, whatever stores
// them (MemoryPostings below; the RocksDB store implements the same).
// Implementations document their own thread-safety.
class PostingsSource {
 public:
  using PostingFn = std::function<void(uint64_t passage_id, uint32_t tf)>;

  virtual ~PostingsSource() = default;

  // Calls `fn` once for each passage containing `term`, in any order.
  virtual absl::Status ForEachPosting(std::string_view term, const PostingFn& fn) const = 0;
  // Number of passages containing `term`.
  virtual absl::StatusOr<uint64_t> DocumentFrequency(std::string_view term) const = 0;
  // Number of terms of a passage (as indexed), 0 when unknown.
  virtual absl::StatusOr<uint32_t> Length(uint64_t passage_id) const = 0;
  virtual uint64_t NumDocuments() const = 0;
  // Mean passage length in terms, 0 when empty.
  virtual double AverageLength() const = 0;
};

// Postings held in memory: for tests, benchmarks and the evaluation command.
// Thread-safety: const methods may run concurrently; Add/Remove need
// exclusive access.
class MemoryPostings : public PostingsSource {
 public:
  // Indexes `terms` (analyzer output, duplicates = term frequency) under
  // `passage_id`. AlreadyExists when the id is present.
  absl::Status Add(uint64_t passage_id, const std::vector<std::string>& terms);
  // NotFound when the id is absent.
  absl::Status Remove(uint64_t passage_id);

  absl::Status ForEachPosting(std::string_view term, const PostingFn& fn) const override;
  absl::StatusOr<uint64_t> DocumentFrequency(std::string_view term) const override;
  absl::StatusOr<uint32_t> Length(uint64_t passage_id) const override;
  uint64_t NumDocuments() const override { return lengths_.size(); }
  double AverageLength() const override;

  // Number of distinct terms.
  size_t NumTerms() const { return postings_.size(); }

 private:
  struct Posting {
    uint64_t passage_id;
    uint32_t tf;
  };
  std::unordered_map<std::string, std::vector<Posting>> postings_;
  std::unordered_map<uint64_t, std::vector<std::string>> passage_terms_;
  std::unordered_map<uint64_t, uint32_t> lengths_;
  uint64_t total_length_ = 0;
};

struct ScoredPassage {
  uint64_t passage_id;
  double score;
};

// Okapi BM25 over a PostingsSource:
//   score(q, p) = sum over query terms t of
//     idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |p| / avgdl))
//   idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))   (never negative)
// A term repeated in the query counts once per occurrence.
// Thread-safety: Search is const and safe to call concurrently when the
// source's reads are.
class Bm25Searcher {
 public:
  struct Options {
    // Term frequency saturation. Default: 0.9 (best of 0.9/1.2/1.5/2.0 on
    // both French dev sets with FrenchAnalyzer; 1.2 is the textbook value).
    double k1 = 0.9;
    // Length normalisation (0: none, 1: full). Default: 0.75.
    double b = 0.75;
  };
  // Returns true when the passage may be returned. Called at most once per
  // candidate passage, before it is scored: rejected passages never reach the
  // ranking, so filters cannot starve results.
  using Filter = std::function<bool(uint64_t passage_id)>;

  explicit Bm25Searcher(const PostingsSource* source) : Bm25Searcher(source, Options()) {}
  Bm25Searcher(const PostingsSource* source, const Options& options)
      : source_(source), options_(options) {}

  // The best `k` passages for `query_terms` (analyzer output), best first;
  // ties broken by smaller passage id. `filter` may be empty.
  absl::StatusOr<std::vector<ScoredPassage>> Search(const std::vector<std::string>& query_terms,
                                                    size_t k, const Filter& filter = nullptr) const;

  const Options& options() const { return options_; }

 private:
  const PostingsSource* source_;  // Not owned.
  Options options_;
};

// Persisted form of postings, for an ordered key/value store. Keys are
// varint(term length) + term + big-endian passage id, so a prefix scan over
// PostingKeyPrefix(term) lists that term's postings in passage id order, and
// no term's prefix can match another term's keys.
std::string PostingKeyPrefix(std::string_view term);
std::string EncodePostingKey(std::string_view term, uint64_t passage_id);

struct PostingKey {
  std::string term;
  uint64_t passage_id;
};
// InvalidArgument (with the reason) for truncated or malformed keys.
absl::StatusOr<PostingKey> DecodePostingKey(std::string_view key);

// Posting value: varint tf, varint position count, delta-coded varint
// positions (ascending). Positions may be empty.
struct PostingValue {
  uint32_t tf = 0;
  std::vector<uint32_t> positions;
};
// InvalidArgument when positions are not ascending.
absl::StatusOr<std::string> EncodePostingValue(const PostingValue& value);
absl::StatusOr<PostingValue> DecodePostingValue(std::string_view value);

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_BM25_H_
