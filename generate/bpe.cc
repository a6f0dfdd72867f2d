// Byte-level BPE ("gpt2" in GGUF): the pre-tokenizer splits the text, each
// piece starts as one symbol per byte, and adjacent pairs merge by merge rank
// (lowest first, ties leftmost). Token texts use GPT-2's byte-to-character
// mapping; everything here works on the raw bytes they stand for.

#include <array>
#include <cstdint>
#include <queue>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "generate/bpe_pretokenizer.h"
#include "generate/tokenizer_models.h"
#include "generate/unicode.h"

namespace greffier::generate::internal {
namespace {

// GPT-2's reversible byte <-> code point mapping: printable Latin-1 bytes map
// to themselves, the others to U+0100 onwards in byte order.
std::array<char32_t, 256> ByteToCodepoint() {
  std::array<char32_t, 256> map{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable =
        (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    map[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return map;
}

// Bytes that a mapped token text stands for; false when a character is
// outside the mapping (then the text is not byte-level).
bool UnmapBytes(std::string_view text, const std::array<int, 324>& cp_to_byte, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = DecodeUtf8(text, i);
    if (!c.valid || c.cp >= cp_to_byte.size() || cp_to_byte[c.cp] < 0) {
      return false;
    }
    out->push_back(static_cast<char>(cp_to_byte[c.cp]));
    i += c.len;
  }
  return true;
}

bool Mergeable(TokenType t) { return t == TokenType::kNormal || t == TokenType::kUndefined; }

class ByteLevelBpeModel : public TokenizerModel {
 public:
  ByteLevelBpeModel(const VocabIndex& index, PreTokenizerKind pre, int32_t unk_id)
      : index_(index), pre_(pre), unk_id_(unk_id) {}

  absl::Status Init() {
    const auto& tokens = index_.vocab->tokens;
    const std::array<char32_t, 256> b2c = ByteToCodepoint();
    std::array<int, 324> c2b;
    c2b.fill(-1);
    for (int b = 0; b < 256; ++b) c2b[b2c[b]] = b;

    bytes_.resize(tokens.size());
    bytes_to_id_.Reserve(tokens.size());
    byte_ids_.fill(-1);
    for (size_t id = 0; id < tokens.size(); ++id) {
      const TokenType t = index_.types[id];
      if (!Mergeable(t) || !UnmapBytes(tokens[id], c2b, &bytes_[id])) {
        bytes_[id] = tokens[id];  // control/user-defined text is raw
        continue;
      }
      bytes_to_id_.Insert(bytes_[id], static_cast<int32_t>(id));
      if (bytes_[id].size() == 1) {
        auto& slot = byte_ids_[static_cast<uint8_t>(bytes_[id][0])];
        if (slot < 0) slot = static_cast<int32_t>(id);
      }
    }

    const auto& merges = index_.vocab->merges;
    merges_.Reserve(merges.size());
    std::string joined;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
      const std::string& m = merges[rank];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("merge ", rank, " ('", m, "') has no space"));
      }
      const std::string_view a = std::string_view(m).substr(0, sp);
      const std::string_view b = std::string_view(m).substr(sp + 1);
      joined.assign(a);
      joined.append(b);
      const int32_t left = index_.text_to_id.Find(a);
      const int32_t right = index_.text_to_id.Find(b);
      const int32_t merged = index_.text_to_id.Find(joined);
      // Merges naming unknown tokens cannot fire; the reference skips them.
      if (left < 0 || right < 0 || merged < 0) continue;
      merges_.Insert(left, right, {static_cast<int32_t>(rank), merged});
    }
    // Llama 3's tokenizer emits a piece that is a whole token as is.
    ignore_merges_ = pre_ == PreTokenizerKind::kLlama3;
    nfc_ = pre_ == PreTokenizerKind::kQwen2;
    return absl::OkStatus();
  }

  void Encode(std::string_view text, bool /*after_special*/,
              std::vector<int32_t>* out) const override {
    std::string normalized;
    if (nfc_ && !IsNfc(text)) {
      // Invalid UTF-8 is kept as is rather than replaced, so it round-trips.
      bool valid = true;
      for (size_t i = 0; i < text.size() && valid;) {
        const Utf8Char c = DecodeUtf8(text, i);
        valid = c.valid;
        i += c.len;
      }
      if (valid) {
        normalized = NormalizeNfc(text);
        text = normalized;
      }
    }
    std::vector<std::string_view> pieces;
    PreTokenize(pre_, text, &pieces);
    std::vector<Symbol> sym;
    for (std::string_view piece : pieces) {
      if (ignore_merges_ || piece.size() == 1) {
        const int32_t id = bytes_to_id_.Find(piece);
        if (id >= 0) {
          out->push_back(id);
          continue;
        }
      }
      EncodePiece(piece, &sym, out);
    }
  }

  std::string Piece(int32_t id) const override { return bytes_[id]; }

 private:
  struct Symbol {
    int32_t id;
    int prev;
    int next;
  };

  void EncodePiece(std::string_view piece, std::vector<Symbol>* sym_buf,
                   std::vector<int32_t>* out) const {
    std::vector<Symbol>& sym = *sym_buf;
    sym.clear();
    for (char c : piece) {
      const int k = static_cast<int>(sym.size());
      sym.push_back({byte_ids_[static_cast<uint8_t>(c)], k - 1, k + 1});
    }
    sym.back().next = -1;

    struct Candidate {
      int32_t rank;
      int left;
      int32_t left_id;
      int32_t right_id;
      int32_t merged;
    };
    auto worse = [](const Candidate& a, const Candidate& b) {
      if (a.rank != b.rank) return a.rank > b.rank;
      return a.left > b.left;
    };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> queue(worse);
    auto try_add = [&](int left) {
      if (left < 0) return;
      const int right = sym[left].next;
      if (right < 0) return;
      const int32_t a = sym[left].id;
      const int32_t b = sym[right].id;
      if (a < 0 || b < 0) return;
      const MergeMap::Merge m = merges_.Find(a, b);
      if (m.rank >= 0) queue.push({m.rank, left, a, b, m.merged});
    };
    for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i) try_add(i);
    while (!queue.empty()) {
      const Candidate c = queue.top();
      queue.pop();
      Symbol& left = sym[c.left];
      if (left.id != c.left_id || left.next < 0) continue;  // stale
      Symbol& right = sym[left.next];
      if (right.id != c.right_id) continue;
      left.id = c.merged;
      right.id = -2;  // removed
      left.next = right.next;
      if (right.next >= 0) sym[right.next].prev = c.left;
      try_add(left.prev);
      try_add(c.left);
    }
    for (int i = 0; i >= 0; i = sym[i].next) {
      if (sym[i].id >= 0) {
        out->push_back(sym[i].id);
      } else if (unk_id_ >= 0) {
        out->push_back(unk_id_);  // a byte without a token: not byte-level
      }
    }
  }

  const VocabIndex& index_;
  PreTokenizerKind pre_;
  int32_t unk_id_;
  bool ignore_merges_ = false;
  bool nfc_ = false;
  std::vector<std::string> bytes_;  // per id
  StringIdMap bytes_to_id_;         // normal tokens, keyed by their bytes
  std::array<int32_t, 256> byte_ids_;
  MergeMap merges_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TokenizerModel>> NewByteLevelBpeModel(const VocabIndex& index,
                                                                     int32_t unk_id) {
  absl::StatusOr<PreTokenizerKind> pre = PreTokenizerFromName(index.vocab->pre);
  if (!pre.ok()) return pre.status();
  auto model = std::make_unique<ByteLevelBpeModel>(index, *pre, unk_id);
  absl::Status s = model->Init();
  if (!s.ok()) return s;
  return model;
}

}  // namespace greffier::generate::internal
