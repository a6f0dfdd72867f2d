#ifndef GREFFIER_INDEX_FUSION_H_
#define GREFFIER_INDEX_FUSION_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/bm25.h"

namespace greffier::index {

// How two rankings of the same passages are combined into one.
enum class FusionMethod {
  // Reciprocal-rank fusion: sum of weight / (rrf_k + rank), rank from 1.
  // Ignores score scales entirely.
  kReciprocalRank,
  // Weighted sum of scores min-max normalised within each list to [0, 1]
  // (the list's best hit 1, its worst 0; a passage absent from a list
  // gets 0 from it).
  kMinMaxScore,
  // Weighted sum of z-scores within each list (mean and standard deviation of
  // the list's scores); a passage absent from a list gets that list's lowest
  // z-score.
  kZScore,
  // For both score methods, a list whose scores are all equal (e.g. a single
  // hit) gives its passages 1 when that score is positive, else 0: a lone
  // BM25 hit counts fully, while the dense list of a query vector that is all
  // zeros (no known word) carries no information.
};

// The defaults are the best measured on the French dev sets with BM25 and the
// LSA embedder (tests/bench/hybrid_eval_bench.cc): min-max with the dense list
// at half weight beat RRF (k=60, 1:1) by 0.8 to 1 point of Recall@5 and 2 to 3
// points of MRR@10.
struct FusionOptions {
  // Default: kMinMaxScore.
  FusionMethod method = FusionMethod::kMinMaxScore;
  // RRF rank offset. Default: 60 (the value of Cormack et al., 2009).
  double rrf_k = 60.0;
  // Weight of the lexical (first) list. Default: 1.
  double lexical_weight = 1.0;
  // Weight of the dense (second) list. Default: 0.5.
  double dense_weight = 0.5;
  // Keep at most this many fused hits; 0 keeps all. Default: 0.
  size_t limit = 0;
};

// One passage of a fused ranking, with what each input list said about it.
struct FusedHit {
  uint64_t passage_id = 0;
  // Fused score: higher is better; comparable only within one fusion.
  double score = 0;
  // 1-based rank in the lexical list, 0 when absent from it.
  size_t lexical_rank = 0;
  // Score in the lexical list, 0 when absent.
  double lexical_score = 0;
  // 1-based rank in the dense list, 0 when absent from it.
  size_t dense_rank = 0;
  // Score in the dense list, 0 when absent.
  double dense_score = 0;
};

// Fuses two rankings, each best first (e.g. BM25 and dense inner product),
// into one, best first; ties go to the smaller passage id. A passage listed
// twice in one input keeps its first (best) occurrence. Pure function;
// thread-safe.
std::vector<FusedHit> FuseRankings(const std::vector<ScoredPassage>& lexical,
                                   const std::vector<ScoredPassage>& dense,
                                   const FusionOptions& options = {});

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_FUSION_H_
