#ifndef GREFFIER_GENERATE_SAMPLER_H_
#define GREFFIER_GENERATE_SAMPLER_H_

#include <cstdint>
#include <random>
#include <vector>

namespace greffier::generate {

struct SamplerOptions {
  // 0 selects greedy decoding (argmax). Default: 0.
  float temperature = 0.f;
  // Keep the k most likely tokens; 0 disables. Default: 0.
  int top_k = 0;
  // Keep the smallest set whose probability reaches p; 1 disables.
  // Default: 1.
  float top_p = 1.f;
  // Drop tokens less likely than min_p times the most likely; 0 disables.
  // Default: 0.
  float min_p = 0.f;
  // Divides positive (multiplies negative) logits of recently seen tokens;
  // 1 disables. Default: 1.
  float repeat_penalty = 1.f;
  // How many recent tokens the penalty looks at. Default: 64.
  int repeat_last_n = 64;
  // Same seed, same logits, same tokens. Default: 0.
  uint64_t seed = 0;
};

// Chooses the next token from logits. Deterministic for a given seed and
// call sequence. Not thread-safe.
class Sampler {
 public:
  explicit Sampler(const SamplerOptions& options);
  // `logits` is modified (penalties). `history` holds the tokens so far.
  int32_t Sample(std::vector<float>* logits, const std::vector<int32_t>& history);

 private:
  SamplerOptions options_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_SAMPLER_H_
