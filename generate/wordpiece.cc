// WordPiece ("bert" in GGUF), as BERT's uncased tokenizers do it: clean the
// text (drop control characters, map whitespace to spaces, isolate CJK
// ideographs), strip accents (NFD, drop non-spacing marks), lower-case, split
// on whitespace and punctuation, then greedy longest-match-first per word;
// a word with an unmatched rest becomes one unknown token.
//
// llama.cpp's conversion stores word-initial pieces with a U+2581 prefix and
// continuation pieces ("##x" in BERT's vocab.txt) bare; lookups follow that.

#include <cstdint>
#include <string>
#include <vector>

#include "generate/tokenizer_models.h"
#include "generate/unicode.h"

namespace greffier::generate::internal {
namespace {

constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581
constexpr size_t kMaxWordChars = 100;

bool IsBertPunctuation(char32_t cp, uint32_t flags) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  return (flags & kCpPunctuation) != 0;
}

class WordPieceModel : public TokenizerModel {
 public:
  WordPieceModel(const VocabIndex& index, int32_t unk_id) : index_(index), unk_id_(unk_id) {}

  void Encode(std::string_view text, bool /*after_special*/,
              std::vector<int32_t>* out) const override {
    // Clean text and isolate CJK characters.
    std::string clean;
    clean.reserve(text.size() + 8);
    bool ascii = true;
    for (size_t i = 0; i < text.size();) {
      const Utf8Char c = DecodeUtf8(text, i);
      i += c.len;
      if (!c.valid || c.cp == 0 || c.cp == 0xFFFD) continue;
      const uint32_t f = CodepointFlags(c.cp);
      if (c.cp == '\t' || c.cp == '\n' || c.cp == '\r' || (f & kCpWhitespace) != 0) {
        clean.push_back(' ');
        continue;
      }
      if ((f & kCpControl) != 0) continue;
      if (c.cp >= 0x80) ascii = false;
      if ((f & kCpCjk) != 0) {
        clean.push_back(' ');
        AppendUtf8(c.cp, &clean);
        clean.push_back(' ');
      } else {
        AppendUtf8(c.cp, &clean);
      }
    }
    std::string norm;
    if (ascii) {
      norm = ToLowerUtf8(clean);
    } else {
      const std::string nfd = NormalizeNfd(clean);
      std::string stripped;
      stripped.reserve(nfd.size());
      for (size_t i = 0; i < nfd.size();) {
        const Utf8Char c = DecodeUtf8(nfd, i);
        i += c.len;
        if ((CodepointFlags(c.cp) & kCpNonspacingMark) == 0) {
          AppendUtf8(c.cp, &stripped);
        }
      }
      norm = ToLowerUtf8(stripped);
    }

    // Split on whitespace; each punctuation character is a word of its own.
    size_t word_start = 0;
    size_t word_chars = 0;
    auto flush = [&](size_t end) {
      if (end > word_start) {
        EncodeWord(std::string_view(norm).substr(word_start, end - word_start), word_chars, out);
      }
      word_chars = 0;
    };
    for (size_t i = 0; i < norm.size();) {
      const Utf8Char c = DecodeUtf8(norm, i);
      const uint32_t f = CodepointFlags(c.cp);
      if ((f & kCpWhitespace) != 0) {
        flush(i);
        i += c.len;
        word_start = i;
      } else if (IsBertPunctuation(c.cp, f)) {
        flush(i);
        word_start = i;
        word_chars = 1;
        i += c.len;
        flush(i);
        word_start = i;
      } else {
        ++word_chars;
        i += c.len;
      }
    }
    flush(norm.size());
  }

  std::string Piece(int32_t id) const override {
    const std::string& text = index_.vocab->tokens[id];
    if (text.compare(0, kWordStart.size(), kWordStart) == 0) {
      std::string piece(1, ' ');
      piece.append(text, kWordStart.size(), std::string::npos);
      return piece;
    }
    return text;
  }

 private:
  void EncodeWord(std::string_view word, size_t chars, std::vector<int32_t>* out) const {
    if (chars > kMaxWordChars) {
      if (unk_id_ >= 0) out->push_back(unk_id_);
      return;
    }
    std::string first(kWordStart);
    first.append(word);
    const size_t mark = kWordStart.size();
    const size_t before = out->size();
    size_t start = 0;
    while (start < word.size()) {
      // Longest match, shrinking by whole UTF-8 characters.
      size_t end = word.size();
      int32_t id = -1;
      while (end > start) {
        id = start == 0 ? index_.text_to_id.Find(std::string_view(first).substr(0, mark + end))
                        : index_.text_to_id.Find(word.substr(start, end - start));
        if (id >= 0) break;
        do {
          --end;
        } while (end > start && (static_cast<uint8_t>(word[end]) & 0xC0) == 0x80);
      }
      if (id < 0) {
        out->resize(before);
        if (unk_id_ >= 0) out->push_back(unk_id_);
        return;
      }
      out->push_back(id);
      start = end;
    }
  }

  const VocabIndex& index_;
  int32_t unk_id_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TokenizerModel>> NewWordPieceModel(const VocabIndex& index,
                                                                  int32_t unk_id) {
  return std::make_unique<WordPieceModel>(index, unk_id);
}

}  // namespace greffier::generate::internal
