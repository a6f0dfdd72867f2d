#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace greffier::generate {

Sampler::Sampler(const SamplerOptions& options) : options_(options), rng_(options.seed) {}

int32_t Sampler::Sample(std::vector<float>* logits_ptr, const std::vector<int32_t>& history) {
  std::vector<float>& logits = *logits_ptr;
  const int n = static_cast<int>(logits.size());
  if (options_.repeat_penalty != 1.f && options_.repeat_last_n != 0) {
    size_t start =
        options_.repeat_last_n < 0 || history.size() <= static_cast<size_t>(options_.repeat_last_n)
            ? 0
            : history.size() - options_.repeat_last_n;
    std::unordered_set<int32_t> seen(history.begin() + start, history.end());
    for (int32_t t : seen) {
      if (t < 0 || t >= n) continue;
      float& l = logits[t];
      l = l > 0 ? l / options_.repeat_penalty : l * options_.repeat_penalty;
    }
  }
  if (options_.temperature <= 0.f) {
    // Greedy: first maximum wins ties.
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  candidates_.resize(n);
  for (int i = 0; i < n; ++i) {
    candidates_[i] = {logits[i] / options_.temperature, i};
  }
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t keep = candidates_.size();
  if (options_.top_k > 0 && static_cast<size_t>(options_.top_k) < keep) {
    keep = options_.top_k;
    std::partial_sort(candidates_.begin(), candidates_.begin() + keep, candidates_.end(), by_logit);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  candidates_.resize(keep);
  // Softmax over the kept candidates (sorted, so [0] is the maximum).
  float max = candidates_[0].first;
  double total = 0;
  std::vector<double> probs(keep);
  for (size_t i = 0; i < keep; ++i) {
    probs[i] = std::exp(static_cast<double>(candidates_[i].first - max));
    total += probs[i];
  }
  for (double& p : probs) p /= total;
  if (options_.min_p > 0.f) {
    size_t k = 1;
    while (k < keep && probs[k] >= options_.min_p * probs[0]) ++k;
    keep = k;
  }
  if (options_.top_p < 1.f) {
    double cum = 0;
    size_t k = 0;
    while (k < keep) {
      cum += probs[k++];
      if (cum >= options_.top_p) break;
    }
    keep = std::max<size_t>(k, 1);
  }
  double mass = 0;
  for (size_t i = 0; i < keep; ++i) mass += probs[i];
  // Our own uniform draw: std::uniform_real_distribution's output is not
  // specified bit-for-bit across library versions.
  double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * mass;
  double cum = 0;
  for (size_t i = 0; i < keep; ++i) {
    cum += probs[i];
    if (u < cum) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace greffier::generate
