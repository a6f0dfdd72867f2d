// SentencePiece-style BPE ("llama" in GGUF): the text, with spaces shown as
// U+2581, starts as one symbol per UTF-8 character; the adjacent pair whose
// concatenation is the highest-scoring vocabulary piece merges first (ties:
// leftmost). Symbols left outside the vocabulary fall back to <0xNN> byte
// tokens, or to the unknown token.

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "generate/tokenizer_models.h"
#include "generate/unicode.h"

namespace greffier::generate::internal {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

// The byte of a "<0xNN>" token text (upper-case hex), or -1.
int ParseByteToken(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') {
    return -1;
  }
  int value = 0;
  for (char c : text.substr(3, 2)) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

bool Mergeable(TokenType t) {
  return t == TokenType::kNormal || t == TokenType::kUserDefined || t == TokenType::kUndefined;
}

class SpmModel : public TokenizerModel {
 public:
  SpmModel(const VocabIndex& index, const SpmOptions& options) : index_(index), options_(options) {
    const auto& tokens = index.vocab->tokens;
    pieces_.Reserve(tokens.size());
    byte_ids_.fill(-1);
    for (size_t id = 0; id < tokens.size(); ++id) {
      const TokenType t = index.types[id];
      if (Mergeable(t)) {
        pieces_.Insert(tokens[id], static_cast<int32_t>(id));
        // A piece with "▁" after another character would span two words.
        const std::string& tok = tokens[id];
        for (size_t p = tok.find(kSpace, 1); p != std::string::npos; p = tok.find(kSpace, p + 1)) {
          if (p < kSpace.size() || tok.compare(p - kSpace.size(), kSpace.size(), kSpace) != 0) {
            split_words_ = false;
          }
        }
      }
      const int byte = ParseByteToken(tokens[id]);
      if (byte >= 0 && (t == TokenType::kByte || t == TokenType::kUndefined) &&
          byte_ids_[byte] < 0) {
        byte_ids_[byte] = static_cast<int32_t>(id);
      }
    }
  }

  void Encode(std::string_view text, bool after_special, std::vector<int32_t>* out) const override {
    if (text.empty()) return;
    std::string s;
    s.reserve(text.size() + text.size() / 4 + 3);
    if (options_.add_space_prefix && after_special) s.append(kSpace);
    for (char c : text) {
      if (c == ' ') {
        s.append(kSpace);
      } else {
        s.push_back(c);
      }
    }
    Scratch scratch;
    if (!split_words_) {
      EncodeChunk(s, &scratch, out);
      return;
    }
    // No piece continues past a word into the next "▁": encode word by word
    // (same result, much smaller queues).
    size_t start = 0;
    for (size_t i = kSpace.size(); i + kSpace.size() <= s.size(); ++i) {
      if (s.compare(i, kSpace.size(), kSpace) == 0 &&
          s.compare(i - kSpace.size(), kSpace.size(), kSpace) != 0) {
        EncodeChunk(std::string_view(s).substr(start, i - start), &scratch, out);
        start = i;
      }
    }
    EncodeChunk(std::string_view(s).substr(start), &scratch, out);
  }

  std::string Piece(int32_t id) const override {
    const std::string& text = index_.vocab->tokens[id];
    const int byte = ParseByteToken(text);
    if (byte >= 0 && byte_ids_[byte] == id) {
      return std::string(1, static_cast<char>(byte));
    }
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
      if (text.compare(i, kSpace.size(), kSpace) == 0) {
        out.push_back(' ');
        i += kSpace.size();
      } else {
        out.push_back(text[i++]);
      }
    }
    return out;
  }

 private:
  struct Symbol {
    int prev;
    int next;
    uint32_t off;
    uint32_t len;  // 0 once merged into its left neighbour
  };
  struct Bigram {
    float score;
    int left;
    uint32_t size;
  };
  struct WorseBigram {
    bool operator()(const Bigram& a, const Bigram& b) const {
      if (a.score != b.score) return a.score < b.score;
      return a.left > b.left;
    }
  };
  struct Scratch {
    std::vector<Symbol> sym;
    std::vector<Bigram> heap;
  };

  void EncodeChunk(std::string_view s, Scratch* scratch, std::vector<int32_t>* out) const {
    if (s.empty()) return;
    std::vector<Symbol>& sym = scratch->sym;
    sym.clear();
    for (size_t i = 0; i < s.size();) {
      const uint32_t len = DecodeUtf8(s, i).len;
      const int k = static_cast<int>(sym.size());
      sym.push_back({k - 1, k + 1, static_cast<uint32_t>(i), len});
      i += len;
    }
    sym.back().next = -1;

    std::vector<Bigram>& heap = scratch->heap;
    heap.clear();
    const std::vector<float>& scores = index_.vocab->scores;
    auto try_add = [&](int left, int right) {
      if (left < 0 || right < 0) return;
      const uint32_t size = sym[left].len + sym[right].len;
      const int32_t id = pieces_.Find(s.substr(sym[left].off, size));
      if (id < 0) return;
      heap.push_back({scores.empty() ? 0.0f : scores[id], left, size});
      std::push_heap(heap.begin(), heap.end(), WorseBigram());
    };
    for (size_t i = 1; i < sym.size(); ++i) {
      try_add(static_cast<int>(i) - 1, static_cast<int>(i));
    }
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), WorseBigram());
      const Bigram b = heap.back();
      heap.pop_back();
      Symbol& left = sym[b.left];
      if (left.len == 0 || left.next < 0) continue;
      Symbol& right = sym[left.next];
      if (left.len + right.len != b.size) continue;  // stale
      left.len += right.len;
      right.len = 0;
      left.next = right.next;
      if (right.next >= 0) sym[right.next].prev = b.left;
      try_add(left.prev, b.left);
      try_add(b.left, left.next);
    }

    for (int i = 0; i >= 0; i = sym[i].next) {
      const std::string_view piece = s.substr(sym[i].off, sym[i].len);
      const int32_t id = pieces_.Find(piece);
      if (id >= 0) {
        out->push_back(id);
        continue;
      }
      for (char c : piece) {
        const int32_t b = byte_ids_[static_cast<uint8_t>(c)];
        if (b >= 0) {
          out->push_back(b);
        } else if (options_.unk_id >= 0) {
          // Without byte tokens a whole character maps to one unknown token.
          out->push_back(options_.unk_id);
          break;
        }
      }
    }
  }

  const VocabIndex& index_;
  SpmOptions options_;
  StringIdMap pieces_;  // tokens that merges may produce
  std::array<int32_t, 256> byte_ids_;
  bool split_words_ = true;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TokenizerModel>> NewSpmModel(const VocabIndex& index,
                                                            const SpmOptions& options) {
  return std::make_unique<SpmModel>(index, options);
}

}  // namespace greffier::generate::internal
