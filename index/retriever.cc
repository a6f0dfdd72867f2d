#include "index/retriever.h"

#include <unordered_map>

#include "index/status_macros.h"

namespace greffier::index {

absl::StatusOr<std::vector<RetrievedPassage>> Retriever::Retrieve(
    const std::string& query, const std::vector<float>& query_vector, size_t k,
    const SearchFilter& filter) const {
  std::vector<ScoredPassage> lexical, dense;
  if (options_.use_lexical) {
    GREFFIER_ASSIGN_OR_RETURN(std::vector<Index::Hit> hits,
                              index_->SearchLexical(query, options_.candidates, filter));
    for (const auto& h : hits) lexical.push_back({h.passage_id, h.score});
  }
  if (options_.use_dense && !query_vector.empty()) {
    GREFFIER_ASSIGN_OR_RETURN(std::vector<Index::Hit> hits,
                              index_->SearchDense(query_vector, options_.candidates, filter));
    for (const auto& h : hits) dense.push_back({h.passage_id, h.score});
  }
  std::vector<FusedHit> fused = FuseRankings(lexical, dense, options_.fusion);

  std::vector<RetrievedPassage> out;
  std::unordered_map<uint64_t, size_t> per_doc;
  std::unordered_map<uint64_t, DocumentRecord> docs;
  for (const FusedHit& hit : fused) {
    if (out.size() >= k) break;
    absl::StatusOr<PassageRecord> passage = index_->GetPassage(hit.passage_id);
    if (absl::IsNotFound(passage.status())) continue;  // deleted since the search
    if (!passage.ok()) return passage.status();
    size_t& count = per_doc[passage->document_id];
    if (options_.per_document_cap > 0 && count >= options_.per_document_cap) continue;
    auto doc = docs.find(passage->document_id);
    if (doc == docs.end()) {
      absl::StatusOr<DocumentRecord> d = index_->GetDocument(passage->document_id);
      if (absl::IsNotFound(d.status())) continue;
      if (!d.ok()) return d.status();
      doc = docs.emplace(passage->document_id, std::move(*d)).first;
    }
    ++count;
    RetrievedPassage r;
    r.score = hit.score;
    r.lexical_score = hit.lexical_score;
    r.dense_score = hit.dense_score;
    GREFFIER_ASSIGN_OR_RETURN(r.coverage, index_->QueryCoverage(query, *passage, doc->second));
    r.passage = std::move(*passage);
    r.document = doc->second;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace greffier::index
