#ifndef GREFFIER_GENERATE_MODEL_H_
#define GREFFIER_GENERATE_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generate/gguf.h"
#include "generate/weight_matrix.h"

namespace greffier::generate {

// How rotary embeddings pair dimensions: kNorm rotates (2i, 2i+1) (GGUF
// llama, whose Q/K rows the converter permuted), kNeox rotates (i, i+d/2).
enum class RopeStyle { kNorm, kNeox };

// Hyper-parameters of a decoder-only transformer, read from GGUF metadata.
struct ModelConfig {
  std::string arch;
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  int n_ff = 0;
  int n_vocab = 0;
  int n_ctx_train = 0;
  float rms_eps = 1e-5f;
  float rope_theta = 10000.f;
  int rope_dim = 0;
  // Positions are divided by this (linear rope scaling); 1 means none.
  float rope_linear_scale = 1.f;
  RopeStyle rope_style = RopeStyle::kNorm;
};

struct LayerWeights {
  std::vector<float> attn_norm;
  WeightMatrix wq, wk, wv, wo;
  std::vector<float> bq, bk, bv;  // empty when the model has no QKV bias
  std::vector<float> ffn_norm;
  WeightMatrix w_gate, w_up, w_down;
};

// What differs between architectures. One small arch_*.cc file per
// architecture returns its spec; ArchTable() in model.cc lists them.
struct ArchSpec {
  std::string_view name;
  RopeStyle rope_style = RopeStyle::kNorm;
  // Whether attn_{q,k,v}.bias tensors must be present.
  bool requires_qkv_bias = false;
};
const ArchSpec& LlamaArch();
const ArchSpec& Qwen2Arch();
// The spec for a general.architecture value, or nullptr.
const ArchSpec* FindArch(std::string_view name);

// A loaded model: configuration and views of the weights in the mapped GGUF
// file (small vectors such as norms are copied to floats). Immutable after
// Open; safe to share between threads and decoders.
class Model {
 public:
  // Opens and validates the GGUF file: architecture, hyper-parameters, every
  // tensor's presence, shape and type. Errors name the file and the tensor
  // or key.
  static absl::StatusOr<std::unique_ptr<Model>> Open(const std::string& path);
  static absl::StatusOr<std::unique_ptr<Model>> FromGguf(std::unique_ptr<GgufFile> file);

  const ModelConfig& config() const { return config_; }
  const GgufFile& gguf() const { return *file_; }
  const WeightMatrix& token_embd() const { return token_embd_; }
  const WeightMatrix& output() const { return output_; }
  const std::vector<float>& output_norm() const { return output_norm_; }
  const std::vector<LayerWeights>& layers() const { return layers_; }
  // Per-dimension-pair rope frequency divisors (Llama 3 rope scaling), or
  // empty.
  const std::vector<float>& rope_freq_factors() const { return rope_freqs_; }
  // Token id that ends generation (tokenizer.ggml.eos_token_id), or -1.
  int32_t eos_token() const { return eos_; }
  int32_t bos_token() const { return bos_; }
  // Sum of weight bytes read per token.
  uint64_t weight_bytes() const { return weight_bytes_; }

 private:
  Model() = default;
  absl::Status Load();

  std::unique_ptr<GgufFile> file_;
  ModelConfig config_;
  WeightMatrix token_embd_, output_;
  std::vector<float> output_norm_;
  std::vector<LayerWeights> layers_;
  std::vector<float> rope_freqs_;
  // Storage of every packed matrix (each 64-byte aligned).
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, FreeDeleter> packed_;
  // Whether the weights are a read-only file mapping whose pages may be
  // dropped once packed (Open), rather than memory the caller owns.
  bool file_mapped_ = false;
  void PackAll(const std::vector<WeightMatrix*>& matrices);
  int32_t eos_ = -1, bos_ = -1;
  uint64_t weight_bytes_ = 0;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_MODEL_H_
