#ifndef GREFFIER_GENERATE_ENCODER_H_
#define GREFFIER_GENERATE_ENCODER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generate/embedder.h"
#include "generate/gguf.h"
#include "generate/kernels.h"
#include "generate/thread_pool.h"
#include "generate/tokenizer.h"
#include "generate/weight_matrix.h"

namespace greffier::generate {

// How token vectors become one sentence vector (llama.cpp's
// `<arch>.pooling_type` codes).
enum class Pooling { kNone = 0, kMean = 1, kCls = 2, kLast = 3 };
std::string_view PoolingName(Pooling p);

struct EncoderOptions {
  // GGUF embedding model (architecture `bert`: BERT, MiniLM, bge, e5,
  // XLM-RoBERTa as llama.cpp's converter writes them). Default: "" (required).
  std::string model_path;
  // Threads for the matrix products, the caller included; <= 0 means one per
  // hardware thread. Default: 0.
  int threads = 0;
  // Most tokens per input, [CLS]/[SEP] (or <s>/</s>) included; longer inputs
  // are truncated, as sentence-transformers does. Capped by the model's
  // context length. Default: 512.
  int max_tokens = 512;
  // Text put before queries and passages. Unset: from the model's name
  // (general.name, else the file name): "query: " and "passage: " for e5
  // models, nothing otherwise. bge's English models accept the optional
  // query instruction "Represent this sentence for searching relevant
  // passages: " here. Default: unset.
  std::optional<std::string> query_prefix;
  std::optional<std::string> passage_prefix;
  // Pooling override: "mean", "cls" or "last"; empty follows the model's
  // `bert.pooling_type` (mean when absent or "none"). Default: "".
  std::string pooling;
  // Kernel table (tests compare instruction sets); nullptr: BestKernels().
  // Default: nullptr.
  const KernelSet* kernels = nullptr;
};

// Hyper-parameters read from the GGUF metadata.
struct EncoderConfig {
  std::string arch;
  std::string name;  // general.name, or the file name
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_ff = 0;
  int n_vocab = 0;
  int n_ctx = 0;  // rows of position_embd usable as positions
  int n_token_types = 0;
  float eps = 1e-12f;
  Pooling pooling = Pooling::kMean;
};

// A native sentence encoder for GGUF embedding models of llama.cpp's `bert`
// architecture: WordPiece (BERT, MiniLM, bge) or unigram (XLM-RoBERTa: e5
// multilingual, bge-m3) tokenizer; learned absolute positions, post-norm
// layers (attention, then a GELU feed-forward), mean/CLS/last pooling and
// L2 normalisation. XLM-RoBERTa counts positions from padding_idx + 1 = 2;
// llama.cpp's converter drops those first rows of the position table, so
// position i of the file serves token i here for both families.
//
// Matrix products run on the quantized kernels (F32, F16, BF16, Q8_0 and
// the other types of kernels.h) across a thread pool. Immutable after Open;
// Embed may be called from several threads at once (their parallel sections
// take turns on the pool).
class GgufEncoder : public Embedder {
 public:
  // Errors name the file and the key or tensor at fault.
  static absl::StatusOr<std::unique_ptr<GgufEncoder>> Open(const EncoderOptions& options);
  ~GgufEncoder() override;

  // "gguf:<file name>:<12 hex of SHA-256 over metadata, tensor layout and the
  // head of every tensor>:<dimension>".
  std::string Identity() const override { return identity_; }
  int Dimension() const override { return config_.n_embd; }
  absl::StatusOr<std::vector<float>> Embed(std::string_view text, bool is_query) const override;

  // The ids that Embed feeds the network: prefix, truncation to max_tokens,
  // then the begin/end tokens ([CLS] .. [SEP] or <s> .. </s>) that the
  // reference tokenizers' post-processors add, whatever add_bos_token says.
  std::vector<int32_t> Tokenize(std::string_view text, bool is_query) const;
  // The pooled, L2-normalised vector of `ids` (1 to max tokens, each within
  // the vocabulary).
  absl::StatusOr<std::vector<float>> EmbedTokens(const std::vector<int32_t>& ids) const;
  // Hidden states of the last layer, ids.size() rows of n_embd (tests).
  absl::StatusOr<std::vector<float>> HiddenStates(const std::vector<int32_t>& ids) const;

  const EncoderConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const std::string& query_prefix() const { return query_prefix_; }
  const std::string& passage_prefix() const { return passage_prefix_; }
  int max_tokens() const { return max_tokens_; }
  int n_threads() const { return pool_->size(); }

  // Weights are used unpacked (WeightMatrix::packed stays null).
  using Matrix = WeightMatrix;

 private:
  struct Layer {
    Matrix wq, wk, wv, wo, w_up, w_down;
    std::vector<float> bq, bk, bv, bo, b_up, b_down;
    std::vector<float> attn_norm_w, attn_norm_b, out_norm_w, out_norm_b;
  };
  GgufEncoder() = default;
  absl::Status Load(const EncoderOptions& options);

  std::unique_ptr<GgufFile> file_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ThreadPool> pool_;
  const KernelSet* kernels_ = nullptr;
  EncoderConfig config_;
  Matrix token_embd_, token_types_, position_embd_;
  std::vector<float> embd_norm_w_, embd_norm_b_;
  std::vector<Layer> layers_;
  std::string identity_;
  std::string query_prefix_, passage_prefix_;
  int max_tokens_ = 0;
};

// True when a model name designates an e5 model ("e5" as a whole word:
// "multilingual-e5-small", "e5-base-v2").
bool IsE5Name(std::string_view name);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_ENCODER_H_
