#include "generate/tokenizer.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "generate/gguf.h"
#include "generate/tokenizer_models.h"
#include "generate/unicode.h"

namespace greffier::generate {
namespace {

// Control tokens that end a turn in common chat formats, beyond EOS/EOT.
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>",    "<|eom_id|>",      "<|im_end|>",    "<|end|>",
    "<|endoftext|>", "<|end_of_text|>", "<end_of_turn>", "</s>",
};

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const GgufFile& file) {
  absl::StatusOr<TokenizerVocab> vocab = VocabFromGguf(file);
  if (!vocab.ok()) return vocab.status();
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = FromVocab(*std::move(vocab));
  if (!tok.ok()) {
    return absl::Status(tok.status().code(),
                        absl::StrCat(file.path(), ": tokenizer: ", tok.status().message()));
  }
  return tok;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromVocab(TokenizerVocab vocab) {
  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  tok->vocab_ = std::move(vocab);
  absl::Status s = tok->Init();
  if (!s.ok()) return s;
  return tok;
}

// Keeps the lookup index alive alongside the model that points into it.
namespace internal {
struct IndexedModel : TokenizerModel {
  VocabIndex index;
  std::unique_ptr<TokenizerModel> inner;
  void Encode(std::string_view text, bool after_special, std::vector<int32_t>* out) const override {
    inner->Encode(text, after_special, out);
  }
  std::string Piece(int32_t id) const override { return inner->Piece(id); }
};
}  // namespace internal

absl::Status Tokenizer::Init() {
  const TokenizerVocab& v = vocab_;
  const size_t n = v.tokens.size();
  if (n == 0) return absl::InvalidArgumentError("vocabulary has no tokens");
  if (n > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("vocabulary too large");
  }
  if (!v.scores.empty() && v.scores.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("scores has ", v.scores.size(), " entries for ", n, " tokens"));
  }
  if (!v.token_types.empty() && v.token_types.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("token_type has ", v.token_types.size(), " entries for ", n, " tokens"));
  }
  types_.resize(n, TokenType::kNormal);
  for (size_t i = 0; i < v.token_types.size(); ++i) {
    const int32_t t = v.token_types[i];
    if (t < 0 || t > 6) {
      return absl::InvalidArgumentError(absl::StrCat("token ", i, " has unknown type ", t));
    }
    types_[i] = static_cast<TokenType>(t);
  }

  auto model = std::make_unique<internal::IndexedModel>();
  internal::VocabIndex& index = model->index;
  index.vocab = &vocab_;
  index.types = types_;
  index.text_to_id.Reserve(n);
  for (size_t i = 0; i < n; ++i) {
    index.text_to_id.Insert(vocab_.tokens[i], static_cast<int32_t>(i));
  }
  auto id_of = [&](std::string_view text) { return index.text_to_id.Find(text); };
  auto check_id = [&](const std::optional<int32_t>& id,
                      std::string_view what) -> absl::StatusOr<int32_t> {
    if (!id.has_value()) return -1;
    if (*id < 0 || static_cast<size_t>(*id) >= n) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(what), " id ", *id, " is outside the vocabulary (", n, " tokens)"));
    }
    return *id;
  };
  absl::StatusOr<int32_t> bos = check_id(v.bos_id, "BOS");
  absl::StatusOr<int32_t> eos = check_id(v.eos_id, "EOS");
  absl::StatusOr<int32_t> unk = check_id(v.unknown_id, "unknown-token");
  absl::StatusOr<int32_t> eot = check_id(v.eot_id, "EOT");
  absl::StatusOr<int32_t> eom = check_id(v.eom_id, "EOM");
  absl::StatusOr<int32_t> cls = check_id(v.cls_id, "CLS");
  absl::StatusOr<int32_t> sep = check_id(v.sep_id, "SEP");
  for (const auto* r : {&bos, &eos, &unk, &eot, &eom, &cls, &sep}) {
    if (!r->ok()) return r->status();
  }
  bos_id_ = *bos;
  eos_id_ = *eos;
  unk_id_ = *unk;

  absl::StatusOr<std::unique_ptr<internal::TokenizerModel>> inner;
  if (v.model == "llama") {
    kind_ = TokenizerKind::kSentencePiece;
    if (unk_id_ < 0) unk_id_ = id_of("<unk>");
    internal::SpmOptions options;
    options.add_space_prefix = v.add_space_prefix.value_or(true);
    options.unk_id = unk_id_;
    strip_leading_space_ = options.add_space_prefix;
    add_bos_ = v.add_bos.value_or(true);
    add_eos_ = v.add_eos.value_or(false);
    inner = internal::NewSpmModel(index, options);
  } else if (v.model == "gpt2") {
    kind_ = TokenizerKind::kByteLevelBpe;
    // Llama 3 files often lack add_bos_token yet its tokenizer adds BOS.
    const bool llama3 =
        v.pre == "llama-bpe" || v.pre == "llama3" || v.pre == "llama-v3" || v.pre == "smaug-bpe";
    add_bos_ = v.add_bos.value_or(llama3);
    add_eos_ = v.add_eos.value_or(false);
    inner = internal::NewByteLevelBpeModel(index, unk_id_);
  } else if (v.model == "bert") {
    kind_ = TokenizerKind::kWordPiece;
    if (unk_id_ < 0) unk_id_ = id_of("[UNK]");
    // BERT wraps a sequence as [CLS] ... [SEP].
    if (*cls >= 0) bos_id_ = *cls;
    if (bos_id_ < 0) bos_id_ = id_of("[CLS]");
    if (*sep >= 0) eos_id_ = *sep;
    if (eos_id_ < 0) eos_id_ = id_of("[SEP]");
    strip_leading_space_ = true;
    add_bos_ = v.add_bos.value_or(true);
    add_eos_ = v.add_eos.value_or(true);
    inner = internal::NewWordPieceModel(index, unk_id_);
  } else if (v.model == "t5") {
    kind_ = TokenizerKind::kUnigram;
    if (unk_id_ < 0) unk_id_ = id_of("<unk>");
    internal::UnigramOptions options;
    options.unk_id = unk_id_;
    options.add_space_prefix = v.add_space_prefix.value_or(true);
    options.remove_extra_whitespaces = v.remove_extra_whitespaces.value_or(true);
    strip_leading_space_ = options.add_space_prefix;
    // T5 ends a sequence with </s> and has no BOS; XLM-RoBERTa files say
    // add_bos_token explicitly.
    add_bos_ = v.add_bos.value_or(false);
    add_eos_ = v.add_eos.value_or(true);
    inner = internal::NewUnigramModel(index, options);
  } else {
    return absl::UnimplementedError(absl::StrCat("unsupported tokenizer model '", v.model,
                                                 "' (supported: llama, gpt2, bert, t5)"));
  }
  if (!inner.ok()) return inner.status();
  model->inner = *std::move(inner);

  // Pieces for decoding, and the special tokens matched before encoding.
  pieces_.resize(n);
  std::vector<Special> specials;
  for (size_t i = 0; i < n; ++i) {
    const TokenType t = types_[i];
    const std::string& text = vocab_.tokens[i];
    if (t == TokenType::kControl || t == TokenType::kUnknown) {
      pieces_[i] = text;
      if (!text.empty()) {
        specials.push_back({text, static_cast<int32_t>(i), false});
      }
    } else if (t == TokenType::kUserDefined) {
      pieces_[i] = text;
      if (!text.empty()) {
        specials.push_back({text, static_cast<int32_t>(i), true});
        has_always_specials_ = true;
      }
    } else {
      pieces_[i] = model->Piece(static_cast<int32_t>(i));
    }
  }
  std::stable_sort(specials.begin(), specials.end(), [](const Special& a, const Special& b) {
    return a.text.size() > b.text.size();
  });
  for (const Special& s : specials) {
    specials_by_byte_[static_cast<uint8_t>(s.text[0])].push_back(s);
  }

  for (int32_t id : {eos_id_, *eot, *eom}) {
    if (id >= 0) eog_ids_.push_back(id);
  }
  for (std::string_view text : kEogTexts) {
    const int32_t id = id_of(text);
    if (id >= 0 && types_[id] == TokenType::kControl) eog_ids_.push_back(id);
  }
  if (kind_ == TokenizerKind::kWordPiece) eog_ids_ = {eos_id_};
  std::sort(eog_ids_.begin(), eog_ids_.end());
  eog_ids_.erase(std::unique(eog_ids_.begin(), eog_ids_.end()), eog_ids_.end());
  eog_ids_.erase(std::remove(eog_ids_.begin(), eog_ids_.end(), -1), eog_ids_.end());
  model_ = std::move(model);
  return absl::OkStatus();
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && add_bos_ && bos_id_ >= 0) out.push_back(bos_id_);
  bool after_special = true;
  size_t start = 0;
  if (parse_special || has_always_specials_) {
    for (size_t i = 0; i < text.size();) {
      const auto& candidates = specials_by_byte_[static_cast<uint8_t>(text[i])];
      const Special* hit = nullptr;
      for (const Special& s : candidates) {
        if ((parse_special || s.always) && text.compare(i, s.text.size(), s.text) == 0) {
          hit = &s;
          break;
        }
      }
      if (hit == nullptr) {
        ++i;
        continue;
      }
      if (i > start) {
        model_->Encode(text.substr(start, i - start), after_special, &out);
      }
      out.push_back(hit->id);
      after_special = true;
      i += hit->text.size();
      start = i;
    }
  }
  if (start < text.size()) {
    model_->Encode(text.substr(start), after_special, &out);
  }
  if (add_special && add_eos_ && eos_id_ >= 0) out.push_back(eos_id_);
  return out;
}

size_t Tokenizer::CountTokens(std::string_view text) const {
  return Encode(text, /*add_special=*/false, /*parse_special=*/false).size();
}

void Tokenizer::AppendPiece(int32_t id, bool render_special, bool* at_text_start,
                            std::string* out) const {
  if (id < 0 || id >= vocab_size()) return;
  const TokenType t = types_[id];
  if (t == TokenType::kControl || t == TokenType::kUnknown) {
    if (render_special) out->append(pieces_[id]);
    *at_text_start = true;
    return;
  }
  if (t == TokenType::kUserDefined) {
    out->append(pieces_[id]);
    *at_text_start = true;
    return;
  }
  std::string_view piece = pieces_[id];
  if (*at_text_start && strip_leading_space_ && !piece.empty() && piece[0] == ' ') {
    piece.remove_prefix(1);
  }
  if (!pieces_[id].empty()) *at_text_start = false;
  out->append(piece);
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  bool at_text_start = true;
  for (int32_t id : ids) AppendPiece(id, render_special, &at_text_start, &out);
  return out;
}

std::string Tokenizer::TokenPiece(int32_t id, bool render_special) const {
  if (id < 0 || id >= vocab_size()) return "";
  if (!render_special && IsControl(id)) return "";
  return pieces_[id];
}

std::string_view Tokenizer::TokenText(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return vocab_.tokens[id];
}

std::optional<int32_t> Tokenizer::TokenId(std::string_view text) const {
  const auto* m = static_cast<const internal::IndexedModel*>(model_.get());
  const int32_t id = m->index.text_to_id.Find(text);
  if (id < 0) return std::nullopt;
  return id;
}

TokenType Tokenizer::token_type(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return TokenType::kUndefined;
  return types_[id];
}

bool Tokenizer::IsEog(int32_t id) const {
  return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

bool Tokenizer::IsControl(int32_t id) const {
  const TokenType t = token_type(id);
  return t == TokenType::kControl || t == TokenType::kUnknown;
}

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool render_special)
    : tokenizer_(tokenizer), render_special_(render_special) {}

std::string StreamingDecoder::Push(int32_t id) {
  tokenizer_.AppendPiece(id, render_special_, &at_text_start_, &pending_);
  const size_t hold = IncompleteUtf8Suffix(pending_);
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StreamingDecoder::Flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace greffier::generate
