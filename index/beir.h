#ifndef GREFFIER_INDEX_BEIR_H_
#define GREFFIER_INDEX_BEIR_H_

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace greffier::index {

// Top-level fields of one JSON object (one JSON-lines record): strings
// unescaped to UTF-8, numbers as written; arrays, objects, booleans and null
// are checked and skipped. InvalidArgument naming the byte offset and reason.
// Thread-safe.
absl::StatusOr<std::unordered_map<std::string, std::string>> ParseJsonObjectFields(
    std::string_view json);

// BEIR retrieval sets: corpus.jsonl (_id, title, text), queries.jsonl (_id,
// text), qrels.tsv (query-id, corpus-id, score; header line optional).
struct BeirDocument {
  std::string id;
  std::string title;
  std::string text;
};
struct BeirQuery {
  std::string id;
  std::string text;
};
// query id → (corpus id → relevance score).
using BeirQrels = std::unordered_map<std::string, std::unordered_map<std::string, int>>;

struct BeirDataset {
  std::vector<BeirDocument> corpus;
  std::vector<BeirQuery> queries;
  BeirQrels qrels;
};

// Each fails with InvalidArgument naming the file, line and reason, NotFound
// when the file cannot be opened. Duplicate ids are an error.
absl::StatusOr<std::vector<BeirDocument>> ReadBeirCorpus(const std::filesystem::path& path);
absl::StatusOr<std::vector<BeirQuery>> ReadBeirQueries(const std::filesystem::path& path);
absl::StatusOr<BeirQrels> ReadBeirQrels(const std::filesystem::path& path);
// corpus.jsonl, queries.jsonl and qrels.tsv (or qrels/test.tsv) in `dir`.
absl::StatusOr<BeirDataset> ReadBeirDataset(const std::filesystem::path& dir);

struct RetrievalMetrics {
  size_t queries = 0;  // Queries with at least one relevant document.
  double recall_at_1 = 0;
  double recall_at_5 = 0;
  double recall_at_10 = 0;
  double recall_at_20 = 0;
  double mrr_at_10 = 0;
  double ndcg_at_10 = 0;  // Linear gain = relevance score.
};

// Accumulates ranking quality over queries (means over queries).
// Thread-safety: not thread-safe.
class RetrievalEvaluator {
 public:
  // `relevance`: corpus id → score, > 0 means relevant. `ranked`: retrieved
  // corpus ids, best first. Queries without a relevant document are ignored.
  void AddQuery(const std::unordered_map<std::string, int>& relevance,
                const std::vector<std::string>& ranked);
  RetrievalMetrics Summary() const;

 private:
  RetrievalMetrics sums_;
};

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_BEIR_H_
