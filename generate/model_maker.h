#ifndef GREFFIER_GENERATE_MODEL_MAKER_H_
#define GREFFIER_GENERATE_MODEL_MAKER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "generate/gguf_writer.h"

namespace greffier::generate {

// The shape of a transformer to generate: decoder-only ("llama", "qwen2") or
// a BERT-family encoder ("bert", as llama.cpp names BERT and XLM-RoBERTa).
struct ModelShape {
  std::string arch = "llama";  // "llama", "qwen2" or "bert"
  int n_embd = 64;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff = 128;
  int n_vocab = 300;
  int n_ctx = 2048;
  bool qkv_bias = false;
  bool tied_embeddings = false;
  float rope_theta = 10000.f;
  // Encoders only. Tokenizer: "wordpiece" (BERT, `tokenizer.ggml.model`
  // "bert") or "unigram" (XLM-RoBERTa, "t5"). The vocabulary is a small
  // hand-made one padded with filler words ("w<N>") up to n_vocab (at least
  // its own size). Default: "wordpiece".
  std::string vocab = "wordpiece";
  // Encoders only: `bert.pooling_type` (1 mean, 2 CLS, 3 last). Default: 1.
  int pooling_type = 1;
  // Encoders only: rows of token_types.weight (2 for BERT, 1 for XLM-R).
  // Default: 2.
  int n_token_types = 2;
};

// TinyLlama-1.1B: hidden 2048, 22 layers, 32 heads, 4 KV heads, FFN 5632,
// vocabulary 32000.
ModelShape TinyLlamaShape();
// Qwen2-0.5B: hidden 896, 24 layers, 14 heads, 2 KV heads, FFN 4864,
// vocabulary 151936, QKV bias, tied embeddings.
ModelShape Qwen2HalfBShape();
// A few-hundred-kilobyte model of `arch` for tests.
ModelShape TinyShape(std::string_view arch);
// A BERT encoder with WordPiece: hidden 32, 2 layers, 4 heads, FFN 64,
// 64 positions, the small vocabulary alone, mean pooling.
ModelShape BertTinyShape();
// An XLM-RoBERTa-like encoder: the same sizes with a unigram vocabulary, one
// token type and CLS pooling (as bge-m3).
ModelShape XlmrTinyShape();
// all-MiniLM-L6-v2: hidden 384, 6 layers, 12 heads, FFN 1536, vocabulary
// 30522, 512 positions, mean pooling.
ModelShape MiniLmL6Shape();
// "tinyllama", "qwen2-0.5b", "tiny" (llama), "tiny-qwen2", "bert-tiny",
// "xlmr-tiny" or "minilm-l6".
absl::StatusOr<ModelShape> ShapeByName(std::string_view name);

struct MakeModelOptions {
  ModelShape shape;
  // Quantization: a preset ("q4_k_m", "q5_k_m") following the rules common
  // quantizers apply per tensor, or a ggml type name ("f32", "f16", "bf16",
  // "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k") used for
  // every matrix except the output projection (q6_k for quantized types
  // other than q8_0). Norms and biases stay f32. K-quant matrices whose rows
  // are not a multiple of 256 fall back to q5_0/q5_1/q8_0, as quantizers do.
  // Default: "f16".
  std::string type = "f16";
  // Default: 1.
  uint64_t seed = 1;
  // GGUF version. Default: 3.
  uint32_t gguf_version = 3;
  // `general.name`; empty: "random-<arch>-<type>". Encoders whose name says
  // e5 get e5's query/passage prefixes. Default: "".
  std::string name;
  // Encoders: copy the tokenizer (`tokenizer.ggml.*`) of this GGUF file, e.g.
  // a real model's vocab-only file, instead of the small made-up vocabulary;
  // the vocabulary size follows it. Default: "".
  std::string vocab_from;
};

// Fills `writer` with a random-weight model: hyper-parameters, a minimal
// tokenizer (SentencePiece-style for llama, byte-level BPE for qwen2,
// WordPiece or unigram for bert) and chat template (decoders), and the
// tensors (produced lazily while writing). Encoders follow llama.cpp's
// `bert` layout: post-norm layers with biases everywhere, learned absolute
// positions (for XLM-R already shifted past RoBERTa's padding_idx + 1, as the
// converter stores them).
absl::Status BuildRandomModel(const MakeModelOptions& options, GgufWriter* writer);
// Writes the model to `path`.
absl::Status WriteRandomModel(const MakeModelOptions& options, const std::string& path);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_MODEL_MAKER_H_
