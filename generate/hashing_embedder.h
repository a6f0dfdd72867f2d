#ifndef GREFFIER_GENERATE_HASHING_EMBEDDER_H_
#define GREFFIER_GENERATE_HASHING_EMBEDDER_H_

#include <string>
#include <vector>

#include "generate/embedder.h"

namespace greffier::generate {

struct HashingEmbedderOptions {
  // Output dimension. Default: 256.
  int dimension = 256;
  // Character n-gram length taken inside each word (catches French inflections).
  // Default: 4.
  int char_ngram = 4;
};

// The default embedder, which needs no model file: signed feature hashing of folded words,
// word bigrams and in-word character n-grams, sub-linear term weights, L2-normalised.
// Lexical in nature, but robust to inflection and accents. Thread-safe (stateless).
class HashingEmbedder : public Embedder {
 public:
  explicit HashingEmbedder(const HashingEmbedderOptions& options = {});
  std::string Identity() const override;
  int Dimension() const override { return options_.dimension; }
  absl::StatusOr<std::vector<float>> Embed(std::string_view text, bool is_query) const override;

 private:
  HashingEmbedderOptions options_;
};

// Lower-cases and strips accents from UTF-8 text, keeping letters and digits and mapping
// everything else to spaces; returns the words.
std::vector<std::string> FoldWords(std::string_view text);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_HASHING_EMBEDDER_H_
