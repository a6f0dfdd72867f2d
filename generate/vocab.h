#ifndef GREFFIER_GENERATE_VOCAB_H_
#define GREFFIER_GENERATE_VOCAB_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace greffier::generate {

class GgufFile;

// Token types as stored in `tokenizer.ggml.token_type` (llama.cpp's codes).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Everything a tokenizer needs, as plain data: the `tokenizer.ggml.*`
// metadata of a GGUF file, or a hand-made vocabulary in tests.
struct TokenizerVocab {
  // `tokenizer.ggml.model`: "llama" (SentencePiece), "gpt2" (byte-level BPE),
  // "bert" (WordPiece), "t5" (unigram, also XLM-RoBERTa). Default: "".
  std::string model;
  // `tokenizer.ggml.pre`: the pre-tokenizer of byte-level BPE ("llama-bpe",
  // "qwen2", "gpt-2", "default"...). Default: "" (same as "default").
  std::string pre;
  // Token texts, indexed by id. Byte-level BPE texts use GPT-2's byte-to-
  // character mapping; SentencePiece texts use U+2581 for spaces; WordPiece
  // texts carry U+2581 in front of word-initial pieces (llama.cpp's
  // conversion of "##" continuations).
  std::vector<std::string> tokens;
  // Per-token scores (SentencePiece merge priority, unigram log-probability).
  // Default: empty (all zero).
  std::vector<float> scores;
  // Per-token TokenType codes. Default: empty (all kNormal).
  std::vector<int32_t> token_types;
  // Byte-level BPE merges, "left right" in rank order. Default: empty.
  std::vector<std::string> merges;

  // Special ids; unset when the metadata has none.
  std::optional<int32_t> bos_id;
  std::optional<int32_t> eos_id;
  std::optional<int32_t> eot_id;
  std::optional<int32_t> eom_id;
  std::optional<int32_t> unknown_id;
  std::optional<int32_t> padding_id;
  std::optional<int32_t> sep_id;
  std::optional<int32_t> cls_id;
  std::optional<int32_t> mask_id;
  // Unset means the model's usual default (see Tokenizer).
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  std::optional<bool> add_space_prefix;
  // Unigram (SentencePiece) normalisation: collapse runs of spaces and trim
  // them at both ends. Unset: true for "t5".
  std::optional<bool> remove_extra_whitespaces;
  // `tokenizer.ggml.precompiled_charsmap`: SentencePiece's normalisation
  // rules (a darts double-array trie plus replacement strings), as bytes.
  // Default: empty (no normalisation beyond whitespace).
  std::string precompiled_charsmap;

  // `tokenizer.chat_template` (Jinja source). Default: "".
  std::string chat_template;
};

// Reads the `tokenizer.*` metadata of `file`. Errors name the file and key.
absl::StatusOr<TokenizerVocab> VocabFromGguf(const GgufFile& file);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_VOCAB_H_
