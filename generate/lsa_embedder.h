#ifndef GREFFIER_GENERATE_LSA_EMBEDDER_H_
#define GREFFIER_GENERATE_LSA_EMBEDDER_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "generate/embedder.h"

namespace greffier::generate {

struct LsaEmbedderOptions {
  // Number of latent dimensions; fewer when the corpus has fewer documents or
  // features than this. Default: 256.
  int dimension = 256;
  // Words (folded: lower case, no accents) longer than this are cut to their
  // first `stem_length` characters, a crude French stemmer ("suppression",
  // "supprimer" → "suppr"); 0 keeps whole words. Default: 7.
  int stem_length = 7;
  // Also use the in-word character n-grams of this length (of "<word>"), which
  // bind inflections and compounds; 0 disables them. Default: 0.
  int char_ngram = 0;
  // Features in fewer documents than this are dropped. Features of a single
  // passage carry no co-occurrence but still pull that passage's vector
  // toward queries that use them (+8 points of dense Recall@5 on piaf).
  // Default: 1.
  int min_document_frequency = 1;
  // Features in more than this fraction of the documents are dropped (stop
  // words). Default: 0.5.
  double max_document_fraction = 0.5;
  // Keep at most this many features, the most frequent (by document
  // frequency). Bounds the model size (features × dimension floats).
  // Default: 50000.
  int max_features = 50000;
  // Each latent direction is scaled by its singular value to this power:
  // 0 compares texts in the rank-k reconstruction of the tf-idf space, -1
  // weighs every direction equally. Default: -0.5 (best dense Recall@5 on
  // both French dev sets).
  double singular_value_power = -0.5;
  // Randomised SVD (Halko, Martinsson, Tropp 2011): extra sampled directions
  // and subspace iterations. Default: 16 and 3.
  int oversampling = 16;
  int power_iterations = 3;
  // Seed of the random test matrix: same texts and options give the same
  // model, byte for byte. Default: 42.
  uint64_t seed = 42;
};

// The default dense embedder when no model file is configured: latent semantic
// analysis trained on the archive's own passages. Texts become sub-linear
// tf-idf vectors over folded (and truncated) words; a truncated SVD of the
// passage × feature matrix maps each feature to a latent vector; a text's
// embedding is the L2-normalised, tf-idf weighted sum of its features' latent
// vectors. Words that co-occur across passages (e.g. « cookie » and
// « traceur ») land close, so it finds passages that a purely lexical ranking
// misses. Unknown words are ignored; a text without known features gives the
// zero vector.
//
// Identity() contains a hash of the trained model, so vectors from another
// training are never mixed with these. Train when an archive is (re)indexed
// (~3 s for 10,000 passages on one core); passages added later are embedded
// by the same fold-in, so retraining (and re-embedding) is only needed when
// the archive's vocabulary has changed much.
//
// Thread-safety: immutable after construction; Embed may run concurrently.
class LsaEmbedder : public Embedder {
 public:
  // Trains on `texts` (the passages to be indexed). InvalidArgument when the
  // texts give no usable feature (e.g. fewer than two documents).
  static absl::StatusOr<std::unique_ptr<LsaEmbedder>> Train(const std::vector<std::string>& texts,
                                                            const LsaEmbedderOptions& options = {});

  // Reads a model written by Save/Serialize. InvalidArgument naming `path`
  // (or `source`) and the reason for a wrong magic or version, truncated or
  // corrupt data; NotFound when the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<LsaEmbedder>> Load(const std::filesystem::path& path);
  static absl::StatusOr<std::unique_ptr<LsaEmbedder>> Deserialize(
      std::string_view bytes, std::string_view source = "LSA model");

  // Writes the model atomically (temporary file, then rename).
  absl::Status Save(const std::filesystem::path& path) const;
  std::string Serialize() const;

  // "lsa-v1-d<dim>-<16 hex digits of the model's content hash>".
  std::string Identity() const override;
  int Dimension() const override { return dimension_; }
  absl::StatusOr<std::vector<float>> Embed(std::string_view text, bool is_query) const override;

  // Number of features (vocabulary size) of the model.
  size_t NumFeatures() const { return idf_.size(); }
  // Singular values of the kept directions, largest first.
  const std::vector<float>& SingularValues() const { return singular_values_; }

 private:
  LsaEmbedder() = default;
  // Computes content_hash_ from the serialised form.
  void Seal();

  int dimension_ = 0;
  int stem_length_ = 0;
  int char_ngram_ = 0;
  uint64_t content_hash_ = 0;
  std::vector<std::string> features_;
  std::unordered_map<std::string, uint32_t> feature_index_;
  std::vector<float> idf_;
  std::vector<float> singular_values_;
  // features × dimension_, row-major: each feature's latent vector.
  std::vector<float> projection_;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_LSA_EMBEDDER_H_
