#include "index/fusion.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace greffier::index {
namespace {

// Per-list score transform, computed once per list.
struct Normaliser {
  FusionMethod method;
  double offset = 0;    // Subtracted from a score.
  double scale = 1;     // Then multiplied.
  double absent = 0;    // Contribution of a passage missing from the list.
  double constant = 0;  // Added to a listed passage's contribution.

  Normaliser(FusionMethod m, const std::vector<ScoredPassage>& list) : method(m) {
    if (list.empty() || m == FusionMethod::kReciprocalRank) return;
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    double sum = 0;
    for (const auto& p : list) {
      lo = std::min(lo, p.score);
      hi = std::max(hi, p.score);
      sum += p.score;
    }
    if (!(hi > lo)) {
      // No order in the list: see FusionMethod.
      offset = lo;
      scale = 0.0;
      constant = lo > 0 ? 1.0 : 0.0;
      return;
    }
    if (m == FusionMethod::kMinMaxScore) {
      offset = lo;
      scale = 1.0 / (hi - lo);
      absent = 0;
    } else {
      const double n = static_cast<double>(list.size());
      const double mean = sum / n;
      double var = 0;
      for (const auto& p : list) var += (p.score - mean) * (p.score - mean);
      offset = mean;
      scale = 1.0 / std::sqrt(var / n);
      absent = (lo - mean) * scale;
    }
  }

  double Apply(double score, size_t rank, double rrf_k) const {
    if (method == FusionMethod::kReciprocalRank) {
      return 1.0 / (rrf_k + static_cast<double>(rank));
    }
    return (score - offset) * scale + constant;
  }
};

}  // namespace

std::vector<FusedHit> FuseRankings(const std::vector<ScoredPassage>& lexical,
                                   const std::vector<ScoredPassage>& dense,
                                   const FusionOptions& options) {
  std::vector<FusedHit> hits;
  hits.reserve(lexical.size() + dense.size());
  std::unordered_map<uint64_t, size_t> slot;
  slot.reserve(lexical.size() + dense.size());
  auto entry = [&](uint64_t id) -> FusedHit& {
    auto [it, inserted] = slot.try_emplace(id, hits.size());
    if (inserted) {
      hits.emplace_back();
      hits.back().passage_id = id;
    }
    return hits[it->second];
  };
  for (size_t i = 0; i < lexical.size(); ++i) {
    FusedHit& h = entry(lexical[i].passage_id);
    if (h.lexical_rank != 0) continue;
    h.lexical_rank = i + 1;
    h.lexical_score = lexical[i].score;
  }
  for (size_t i = 0; i < dense.size(); ++i) {
    FusedHit& h = entry(dense[i].passage_id);
    if (h.dense_rank != 0) continue;
    h.dense_rank = i + 1;
    h.dense_score = dense[i].score;
  }
  const Normaliser lex(options.method, lexical);
  const Normaliser den(options.method, dense);
  for (FusedHit& h : hits) {
    double l = h.lexical_rank != 0 ? lex.Apply(h.lexical_score, h.lexical_rank, options.rrf_k)
                                   : lex.absent;
    double d =
        h.dense_rank != 0 ? den.Apply(h.dense_score, h.dense_rank, options.rrf_k) : den.absent;
    h.score = options.lexical_weight * l + options.dense_weight * d;
  }
  std::sort(hits.begin(), hits.end(), [](const FusedHit& a, const FusedHit& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.passage_id < b.passage_id;
  });
  if (options.limit != 0 && hits.size() > options.limit) {
    hits.resize(options.limit);
  }
  return hits;
}

}  // namespace greffier::index
