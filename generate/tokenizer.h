#ifndef GREFFIER_GENERATE_TOKENIZER_H_
#define GREFFIER_GENERATE_TOKENIZER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generate/vocab.h"

namespace greffier::generate {

class GgufFile;

namespace internal {
class TokenizerModel;
}  // namespace internal

// The tokenizer families of `tokenizer.ggml.model`.
enum class TokenizerKind {
  kSentencePiece,  // "llama": score-ordered merges, byte fallback, U+2581
  kByteLevelBpe,   // "gpt2": regex pre-tokenizer, ranked merges over bytes
  kWordPiece,      // "bert": BERT normalisation, greedy longest match
  kUnigram,        // "t5": SentencePiece unigram (T5, XLM-RoBERTa)
};

// Text <-> token ids for the model families above, built from a GGUF file's
// tokenizer metadata (or a TokenizerVocab). SentencePiece, byte-level BPE
// (pre-tokenizers gpt-2, llama-bpe, qwen2) and WordPiece match the Hugging
// Face reference tokenizers on the test vectors of real vocabularies; the
// unigram model follows SentencePiece's algorithm but has only been checked
// on hand-made vocabularies. Decoding is exact for SentencePiece and
// byte-level BPE (any byte string survives a round trip, invalid UTF-8
// included) and lossy for WordPiece (lower-cased, accents stripped) and
// unigram (normalised, spaces collapsed).
//
// Immutable after construction: all methods are const and thread-safe.
class Tokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromGguf(const GgufFile& file);
  // Errors name the inconsistency (sizes, ids out of range, unknown model).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromVocab(TokenizerVocab vocab);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`. `add_special`: add BOS/EOS as the model's rules say
  // (add_bos()/add_eos()). `parse_special`: text of control tokens (e.g.
  // "<|im_start|>", "<s>") becomes those tokens; otherwise it is ordinary
  // text. User-defined tokens (type 4) are always matched, as the reference
  // tokenizers do.
  std::vector<int32_t> Encode(std::string_view text, bool add_special = true,
                              bool parse_special = false) const;
  // Number of tokens of `text` alone (no BOS/EOS, special text not parsed).
  size_t CountTokens(std::string_view text) const;

  // Bytes of `ids`. Control and unknown tokens are rendered as their text
  // when `render_special`, else omitted. The space that SentencePiece and
  // WordPiece put before the first word (and after special tokens) is
  // removed, so Decode(Encode(s, false)) == s for lossless tokenizers.
  // Out-of-range ids are skipped. The result may end inside a UTF-8
  // sequence; see StreamingDecoder for token-by-token output.
  std::string Decode(std::span<const int32_t> ids, bool render_special = false) const;
  // Bytes that one token stands for, without any leading-space removal.
  // Empty for an out-of-range id.
  std::string TokenPiece(int32_t id, bool render_special = true) const;
  // The token's text as stored in the vocabulary; empty when out of range.
  std::string_view TokenText(int32_t id) const;
  // Exact vocabulary lookup of a token text (any type).
  std::optional<int32_t> TokenId(std::string_view text) const;
  TokenType token_type(int32_t id) const;

  TokenizerKind kind() const { return kind_; }
  int32_t vocab_size() const { return static_cast<int32_t>(pieces_.size()); }
  // -1 when the vocabulary has none.
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  int32_t unknown_id() const { return unk_id_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  // End of generation: EOS, EOT, EOM and the control tokens that end a turn
  // in the known chat formats (<|eot_id|>, <|im_end|>, ...).
  bool IsEog(int32_t id) const;
  // Control or unknown token.
  bool IsControl(int32_t id) const;
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }

  const TokenizerVocab& vocab() const { return vocab_; }
  const std::string& chat_template() const { return vocab_.chat_template; }

 private:
  friend class StreamingDecoder;
  Tokenizer();
  absl::Status Init();
  // Appends the piece of `id` to `out`; `at_text_start` tracks whether the
  // next text piece is the first after the start or a special token.
  void AppendPiece(int32_t id, bool render_special, bool* at_text_start, std::string* out) const;

  TokenizerVocab vocab_;
  TokenizerKind kind_ = TokenizerKind::kSentencePiece;
  std::unique_ptr<internal::TokenizerModel> model_;
  std::vector<std::string> pieces_;  // decoded bytes per id
  std::vector<TokenType> types_;
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  int32_t unk_id_ = -1;
  bool add_bos_ = false;
  bool add_eos_ = false;
  // SentencePiece/WordPiece: remove one space before the first word.
  bool strip_leading_space_ = false;
  std::vector<int32_t> eog_ids_;
  // Tokens matched in text before the model runs, longest first, grouped by
  // first byte.
  struct Special {
    std::string_view text;
    int32_t id;
    bool always;  // user-defined: matched even without parse_special
  };
  std::array<std::vector<Special>, 256> specials_by_byte_;
  bool has_always_specials_ = false;
};

// Turns a stream of generated token ids into text, emitting only complete
// UTF-8 characters (a character split over several byte tokens is held back
// until its last byte). The concatenation of every Push and the final Flush
// equals Tokenizer::Decode of all the ids. Not thread-safe; the tokenizer
// must outlive it.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool render_special = false);
  // Text that `id` completes (possibly empty).
  std::string Push(int32_t id);
  // Whatever is held back (an incomplete sequence at the end of output).
  std::string Flush();

 private:
  const Tokenizer& tokenizer_;
  bool render_special_;
  bool at_text_start_ = true;
  std::string pending_;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_TOKENIZER_H_
