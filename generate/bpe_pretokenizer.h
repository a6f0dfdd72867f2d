#ifndef GREFFIER_GENERATE_BPE_PRETOKENIZER_H_
#define GREFFIER_GENERATE_BPE_PRETOKENIZER_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace greffier::generate {

// The regular expressions that byte-level BPE tokenizers split text with
// before merging, hand-coded (no regex engine) with the same leftmost-first
// alternation semantics:
//  kGpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+
//           |\s+(?!\S)|\s+
//  kLlama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//           | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//  kQwen2:  as kLlama3 with \p{N} (one digit per piece).
// Invalid UTF-8 bytes count as one character outside \s, \p{L} and \p{N}.
enum class PreTokenizerKind { kGpt2, kLlama3, kQwen2 };

// Maps a `tokenizer.ggml.pre` name to its pre-tokenizer; unknown names are
// an error listing the supported ones.
absl::StatusOr<PreTokenizerKind> PreTokenizerFromName(std::string_view name);

// Appends to `pieces` the pieces of `text` (views into it, in order, whose
// concatenation is `text`). Thread-safe.
void PreTokenize(PreTokenizerKind kind, std::string_view text,
                 std::vector<std::string_view>* pieces);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_BPE_PRETOKENIZER_H_
