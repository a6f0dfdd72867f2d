#ifndef GREFFIER_INDEX_RETRIEVER_H_
#define GREFFIER_INDEX_RETRIEVER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "index/fusion.h"
#include "index/index.h"
#include "index/records.h"

namespace greffier::index {

struct RetrieverOptions {
  // Candidates taken from each of the lexical and dense rankings before fusion.
  // Default: 50.
  size_t candidates = 50;
  // At most this many passages of one document in the results (0: no cap). Default: 3.
  size_t per_document_cap = 3;
  // How the two rankings are fused. Default: FusionOptions() (min-max scores, dense x0.5).
  FusionOptions fusion;
  // Use the dense ranking at all (false: BM25 only). Default: true.
  bool use_dense = true;
  // Use the lexical ranking at all (false: dense only). Default: true.
  bool use_lexical = true;
};

// A retrieved passage with its document and every score the ranking used.
struct RetrievedPassage {
  PassageRecord passage;
  DocumentRecord document;
  double score = 0;          // fused
  double lexical_score = 0;  // BM25, 0 when not in the lexical candidates
  double dense_score = 0;    // inner product, 0 when not in the dense candidates
  // Share of the query's idf weight present in the passage (0..1): the evidence measure.
  double coverage = 0;
};

// Hybrid retrieval: BM25 and dense candidates, each filtered inside its search, fused, capped
// per document. Thread-safe (the Index is).
class Retriever {
 public:
  Retriever(const Index* index, const RetrieverOptions& options)
      : index_(index), options_(options) {}

  // `query_vector` may be empty when use_dense is false.
  absl::StatusOr<std::vector<RetrievedPassage>> Retrieve(const std::string& query,
                                                         const std::vector<float>& query_vector,
                                                         size_t k,
                                                         const SearchFilter& filter) const;

 private:
  const Index* index_;
  RetrieverOptions options_;
};

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_RETRIEVER_H_
