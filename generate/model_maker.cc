#include "generate/model_maker.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <thread>
#include <vector>

#include "generate/quant.h"
#include "generate/str_util.h"
#include "generate/vocab.h"

namespace greffier::generate {
namespace {

uint64_t SplitMix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t HashName(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

// Uniform values in [center - scale, center + scale), reproducible per name.
std::vector<float> RandomFloats(std::string_view name, uint64_t seed, int64_t n, float center,
                                float scale) {
  std::vector<float> v(n);
  uint64_t s = HashName(name, seed);
  for (int64_t i = 0; i < n; ++i) {
    float u = static_cast<float>(SplitMix(&s) >> 40) * 0x1.0p-24f;  // [0,1)
    v[i] = center + scale * (2.f * u - 1.f);
  }
  return v;
}

std::optional<GgmlType> TypeByName(std::string_view n) {
  static const std::pair<std::string_view, GgmlType> kTypes[] = {
      {"f32", GgmlType::kF32},   {"f16", GgmlType::kF16},   {"bf16", GgmlType::kBF16},
      {"q8_0", GgmlType::kQ8_0}, {"q4_0", GgmlType::kQ4_0}, {"q4_1", GgmlType::kQ4_1},
      {"q5_0", GgmlType::kQ5_0}, {"q5_1", GgmlType::kQ5_1}, {"q4_k", GgmlType::kQ4_K},
      {"q5_k", GgmlType::kQ5_K}, {"q6_k", GgmlType::kQ6_K}};
  for (const auto& [name, type] : kTypes) {
    if (name == n) return type;
  }
  return std::nullopt;
}

// Quantizers store K-quants in 256-element super-blocks; narrower rows get
// the usual fallback types.
GgmlType Fallback(GgmlType t, int64_t cols) {
  if (cols % 256 == 0) return t;
  switch (t) {
    case GgmlType::kQ4_K:
      return GgmlType::kQ5_0;
    case GgmlType::kQ5_K:
      return GgmlType::kQ5_1;
    case GgmlType::kQ6_K:
      return GgmlType::kQ8_0;
    default:
      return t;
  }
}

bool UseMoreBits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// Type of matrix `role` ("token_embd", "output", "attn_v", "ffn_down",
// others) of layer `layer` under `preset`.
GgmlType MatrixType(std::string_view preset, GgmlType base, std::string_view role, int layer,
                    int n_layer, bool tied) {
  const bool is_output = role == "output" || (tied && role == "token_embd");
  const bool is_float = base == GgmlType::kF32 || base == GgmlType::kF16 || base == GgmlType::kBF16;
  const bool k_m = preset == "q4_k_m" || preset == "q5_k_m";
  // Quantizers keep the output matrix at 6 bits (8 when already q8_0).
  if (is_output && (k_m || (!is_float && base != GgmlType::kQ8_0))) {
    return GgmlType::kQ6_K;
  }
  if (!k_m) return base;
  GgmlType normal = preset == "q4_k_m" ? GgmlType::kQ4_K : GgmlType::kQ5_K;
  if ((role == "attn_v" || role == "ffn_down") && UseMoreBits(layer, n_layer)) {
    return GgmlType::kQ6_K;
  }
  return normal;
}

std::string QuantizeParallel(GgmlType type, const std::vector<float>& x, int64_t rows,
                             int64_t cols) {
  int nt = std::max(1u, std::thread::hardware_concurrency());
  if (rows < 64) nt = 1;
  size_t rb = RowBytes(type, cols);
  std::string out(rb * rows, '\0');
  std::vector<std::thread> threads;
  for (int t = 0; t < nt; ++t) {
    threads.emplace_back([&, t] {
      int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
      if (r0 == r1) return;
      auto q = QuantizeRows(type, x.data() + r0 * cols, r1 - r0, cols);
      if (q.ok()) std::copy(q->begin(), q->end(), out.begin() + r0 * rb);
    });
  }
  for (auto& th : threads) th.join();
  return out;
}

// The 256 printable stand-ins GPT-2-style byte-level BPE uses for bytes.
std::vector<std::string> ByteLevelAlphabet() {
  std::vector<std::string> out(256);
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    int cp = printable ? b : 256 + extra++;
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    out[b] = s;
  }
  return out;
}

void AddTokenizer(const ModelShape& sh, GgufWriter* w) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  const int n = sh.n_vocab;
  if (sh.arch == "qwen2") {
    // Byte-level BPE: 256 byte symbols, filler tokens, then the specials.
    const int n_special = 3;
    for (const std::string& b : ByteLevelAlphabet()) tokens.push_back(b);
    while (static_cast<int>(tokens.size()) < n - n_special) {
      tokens.push_back(Cat("<|filler_", tokens.size(), "|>"));
    }
    tokens.push_back("<|endoftext|>");
    tokens.push_back("<|im_start|>");
    tokens.push_back("<|im_end|>");
    tokens.resize(n);
    types.assign(n, 1);
    for (int i = 256; i < n; ++i) types[i] = i >= n - n_special ? 3 : 4;
    w->SetString("tokenizer.ggml.model", "gpt2");
    w->SetString("tokenizer.ggml.pre", "qwen2");
    w->SetStringArray("tokenizer.ggml.tokens", tokens);
    w->SetInt32Array("tokenizer.ggml.token_type", types);
    w->SetStringArray("tokenizer.ggml.merges", {});
    w->SetUint32("tokenizer.ggml.bos_token_id", n - 3);
    w->SetUint32("tokenizer.ggml.eos_token_id", n - 1);
    w->SetUint32("tokenizer.ggml.padding_token_id", n - 3);
    w->SetBool("tokenizer.ggml.add_bos_token", false);
    w->SetString("tokenizer.chat_template",
                 "{% for message in messages %}{{'<|im_start|>' + message['role'] + "
                 "'\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
                 "{% endif %}");
  } else {
    // SentencePiece-style: <unk>, <s>, </s>, byte fallback, filler pieces.
    tokens = {"<unk>", "<s>", "</s>"};
    types = {2, 3, 3};
    for (int b = 0; b < 256; ++b) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", b);
      tokens.push_back(buf);
      types.push_back(6);
    }
    while (static_cast<int>(tokens.size()) < n) {
      tokens.push_back(Cat("\xE2\x96\x81piece", tokens.size()));
      types.push_back(1);
    }
    tokens.resize(n);
    types.resize(n);
    scores.assign(n, 0.f);
    for (int i = 259; i < n; ++i) scores[i] = -static_cast<float>(i);
    w->SetString("tokenizer.ggml.model", "llama");
    w->SetStringArray("tokenizer.ggml.tokens", tokens);
    w->SetFloatArray("tokenizer.ggml.scores", scores);
    w->SetInt32Array("tokenizer.ggml.token_type", types);
    w->SetUint32("tokenizer.ggml.unknown_token_id", 0);
    w->SetUint32("tokenizer.ggml.bos_token_id", 1);
    w->SetUint32("tokenizer.ggml.eos_token_id", 2);
    w->SetBool("tokenizer.ggml.add_bos_token", true);
    w->SetString("tokenizer.chat_template",
                 "{% for message in messages %}{% if message['role'] == "
                 "'user' %}{{ bos_token + '[INST] ' + message['content'] + "
                 "' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ "
                 "' ' + message['content'] + eos_token }}{% endif %}"
                 "{% endfor %}");
  }
}

// The small vocabulary of the encoder shapes: every ASCII letter and digit
// (word-initial and continuation), common punctuation, a few accented
// letters and some frequent English and French words, so that ordinary text
// tokenizes without unknown tokens. Then fillers "w<N>" up to `n_vocab`.
// Pieces are in GGUF form: U+2581 marks a word start.
std::vector<std::string> EncoderPieces(int n_vocab, int n_special) {
  static const char* const kWords[] = {
      "the",  "of",      "and",   "to",    "in",    "is",  "it",       "that",    "for",    "on",
      "with", "as",      "was",   "by",    "at",    "an",  "be",       "this",    "are",    "from",
      "or",   "which",   "rain",  "train", "court", "law", "contract", "payment", "notice", "le",
      "la",   "les",     "de",    "des",   "du",    "et",  "un",       "une",     "est",    "dans",
      "pour", "contrat", "délai", "été",   "ing",   "ed",  "tion",     "ment",    "er",     "es"};
  const std::string kSp = "\xE2\x96\x81";  // U+2581
  std::vector<std::string> out;
  for (const char* w : kWords) out.push_back(kSp + w);
  for (const char* w : {"ing", "ed", "tion", "ment", "er", "es", "s"}) out.push_back(w);
  for (char c = 'a'; c <= 'z'; ++c) {
    out.push_back(kSp + std::string(1, c));
    out.push_back(std::string(1, c));
  }
  // Capitals for the case-sensitive unigram model (WordPiece lower-cases).
  for (char c = 'A'; c <= 'Z'; ++c) {
    out.push_back(kSp + std::string(1, c));
    out.push_back(std::string(1, c));
  }
  for (char c = '0'; c <= '9'; ++c) {
    out.push_back(kSp + std::string(1, c));
    out.push_back(std::string(1, c));
  }
  for (const char* p : {".", ",", "!", "?", "-", "'", ":", ";", "(", ")", "\"", "/"}) {
    out.push_back(kSp + p);
    out.push_back(p);
  }
  for (const char* p : {"\xC3\xA9", "\xC3\xA8", "\xC3\xA0", "\xC3\xA7"}) {  // é è à ç
    out.push_back(kSp + p);
    out.push_back(p);
  }
  // Both forms of a word may collide ("▁ing" and "▁es" above): keep the first.
  std::vector<std::string> unique;
  for (const std::string& p : out) {
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
  }
  for (int i = 0; n_special + static_cast<int>(unique.size()) < n_vocab; ++i) {
    unique.push_back(Cat(kSp, "w", i));
  }
  return unique;
}

// Writes the tokenizer of an encoder shape; returns the vocabulary size.
int AddEncoderTokenizer(const ModelShape& sh, GgufWriter* w) {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  if (sh.vocab == "unigram") {
    // XLM-RoBERTa's order after llama.cpp's realignment: <s> <pad> </s> <unk>.
    tokens = {"<s>", "<pad>", "</s>", "<unk>"};
    types = {3, 3, 3, 2};
    std::vector<std::string> pieces = EncoderPieces(sh.n_vocab, 5);
    pieces.insert(pieces.begin(), "\xE2\x96\x81");  // a lone word-start marker
    std::vector<float> scores(tokens.size(), 0.f);
    for (size_t i = 0; i < pieces.size(); ++i) {
      const std::string& p = pieces[i];
      // Whole words are likelier than the characters that spell them.
      const bool single = p.size() <= 2 || (p.size() <= 5 && p.rfind("\xE2\x96\x81", 0) == 0);
      scores.push_back(single ? -8.f - 0.001f * i : -3.f - 0.001f * i);
      tokens.push_back(p);
      types.push_back(1);
    }
    w->SetString("tokenizer.ggml.model", "t5");
    w->SetString("tokenizer.ggml.pre", "default");
    w->SetStringArray("tokenizer.ggml.tokens", tokens);
    w->SetFloatArray("tokenizer.ggml.scores", scores);
    w->SetInt32Array("tokenizer.ggml.token_type", types);
    w->SetBool("tokenizer.ggml.add_space_prefix", true);
    w->SetBool("tokenizer.ggml.remove_extra_whitespaces", true);
    w->SetUint32("tokenizer.ggml.bos_token_id", 0);
    w->SetUint32("tokenizer.ggml.padding_token_id", 1);
    w->SetUint32("tokenizer.ggml.eos_token_id", 2);
    w->SetUint32("tokenizer.ggml.unknown_token_id", 3);
    w->SetBool("tokenizer.ggml.add_bos_token", true);
    w->SetBool("tokenizer.ggml.add_eos_token", true);
  } else {
    // BERT keeps its special tokens as they are (no word-start marker).
    tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    types = {3, 3, 3, 3, 3};
    for (std::string& p : EncoderPieces(sh.n_vocab, 5)) {
      tokens.push_back(std::move(p));
      types.push_back(1);
    }
    w->SetString("tokenizer.ggml.model", "bert");
    w->SetString("tokenizer.ggml.pre", "default");
    w->SetStringArray("tokenizer.ggml.tokens", tokens);
    w->SetInt32Array("tokenizer.ggml.token_type", types);
    w->SetUint32("tokenizer.ggml.padding_token_id", 0);
    w->SetUint32("tokenizer.ggml.unknown_token_id", 1);
    w->SetUint32("tokenizer.ggml.cls_token_id", 2);
    w->SetUint32("tokenizer.ggml.seperator_token_id", 3);
    w->SetUint32("tokenizer.ggml.mask_token_id", 4);
  }
  w->SetUint32("tokenizer.ggml.token_type_count", sh.n_token_types);
  return static_cast<int>(tokens.size());
}

// Copies the tokenizer metadata of a GGUF file; returns the vocabulary size.
absl::StatusOr<int> CopyTokenizer(const std::string& path, GgufWriter* w) {
  auto file = GgufFile::Open(path);
  if (!file.ok()) return file.status();
  auto vocab = VocabFromGguf(**file);
  if (!vocab.ok()) return vocab.status();
  const TokenizerVocab& v = *vocab;
  if (!v.precompiled_charsmap.empty()) {
    return absl::UnimplementedError(
        Cat(path, ": copying tokenizer.ggml.precompiled_charsmap is not supported"));
  }
  w->SetString("tokenizer.ggml.model", v.model);
  w->SetString("tokenizer.ggml.pre", v.pre.empty() ? "default" : v.pre);
  w->SetStringArray("tokenizer.ggml.tokens", v.tokens);
  if (!v.scores.empty()) w->SetFloatArray("tokenizer.ggml.scores", v.scores);
  if (!v.token_types.empty()) w->SetInt32Array("tokenizer.ggml.token_type", v.token_types);
  if (!v.merges.empty()) w->SetStringArray("tokenizer.ggml.merges", v.merges);
  const std::pair<const char*, const std::optional<int32_t>*> ids[] = {
      {"tokenizer.ggml.bos_token_id", &v.bos_id},
      {"tokenizer.ggml.eos_token_id", &v.eos_id},
      {"tokenizer.ggml.eot_token_id", &v.eot_id},
      {"tokenizer.ggml.eom_token_id", &v.eom_id},
      {"tokenizer.ggml.unknown_token_id", &v.unknown_id},
      {"tokenizer.ggml.padding_token_id", &v.padding_id},
      {"tokenizer.ggml.seperator_token_id", &v.sep_id},
      {"tokenizer.ggml.cls_token_id", &v.cls_id},
      {"tokenizer.ggml.mask_token_id", &v.mask_id}};
  for (const auto& [key, id] : ids) {
    if (id->has_value() && **id >= 0) w->SetUint32(key, static_cast<uint32_t>(**id));
  }
  const std::pair<const char*, const std::optional<bool>*> flags[] = {
      {"tokenizer.ggml.add_bos_token", &v.add_bos},
      {"tokenizer.ggml.add_eos_token", &v.add_eos},
      {"tokenizer.ggml.add_space_prefix", &v.add_space_prefix},
      {"tokenizer.ggml.remove_extra_whitespaces", &v.remove_extra_whitespaces}};
  for (const auto& [key, flag] : flags) {
    if (flag->has_value()) w->SetBool(key, **flag);
  }
  return static_cast<int>(v.tokens.size());
}

// A random-weight encoder in llama.cpp's `bert` layout.
absl::Status BuildRandomEncoder(const MakeModelOptions& options, const std::string& preset,
                                GgmlType base, GgufWriter* w) {
  ModelShape sh = options.shape;
  if (sh.vocab != "wordpiece" && sh.vocab != "unigram") {
    return absl::InvalidArgumentError(
        Cat("unknown encoder vocabulary '", sh.vocab, "' (known: wordpiece, unigram)"));
  }
  if (sh.n_embd <= 0 || sh.n_head <= 0 || sh.n_embd % sh.n_head != 0 || sh.n_layer <= 0 ||
      sh.n_ff <= 0 || sh.n_ctx <= 0 || sh.n_token_types <= 0 || sh.pooling_type < 0 ||
      sh.pooling_type > 3) {
    return absl::InvalidArgumentError("inconsistent encoder shape");
  }
  const std::string a = "bert";
  w->SetString("general.architecture", a);
  w->SetString("general.name",
               options.name.empty()
                   ? Cat("random-", sh.vocab == "unigram" ? "xlmr" : "bert", "-", preset)
                   : options.name);
  w->SetUint32(a + ".context_length", sh.n_ctx);
  w->SetUint32(a + ".embedding_length", sh.n_embd);
  w->SetUint32(a + ".block_count", sh.n_layer);
  w->SetUint32(a + ".feed_forward_length", sh.n_ff);
  w->SetUint32(a + ".attention.head_count", sh.n_head);
  w->SetFloat32(a + ".attention.layer_norm_epsilon", 1e-12f);
  w->SetBool(a + ".attention.causal", false);
  w->SetUint32(a + ".pooling_type", sh.pooling_type);
  if (options.vocab_from.empty()) {
    sh.n_vocab = AddEncoderTokenizer(sh, w);
  } else {
    absl::StatusOr<int> n = CopyTokenizer(options.vocab_from, w);
    if (!n.ok()) return n.status();
    sh.n_vocab = *n;
    w->SetUint32("tokenizer.ggml.token_type_count", sh.n_token_types);
  }

  const uint64_t seed = options.seed;
  auto add_matrix = [&](const std::string& name, std::string_view role, int layer, int64_t cols,
                        int64_t rows) {
    GgmlType t = Fallback(MatrixType(preset, base, role, layer, sh.n_layer, false), cols);
    // Uniform weights of scale 1/sqrt(cols) keep pre-norm activations of order 1.
    float scale = role == "token_embd" ? 1.f : 1.f / std::sqrt(cols);
    return w->AddTensorLazy(name, t, {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)},
                            [=] {
                              auto x = RandomFloats(name, seed, cols * rows, 0.f, scale);
                              return QuantizeParallel(t, x, rows, cols);
                            });
  };
  auto add_floats = [&](const std::string& name, GgmlType t, std::vector<uint64_t> ne, float center,
                        float scale) -> absl::Status {
    int64_t n = 1;
    for (uint64_t d : ne) n *= static_cast<int64_t>(d);
    auto x = RandomFloats(name, seed, n, center, scale);
    auto bytes =
        QuantizeRows(t, x.data(), n / static_cast<int64_t>(ne[0]), static_cast<int64_t>(ne[0]));
    if (!bytes.ok()) return bytes.status();
    return w->AddTensor(name, t, std::move(ne), std::move(*bytes));
  };
  auto add_vector = [&](const std::string& name, int64_t n, float center, float scale) {
    return add_floats(name, GgmlType::kF32, {static_cast<uint64_t>(n)}, center, scale);
  };
  // Position and token-type tables stay in a float type, as quantizers leave them.
  const bool float_base =
      base == GgmlType::kF32 || base == GgmlType::kF16 || base == GgmlType::kBF16;
  const GgmlType pos_type = float_base ? base : GgmlType::kF16;
  const uint64_t E = static_cast<uint64_t>(sh.n_embd);
  absl::Status s;
  if (!(s = add_matrix("token_embd.weight", "token_embd", 0, sh.n_embd, sh.n_vocab)).ok() ||
      !(s = add_floats("token_types.weight", GgmlType::kF32,
                       {E, static_cast<uint64_t>(sh.n_token_types)}, 0.f, 0.5f))
           .ok() ||
      !(s = add_floats("position_embd.weight", pos_type, {E, static_cast<uint64_t>(sh.n_ctx)}, 0.f,
                       0.5f))
           .ok() ||
      !(s = add_vector("token_embd_norm.weight", sh.n_embd, 1.f, 0.1f)).ok() ||
      !(s = add_vector("token_embd_norm.bias", sh.n_embd, 0.f, 0.1f)).ok()) {
    return s;
  }
  for (int i = 0; i < sh.n_layer; ++i) {
    const std::string b = Cat("blk.", i, ".");
    for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      if (!(s = add_matrix(b + m + ".weight", m, i, sh.n_embd, sh.n_embd)).ok() ||
          !(s = add_vector(b + m + ".bias", sh.n_embd, 0.f, 0.2f)).ok()) {
        return s;
      }
    }
    if (!(s = add_vector(b + "attn_output_norm.weight", sh.n_embd, 1.f, 0.1f)).ok() ||
        !(s = add_vector(b + "attn_output_norm.bias", sh.n_embd, 0.f, 0.1f)).ok() ||
        !(s = add_matrix(b + "ffn_up.weight", "ffn_up", i, sh.n_embd, sh.n_ff)).ok() ||
        !(s = add_vector(b + "ffn_up.bias", sh.n_ff, 0.f, 0.2f)).ok() ||
        !(s = add_matrix(b + "ffn_down.weight", "ffn_down", i, sh.n_ff, sh.n_embd)).ok() ||
        !(s = add_vector(b + "ffn_down.bias", sh.n_embd, 0.f, 0.2f)).ok() ||
        !(s = add_vector(b + "layer_output_norm.weight", sh.n_embd, 1.f, 0.1f)).ok() ||
        !(s = add_vector(b + "layer_output_norm.bias", sh.n_embd, 0.f, 0.1f)).ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

ModelShape TinyLlamaShape() {
  ModelShape s;
  s.arch = "llama";
  s.n_embd = 2048;
  s.n_layer = 22;
  s.n_head = 32;
  s.n_head_kv = 4;
  s.n_ff = 5632;
  s.n_vocab = 32000;
  s.n_ctx = 2048;
  return s;
}

ModelShape Qwen2HalfBShape() {
  ModelShape s;
  s.arch = "qwen2";
  s.n_embd = 896;
  s.n_layer = 24;
  s.n_head = 14;
  s.n_head_kv = 2;
  s.n_ff = 4864;
  s.n_vocab = 151936;
  s.n_ctx = 32768;
  s.qkv_bias = true;
  s.tied_embeddings = true;
  s.rope_theta = 1000000.f;
  return s;
}

ModelShape TinyShape(std::string_view arch) {
  ModelShape s;
  s.arch = std::string(arch);
  s.n_embd = 256;
  s.n_layer = 2;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_ff = 512;
  s.n_vocab = 320;
  s.n_ctx = 512;
  if (arch == "qwen2") {
    s.qkv_bias = true;
    s.tied_embeddings = true;
    s.rope_theta = 1000000.f;
  }
  return s;
}

ModelShape BertTinyShape() {
  ModelShape s;
  s.arch = "bert";
  s.n_embd = 32;
  s.n_layer = 2;
  s.n_head = 4;
  s.n_head_kv = 4;
  s.n_ff = 64;
  s.n_vocab = 0;  // the small vocabulary alone
  s.n_ctx = 64;
  s.vocab = "wordpiece";
  s.pooling_type = 1;
  s.n_token_types = 2;
  return s;
}

ModelShape XlmrTinyShape() {
  ModelShape s = BertTinyShape();
  s.vocab = "unigram";
  s.pooling_type = 2;
  s.n_token_types = 1;
  return s;
}

ModelShape MiniLmL6Shape() {
  ModelShape s = BertTinyShape();
  s.n_embd = 384;
  s.n_layer = 6;
  s.n_head = 12;
  s.n_head_kv = 12;
  s.n_ff = 1536;
  s.n_vocab = 30522;
  s.n_ctx = 512;
  return s;
}

absl::StatusOr<ModelShape> ShapeByName(std::string_view name) {
  if (name == "tinyllama") return TinyLlamaShape();
  if (name == "qwen2-0.5b") return Qwen2HalfBShape();
  if (name == "tiny") return TinyShape("llama");
  if (name == "tiny-qwen2") return TinyShape("qwen2");
  if (name == "bert-tiny") return BertTinyShape();
  if (name == "xlmr-tiny") return XlmrTinyShape();
  if (name == "minilm-l6") return MiniLmL6Shape();
  return absl::InvalidArgumentError(
      Cat("unknown shape '", name,
          "' (known: tinyllama, qwen2-0.5b, tiny, tiny-qwen2, bert-tiny, xlmr-tiny, minilm-l6)"));
}

absl::Status BuildRandomModel(const MakeModelOptions& options, GgufWriter* w) {
  const ModelShape& sh = options.shape;
  if (sh.arch != "llama" && sh.arch != "qwen2" && sh.arch != "bert") {
    return absl::InvalidArgumentError(
        Cat("unknown architecture '", sh.arch, "' (known: llama, qwen2, bert)"));
  }
  if (sh.arch != "bert" &&
      (sh.n_embd <= 0 || sh.n_head <= 0 || sh.n_head_kv <= 0 || sh.n_embd % sh.n_head != 0 ||
       sh.n_head % sh.n_head_kv != 0 || sh.n_layer <= 0 || sh.n_ff <= 0 || sh.n_vocab < 260)) {
    return absl::InvalidArgumentError("inconsistent model shape");
  }
  std::string preset = options.type;
  std::transform(preset.begin(), preset.end(), preset.begin(), ::tolower);
  GgmlType base = GgmlType::kF16;
  if (preset != "q4_k_m" && preset != "q5_k_m") {
    auto t = TypeByName(preset);
    if (!t) {
      return absl::InvalidArgumentError(
          Cat("unknown type '", options.type,
              "' (known: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, "
              "q5_k, q6_k, q4_k_m, q5_k_m)"));
    }
    base = *t;
  }
  if (sh.arch == "bert") return BuildRandomEncoder(options, preset, base, w);
  const std::string a = sh.arch;
  const int hd = sh.n_embd / sh.n_head;
  w->SetString("general.architecture", a);
  w->SetString("general.name",
               options.name.empty() ? Cat("random-", a, "-", preset) : options.name);
  w->SetUint32(a + ".context_length", sh.n_ctx);
  w->SetUint32(a + ".embedding_length", sh.n_embd);
  w->SetUint32(a + ".block_count", sh.n_layer);
  w->SetUint32(a + ".feed_forward_length", sh.n_ff);
  w->SetUint32(a + ".attention.head_count", sh.n_head);
  w->SetUint32(a + ".attention.head_count_kv", sh.n_head_kv);
  w->SetUint32(a + ".rope.dimension_count", hd);
  w->SetFloat32(a + ".rope.freq_base", sh.rope_theta);
  w->SetFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
  AddTokenizer(sh, w);

  const uint64_t seed = options.seed;
  auto add_matrix = [&](const std::string& name, std::string_view role, int layer, int64_t cols,
                        int64_t rows) {
    GgmlType t =
        Fallback(MatrixType(preset, base, role, layer, sh.n_layer, sh.tied_embeddings), cols);
    // Scale keeps activations of order 1 through the layers.
    float scale = role == "token_embd" ? 1.f : 1.f / std::sqrt(cols);
    return w->AddTensorLazy(name, t, {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)},
                            [=] {
                              auto x = RandomFloats(name, seed, cols * rows, 0.f, scale);
                              return QuantizeParallel(t, x, rows, cols);
                            });
  };
  auto add_vector = [&](const std::string& name, int64_t n, float center, float scale) {
    auto x = RandomFloats(name, seed, n, center, scale);
    return w->AddTensor(name, GgmlType::kF32, {static_cast<uint64_t>(n)},
                        std::string(reinterpret_cast<const char*>(x.data()), n * 4));
  };
  absl::Status s;
  if (!(s = add_matrix("token_embd.weight", "token_embd", 0, sh.n_embd, sh.n_vocab)).ok()) {
    return s;
  }
  if (!(s = add_vector("output_norm.weight", sh.n_embd, 1.f, 0.1f)).ok()) {
    return s;
  }
  if (!sh.tied_embeddings) {
    if (!(s = add_matrix("output.weight", "output", 0, sh.n_embd, sh.n_vocab)).ok()) {
      return s;
    }
  }
  const int q_dim = sh.n_head * hd, kv_dim = sh.n_head_kv * hd;
  for (int i = 0; i < sh.n_layer; ++i) {
    const std::string b = Cat("blk.", i, ".");
    if (!(s = add_vector(b + "attn_norm.weight", sh.n_embd, 1.f, 0.1f)).ok() ||
        !(s = add_matrix(b + "attn_q.weight", "attn_q", i, sh.n_embd, q_dim)).ok() ||
        !(s = add_matrix(b + "attn_k.weight", "attn_k", i, sh.n_embd, kv_dim)).ok() ||
        !(s = add_matrix(b + "attn_v.weight", "attn_v", i, sh.n_embd, kv_dim)).ok() ||
        !(s = add_matrix(b + "attn_output.weight", "attn_output", i, q_dim, sh.n_embd)).ok() ||
        !(s = add_vector(b + "ffn_norm.weight", sh.n_embd, 1.f, 0.1f)).ok() ||
        !(s = add_matrix(b + "ffn_gate.weight", "ffn_gate", i, sh.n_embd, sh.n_ff)).ok() ||
        !(s = add_matrix(b + "ffn_up.weight", "ffn_up", i, sh.n_embd, sh.n_ff)).ok() ||
        !(s = add_matrix(b + "ffn_down.weight", "ffn_down", i, sh.n_ff, sh.n_embd)).ok()) {
      return s;
    }
    if (sh.qkv_bias) {
      if (!(s = add_vector(b + "attn_q.bias", q_dim, 0.f, 0.5f)).ok() ||
          !(s = add_vector(b + "attn_k.bias", kv_dim, 0.f, 0.5f)).ok() ||
          !(s = add_vector(b + "attn_v.bias", kv_dim, 0.f, 0.5f)).ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status WriteRandomModel(const MakeModelOptions& options, const std::string& path) {
  GgufWriter w(options.gguf_version);
  absl::Status s = BuildRandomModel(options, &w);
  if (!s.ok()) return s;
  return w.WriteFile(path);
}

}  // namespace greffier::generate
