#include "generate/vocab.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "generate/gguf.h"

namespace greffier::generate {
namespace {

absl::Status OptionalId(const GgufFile& file, std::string_view key, std::optional<int32_t>* out) {
  if (file.Find(key) == nullptr) return absl::OkStatus();
  absl::StatusOr<int64_t> v = file.GetInt(key);
  if (!v.ok()) return v.status();
  // Some converters write -1 (or UINT32_MAX) for "none".
  if (*v < 0 || *v > INT32_MAX) return absl::OkStatus();
  *out = static_cast<int32_t>(*v);
  return absl::OkStatus();
}

absl::Status OptionalBool(const GgufFile& file, std::string_view key, std::optional<bool>* out) {
  if (file.Find(key) == nullptr) return absl::OkStatus();
  absl::StatusOr<bool> v = file.GetBool(key);
  if (!v.ok()) return v.status();
  *out = *v;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TokenizerVocab> VocabFromGguf(const GgufFile& file) {
  TokenizerVocab vocab;
  absl::StatusOr<std::string> model = file.GetString("tokenizer.ggml.model");
  if (!model.ok()) return model.status();
  vocab.model = *std::move(model);
  absl::StatusOr<std::string> pre = file.GetStringOr("tokenizer.ggml.pre", "default");
  if (!pre.ok()) return pre.status();
  vocab.pre = *std::move(pre);

  absl::StatusOr<std::vector<std::string>> tokens = file.GetStringArray("tokenizer.ggml.tokens");
  if (!tokens.ok()) return tokens.status();
  vocab.tokens = *std::move(tokens);
  const size_t n = vocab.tokens.size();

  if (file.Find("tokenizer.ggml.scores") != nullptr) {
    absl::StatusOr<std::vector<float>> scores = file.GetFloatArray("tokenizer.ggml.scores");
    if (!scores.ok()) return scores.status();
    if (scores->size() != n) {
      return absl::InvalidArgumentError(absl::StrCat(file.path(), ": tokenizer.ggml.scores has ",
                                                     scores->size(), " entries for ", n,
                                                     " tokens"));
    }
    vocab.scores = *std::move(scores);
  }
  if (file.Find("tokenizer.ggml.token_type") != nullptr) {
    absl::StatusOr<std::vector<int32_t>> types = file.GetIntArray("tokenizer.ggml.token_type");
    if (!types.ok()) return types.status();
    if (types->size() != n) {
      return absl::InvalidArgumentError(absl::StrCat(file.path(),
                                                     ": tokenizer.ggml.token_type has ",
                                                     types->size(), " entries for ", n, " tokens"));
    }
    vocab.token_types = *std::move(types);
  }
  if (file.Find("tokenizer.ggml.merges") != nullptr) {
    absl::StatusOr<std::vector<std::string>> merges = file.GetStringArray("tokenizer.ggml.merges");
    if (!merges.ok()) return merges.status();
    vocab.merges = *std::move(merges);
  }

  struct IdKey {
    std::string_view key;
    std::optional<int32_t>* out;
  };
  const IdKey ids[] = {
      {"tokenizer.ggml.bos_token_id", &vocab.bos_id},
      {"tokenizer.ggml.eos_token_id", &vocab.eos_id},
      {"tokenizer.ggml.eot_token_id", &vocab.eot_id},
      {"tokenizer.ggml.eom_token_id", &vocab.eom_id},
      {"tokenizer.ggml.unknown_token_id", &vocab.unknown_id},
      {"tokenizer.ggml.padding_token_id", &vocab.padding_id},
      // llama.cpp writes the misspelt key; accept both.
      {"tokenizer.ggml.seperator_token_id", &vocab.sep_id},
      {"tokenizer.ggml.separator_token_id", &vocab.sep_id},
      {"tokenizer.ggml.cls_token_id", &vocab.cls_id},
      {"tokenizer.ggml.mask_token_id", &vocab.mask_id},
  };
  for (const IdKey& k : ids) {
    absl::Status s = OptionalId(file, k.key, k.out);
    if (!s.ok()) return s;
  }
  for (const auto& [key, out] :
       {std::pair{"tokenizer.ggml.add_bos_token", &vocab.add_bos},
        std::pair{"tokenizer.ggml.add_eos_token", &vocab.add_eos},
        std::pair{"tokenizer.ggml.add_space_prefix", &vocab.add_space_prefix},
        std::pair{"tokenizer.ggml.remove_extra_whitespaces", &vocab.remove_extra_whitespaces}}) {
    absl::Status s = OptionalBool(file, key, out);
    if (!s.ok()) return s;
  }
  if (const GgufValue* v = file.Find("tokenizer.ggml.precompiled_charsmap")) {
    // GgufFile has no byte-array getter; the raw payload is what we need.
    if (v->type != GgufType::kArray ||
        (v->array_type != GgufType::kUint8 && v->array_type != GgufType::kInt8)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.path(),
                       ": tokenizer.ggml.precompiled_charsmap is not a byte "
                       "array"));
    }
    vocab.precompiled_charsmap.assign(reinterpret_cast<const char*>(v->data),
                                      static_cast<size_t>(v->size));
  }
  absl::StatusOr<std::string> tmpl = file.GetStringOr("tokenizer.chat_template", "");
  if (!tmpl.ok()) return tmpl.status();
  vocab.chat_template = *std::move(tmpl);
  return vocab;
}

}  // namespace greffier::generate
