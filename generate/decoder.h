#ifndef GREFFIER_GENERATE_DECODER_H_
#define GREFFIER_GENERATE_DECODER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generate/kernels.h"
#include "generate/kv_cache.h"
#include "generate/model.h"
#include "generate/sampler.h"
#include "generate/thread_pool.h"

namespace greffier::generate {

struct DecoderOptions {
  // Threads for the forward pass, caller included. Default: 0 (one per
  // hardware thread).
  int n_threads = 0;
  // KV cache capacity in tokens. Default: 0 (the model's training context,
  // capped at 4096).
  int n_ctx = 0;
  // Prompt tokens per forward pass. Default: 512.
  int n_batch = 512;
  // Kernel set; Default: nullptr (the best this CPU supports).
  const KernelSet* kernels = nullptr;
};

// One generation session over a shared Model: KV cache, scratch buffers and
// thread pool. Not thread-safe (one caller at a time), except Cancel-style
// flags passed to Generate, which may be set from any thread.
class Decoder {
 public:
  static absl::StatusOr<std::unique_ptr<Decoder>> Create(const Model* model,
                                                         const DecoderOptions& options = {});

  // Runs `tokens` at positions position()..position()+n-1, appending them to
  // the KV cache. Fills `logits` with n_vocab floats per token when
  // `all_logits`, else with the last token's only. Tokens must be in the
  // vocabulary and fit in the cache.
  absl::Status Forward(const std::vector<int32_t>& tokens, std::vector<float>* logits,
                       bool all_logits = false);

  // Tokens held in the KV cache.
  int position() const { return cache_.length(); }
  // Forgets every cached token after `pos` (0 clears the cache).
  void Truncate(int pos) { cache_.Truncate(pos); }

  const Model& model() const { return *model_; }
  int n_ctx() const { return cache_.capacity(); }
  int n_threads() const { return pool_->size(); }
  const KernelSet& kernels() const { return *kernels_; }

 private:
  Decoder() = default;
  // y[t*ldy + r] = W.row(r) . x[t]: for several matrices sharing the input.
  struct MatMulJob {
    const WeightMatrix* w;
    float* y;
    int ldy;
  };
  void MatMul(const float* x, int n_tok, int ldx, std::initializer_list<MatMulJob> jobs);
  void Attention(int layer, int n_tok, int pos0);

  const Model* model_ = nullptr;
  const KernelSet* kernels_ = nullptr;
  std::unique_ptr<ThreadPool> pool_;
  KvCache cache_;
  int n_batch_ = 512;
  // Scratch, sized for n_batch tokens.
  std::vector<float> x_, xn_, q_, k_, v_, att_, gate_, up_, scores_;
  std::vector<float> rope_cos_, rope_sin_;
  std::vector<int8_t> act_q_;
  std::vector<uint8_t> act_qu_;
  std::vector<float> act_d_, act_s_, act_d8_;
  std::vector<int32_t> act_qsum_, act_qsum16_;
  std::vector<QuantizedRow> act_rows_;
};

enum class StopReason {
  kMaxTokens,
  kEndOfSequence,
  kStopString,
  kCancelled,
  kCallback,
  kContextFull
};
std::string_view StopReasonName(StopReason r);

struct GenerateOptions {
  // Default: 256.
  int max_tokens = 256;
  SamplerOptions sampling;
  // Generation stops before any of these strings; they are not emitted.
  // Needs `detokenize`. Default: none.
  std::vector<std::string> stop_strings;
  // Tokens that end generation (not emitted). Default: empty, meaning the
  // model's EOS token.
  std::vector<int32_t> stop_tokens;
  // Text of one token (for streaming and stop strings). Default: none (text
  // stays empty).
  std::function<std::string(int32_t)> detokenize;
  // Called for each generated token with the text that became final (text
  // that might start a stop string is held back). Return false to stop.
  // A final call with token -1 flushes held-back text when generation ends
  // for another reason than a stop string.
  std::function<bool(int32_t token, std::string_view text)> on_token;
  // Set from any thread to stop after the current token. Default: nullptr.
  const std::atomic<bool>* cancel = nullptr;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated, stop token excluded
  std::string text;
  StopReason stop_reason = StopReason::kMaxTokens;
  int prompt_tokens = 0;
  double prompt_seconds = 0;
  double generation_seconds = 0;
};

// Clears the decoder's cache, processes `prompt` in batches, then samples up
// to max_tokens tokens.
absl::StatusOr<GenerateResult> Generate(Decoder* decoder, const std::vector<int32_t>& prompt,
                                        const GenerateOptions& options);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_DECODER_H_
