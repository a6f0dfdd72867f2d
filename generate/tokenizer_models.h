#ifndef GREFFIER_GENERATE_TOKENIZER_MODELS_H_
#define GREFFIER_GENERATE_TOKENIZER_MODELS_H_

// Internal to the tokenizer: the per-family encoders behind Tokenizer.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generate/tokenizer_hash.h"
#include "generate/vocab.h"

namespace greffier::generate::internal {

// Lookup data shared by the models. Views point into `vocab->tokens`.
struct VocabIndex {
  const TokenizerVocab* vocab = nullptr;
  std::vector<TokenType> types;
  StringIdMap text_to_id;  // every token text
};

// One tokenizer family. Immutable after construction; thread-safe.
class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;
  // Appends the ids of `text`, which holds no special-token text.
  // `after_special`: `text` starts the input or follows a special token.
  virtual void Encode(std::string_view text, bool after_special,
                      std::vector<int32_t>* out) const = 0;
  // The bytes that a normal, byte or user-defined token stands for.
  virtual std::string Piece(int32_t id) const = 0;
};

struct SpmOptions {
  // Prepend U+2581 at the start of the text and after special tokens.
  bool add_space_prefix = true;
  int32_t unk_id = -1;
};
absl::StatusOr<std::unique_ptr<TokenizerModel>> NewSpmModel(const VocabIndex& index,
                                                            const SpmOptions& options);

absl::StatusOr<std::unique_ptr<TokenizerModel>> NewByteLevelBpeModel(const VocabIndex& index,
                                                                     int32_t unk_id);

absl::StatusOr<std::unique_ptr<TokenizerModel>> NewWordPieceModel(const VocabIndex& index,
                                                                  int32_t unk_id);

struct UnigramOptions {
  int32_t unk_id = -1;
  // Prepend U+2581 at the start of the text and after special tokens.
  bool add_space_prefix = true;
  // Collapse runs of spaces; trim them at both ends.
  bool remove_extra_whitespaces = true;
};
absl::StatusOr<std::unique_ptr<TokenizerModel>> NewUnigramModel(const VocabIndex& index,
                                                                const UnigramOptions& options);

}  // namespace greffier::generate::internal

#endif  // GREFFIER_GENERATE_TOKENIZER_MODELS_H_
