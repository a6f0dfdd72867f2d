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

class InvertedLists;

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
  // The same postings as id-ordered in-memory lists with impact bounds, which lets BM25 skip
  // passages that cannot enter the top k; nullptr when the source has none (then every
  // posting is scored). Must agree exactly with ForEachPosting, DocumentFrequency and Length.
  virtual const InvertedLists* inverted_lists() const { return nullptr; }
};

// One term's postings in passage id order, in blocks of kBlockSize with, per block and for
// the whole list, bounds on the BM25 term impact (highest tf, shortest passage).
// Thread-compatible.
class PostingList {
 public:
  static constexpr size_t kBlockSize = 128;

  // Adds a posting (tf > 0). Passage ids larger than the last one are appended in O(1);
  // others rebuild the list (O(size)).
  void Add(uint64_t passage_id, uint32_t tf, uint32_t length);
  // Marks the posting dead (it is skipped from then on); false when absent. The bounds stay
  // valid (they only become looser); Compact tightens them.
  bool Erase(uint64_t passage_id);
  // Drops dead postings and recomputes the bounds with `length_of`.
  void Compact(const std::function<uint32_t(uint64_t)>& length_of);

  // Live postings.
  size_t live() const { return offsets_.size() - dead_; }
  size_t dead() const { return dead_; }
  size_t MemoryBytes() const;

  // Upper bound of tf / (tf + k1 * (1 - b + b * length / avgdl)) over the list.
  double MaxImpact(double k1, double b, double avgdl) const;

  // Forward iteration over live postings, with skipping.
  class Cursor {
   public:
    static constexpr uint64_t kEnd = UINT64_MAX;
    explicit Cursor(const PostingList* list);
    // Current passage id, kEnd when exhausted.
    uint64_t id() const { return id_; }
    uint32_t tf() const;
    void Next();
    // Moves to the first live posting with id >= target (never backwards).
    void Advance(uint64_t target);
    // Bound of the current block (same formula as MaxImpact); requires id() != kEnd.
    double BlockMaxImpact(double k1, double b, double avgdl) const;
    // Last passage id of the current block; requires id() != kEnd.
    uint64_t BlockLast() const;

   private:
    void Settle();  // skips dead postings from pos_, sets id_
    const PostingList* list_;
    size_t block_ = 0;
    size_t pos_ = 0;
    uint64_t id_ = kEnd;
  };

 private:
  struct Block {
    uint64_t base;   // first passage id; offsets_ are relative to it
    uint64_t last;   // last passage id
    uint32_t begin;  // index of the first posting in offsets_
    uint32_t max_tf;
    uint32_t min_length;
  };
  static double Impact(uint32_t tf, uint32_t length, double k1, double b, double avgdl);
  size_t BlockEnd(size_t block) const {
    return block + 1 < blocks_.size() ? blocks_[block + 1].begin : offsets_.size();
  }
  uint64_t IdAt(size_t block, size_t pos) const { return blocks_[block].base + offsets_[pos]; }
  uint32_t TfAt(size_t pos) const;
  void Append(uint64_t passage_id, uint32_t tf, uint32_t length);
  // (passage id, tf) of every live posting, in order.
  std::vector<std::pair<uint64_t, uint32_t>> LivePostings() const;

  std::vector<Block> blocks_;
  std::vector<uint32_t> offsets_;
  std::vector<uint8_t> tfs_;  // 0: dead; 255: the tf is in big_tfs_ under the index
  std::unordered_map<uint32_t, uint32_t> big_tfs_;
  size_t dead_ = 0;
  // Non-dominated (tf, shortest length with that tf or more) pairs of the whole list.
  std::vector<std::pair<uint32_t, uint32_t>> frontier_;
};

// Every term's PostingList and every passage's length: the in-memory form BM25 prunes over.
// Thread-compatible.
class InvertedLists {
 public:
  // Indexes a passage absent so far: `terms` holds each distinct term with its frequency,
  // `length` is the passage's number of terms.
  void Add(uint64_t passage_id, const std::vector<std::pair<std::string, uint32_t>>& terms,
           uint32_t length);
  // Loading: sets a passage's length, then appends postings term by term in id order.
  void SetLength(uint64_t passage_id, uint32_t length);
  void AddPostings(const std::string& term,
                   const std::vector<std::pair<uint64_t, uint32_t>>& id_tfs);
  // Removes a passage's postings; `terms` are the distinct terms it was added with.
  void Remove(uint64_t passage_id, const std::vector<std::string>& terms);
  // nullptr when no passage contains the term.
  const PostingList* Find(std::string_view term) const;
  // 0 when unknown.
  uint32_t Length(uint64_t passage_id) const;
  size_t NumTerms() const { return lists_.size(); }
  // Approximate heap bytes held.
  size_t MemoryBytes() const;

 private:
  std::unordered_map<std::string, PostingList> lists_;
  // Lengths of small ids in a dense array, the rest in a map.
  static constexpr uint64_t kDenseIds = uint64_t{1} << 28;
  std::vector<uint32_t> dense_lengths_;
  std::unordered_map<uint64_t, uint32_t> sparse_lengths_;
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
  const InvertedLists* inverted_lists() const override { return &lists_; }

  // Number of distinct terms.
  size_t NumTerms() const { return lists_.NumTerms(); }

 private:
  InvertedLists lists_;
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
    // Skip passages that cannot enter the top k (MaxScore over the source's inverted lists,
    // when it has them). The results are exactly those of scoring every posting.
    // Default: true.
    bool dynamic_pruning = true;
  };
  // Returns true when the passage may be returned. Called at most once per
  // candidate passage, before it takes a place in the ranking: rejected passages
  // never reach it, so filters cannot starve results. With pruning, passages
  // that cannot enter the top k are not offered to it.
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
  absl::StatusOr<std::vector<ScoredPassage>> SearchPruned(
      const InvertedLists& lists, const std::vector<std::pair<std::string_view, int>>& counts,
      size_t k, const Filter& filter) const;

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
