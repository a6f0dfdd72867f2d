// Unigram language-model tokenizer ("t5" in GGUF; T5 and XLM-RoBERTa
// models such as multilingual-e5 and bge-m3), as SentencePiece does it:
//  1. normalise: user-defined pieces are kept verbatim; elsewhere the longest
//     match in the precompiled charsmap (a darts-clone double-array trie)
//     gives the replacement text, else the character is kept; runs of
//     spaces collapse and are trimmed, spaces become U+2581 and one is
//     prepended;
//  2. Viterbi: the segmentation maximising the sum of piece scores; a
//     character no piece covers becomes the unknown token (score: lowest
//     piece score - 10), and consecutive unknowns fuse into one.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "generate/tokenizer_models.h"
#include "generate/unicode.h"

namespace greffier::generate::internal {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
constexpr double kUnknownPenalty = 10.0;

// SentencePiece's precompiled normaliser: uint32 trie size in bytes, the
// double-array units, then NUL-terminated replacement strings. Every access
// is bounds-checked: the bytes come from a model file.
class CharsMap {
 public:
  absl::Status Init(std::string_view blob) {
    if (blob.empty()) return absl::OkStatus();
    if (blob.size() < 4) {
      return absl::InvalidArgumentError("precompiled_charsmap is truncated");
    }
    uint32_t trie_bytes;
    std::memcpy(&trie_bytes, blob.data(), 4);
    if (trie_bytes % 4 != 0 || trie_bytes > blob.size() - 4) {
      return absl::InvalidArgumentError(absl::StrCat("precompiled_charsmap trie size ", trie_bytes,
                                                     " does not fit in ", blob.size(), " bytes"));
    }
    units_.resize(trie_bytes / 4);
    if (!units_.empty()) std::memcpy(units_.data(), blob.data() + 4, trie_bytes);
    strings_ = std::string(blob.substr(4 + trie_bytes));
    return absl::OkStatus();
  }

  bool empty() const { return units_.empty(); }

  // Longest key that prefixes `s`: its length and replacement, or 0.
  size_t LongestMatch(std::string_view s, std::string_view* replacement) const {
    if (units_.empty()) return 0;
    size_t best = 0;
    uint32_t pos = Offset(units_[0]);
    for (size_t i = 0; i < s.size(); ++i) {
      const uint8_t c = static_cast<uint8_t>(s[i]);
      pos ^= c;
      if (pos >= units_.size()) break;
      const uint32_t unit = units_[pos];
      if (Label(unit) != c) break;
      pos ^= Offset(unit);
      if (pos >= units_.size()) break;
      if (HasLeaf(unit)) {
        const uint32_t value = units_[pos] & ((1u << 31) - 1);
        if (value < strings_.size()) {
          const size_t end = strings_.find('\0', value);
          if (end != std::string::npos) {
            best = i + 1;
            *replacement = std::string_view(strings_).substr(value, end - value);
          }
        }
      }
    }
    return best;
  }

 private:
  static bool HasLeaf(uint32_t u) { return ((u >> 8) & 1) != 0; }
  static uint32_t Label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
  static uint32_t Offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }
  std::vector<uint32_t> units_;
  std::string strings_;
};

class UnigramModel : public TokenizerModel {
 public:
  UnigramModel(const VocabIndex& index, int32_t unk_id, bool add_space_prefix,
               bool remove_extra_whitespaces)
      : index_(index),
        unk_id_(unk_id),
        add_space_prefix_(add_space_prefix),
        remove_extra_ws_(remove_extra_whitespaces) {}

  absl::Status Init() {
    absl::Status s = charsmap_.Init(index_.vocab->precompiled_charsmap);
    if (!s.ok()) return s;
    const auto& tokens = index_.vocab->tokens;
    const auto& scores = index_.vocab->scores;
    size_t total = 1;
    for (const std::string& t : tokens) total += t.size();
    children_.Reserve(total);
    node_token_.assign(1, -1);
    double min_score = std::numeric_limits<double>::max();
    double max_score = std::numeric_limits<double>::lowest();
    for (size_t id = 0; id < tokens.size(); ++id) {
      const TokenType t = index_.types[id];
      if (t != TokenType::kNormal && t != TokenType::kUserDefined && t != TokenType::kUndefined) {
        continue;
      }
      const double score = scores.empty() ? 0.0 : scores[id];
      if (t != TokenType::kUserDefined) {
        min_score = std::min(min_score, score);
        max_score = std::max(max_score, score);
      }
      if (tokens[id].empty()) continue;
      int32_t node = 0;
      for (char c : tokens[id]) {
        const int32_t byte = static_cast<uint8_t>(c);
        const int32_t child = children_.Find(node, byte).rank;
        if (child > 0) {
          node = child;
        } else {
          const int32_t next = static_cast<int32_t>(node_token_.size());
          node_token_.push_back(-1);
          children_.Insert(node, byte, {next, 0});
          node = next;
        }
      }
      if (node_token_[node] < 0) node_token_[node] = static_cast<int32_t>(id);
      if (t == TokenType::kUserDefined) {
        user_defined_.push_back(tokens[id]);
      }
    }
    if (min_score > max_score) min_score = max_score = 0.0;
    unk_score_ = min_score - kUnknownPenalty;
    max_score_ = max_score;
    std::sort(user_defined_.begin(), user_defined_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    return absl::OkStatus();
  }

  void Encode(std::string_view text, bool after_special, std::vector<int32_t>* out) const override {
    const std::string norm = Normalize(text, after_special);
    if (norm.empty()) return;
    const size_t n = norm.size();
    // best[i]: best score of a segmentation of norm[0, i).
    struct Node {
      double score;
      int32_t start;  // -1: unreachable
      int32_t id;     // token ending here; -1 for an unknown character
    };
    std::vector<Node> best(n + 1, {0.0, -1, -1});
    best[0].start = 0;
    const auto& scores = index_.vocab->scores;
    for (size_t pos = 0; pos < n;) {
      const uint32_t char_len = DecodeUtf8(norm, pos).len;
      if (best[pos].start < 0) {
        pos += char_len;
        continue;
      }
      const double base = best[pos].score;
      bool single_char_piece = false;
      int32_t node = 0;
      for (size_t k = pos; k < n; ++k) {
        node = children_.Find(node, static_cast<uint8_t>(norm[k])).rank;
        if (node <= 0) break;
        const int32_t id = node_token_[node];
        if (id < 0) continue;
        const size_t len = k + 1 - pos;
        const double score = index_.types[id] == TokenType::kUserDefined
                                 ? static_cast<double>(len) * max_score_ - 0.1
                                 : (scores.empty() ? 0.0 : scores[id]);
        Node& end = best[k + 1];
        if (end.start < 0 || base + score > end.score) {
          end = {base + score, static_cast<int32_t>(pos), id};
        }
        if (len == char_len) single_char_piece = true;
      }
      if (!single_char_piece) {
        Node& end = best[pos + char_len];
        if (end.start < 0 || base + unk_score_ > end.score) {
          end = {base + unk_score_, static_cast<int32_t>(pos), -1};
        }
      }
      pos += char_len;
    }
    std::vector<int32_t> ids;
    for (size_t pos = n; pos > 0;) {
      const Node& node = best[pos];
      if (node.start < 0) break;  // unreachable: cannot happen (unk covers)
      ids.push_back(node.id);
      pos = static_cast<size_t>(node.start);
    }
    std::reverse(ids.begin(), ids.end());
    bool prev_unknown = false;
    for (int32_t id : ids) {
      const bool unknown = id < 0;
      if (unknown && prev_unknown) continue;  // fuse runs of unknowns
      prev_unknown = unknown;
      if (!unknown) {
        out->push_back(id);
      } else if (unk_id_ >= 0) {
        out->push_back(unk_id_);
      }
    }
  }

  std::string Piece(int32_t id) const override {
    const std::string& text = index_.vocab->tokens[id];
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
  // The text after SentencePiece normalisation, spaces as U+2581.
  std::string Normalize(std::string_view input, bool after_special) const {
    std::string out;
    out.reserve(input.size() + 8);
    // Leading spaces go (when collapsing), before the dummy prefix is added.
    auto next_piece = [&](std::string_view s, std::string* piece) -> size_t {
      for (const std::string& u : user_defined_) {
        if (s.size() >= u.size() && s.compare(0, u.size(), u) == 0) {
          *piece = u;
          return u.size();
        }
      }
      std::string_view replacement;
      if (const size_t len = charsmap_.LongestMatch(s, &replacement)) {
        piece->assign(replacement);
        return len;
      }
      const Utf8Char c = DecodeUtf8(s, 0);
      if (!c.valid) {
        piece->assign(kReplacement);
        return 1;
      }
      piece->assign(s.substr(0, c.len));
      return c.len;
    };
    std::string piece;
    if (remove_extra_ws_) {
      while (!input.empty()) {
        const size_t len = next_piece(input, &piece);
        if (piece != " ") break;
        input.remove_prefix(len);
      }
    }
    if (input.empty()) return out;
    if (add_space_prefix_ && after_special) out.append(kSpace);
    bool prev_space = remove_extra_ws_;
    while (!input.empty()) {
      const size_t len = next_piece(input, &piece);
      input.remove_prefix(len);
      std::string_view sp = piece;
      while (prev_space && !sp.empty() && sp.front() == ' ') sp.remove_prefix(1);
      if (sp.empty()) continue;
      for (char c : sp) {
        if (c == ' ') {
          out.append(kSpace);
        } else {
          out.push_back(c);
        }
      }
      prev_space = remove_extra_ws_ && sp.back() == ' ';
    }
    if (remove_extra_ws_) {
      while (out.size() >= kSpace.size() &&
             out.compare(out.size() - kSpace.size(), kSpace.size(), kSpace) == 0) {
        out.resize(out.size() - kSpace.size());
      }
    }
    return out;
  }

  const VocabIndex& index_;
  int32_t unk_id_;
  bool add_space_prefix_;
  bool remove_extra_ws_;
  CharsMap charsmap_;
  MergeMap children_;                      // (node, byte) -> child node in .rank
  std::vector<int32_t> node_token_;        // node -> token id or -1
  std::vector<std::string> user_defined_;  // longest first
  double unk_score_ = -10.0;
  double max_score_ = 0.0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TokenizerModel>> NewUnigramModel(const VocabIndex& index,
                                                                const UnigramOptions& options) {
  auto model = std::make_unique<UnigramModel>(index, options.unk_id, options.add_space_prefix,
                                              options.remove_extra_whitespaces);
  absl::Status s = model->Init();
  if (!s.ok()) return s;
  return model;
}

}  // namespace greffier::generate::internal
