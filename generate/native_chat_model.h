#ifndef GREFFIER_GENERATE_NATIVE_CHAT_MODEL_H_
#define GREFFIER_GENERATE_NATIVE_CHAT_MODEL_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "generate/chat_model.h"
#include "generate/chat_template.h"
#include "generate/model.h"
#include "generate/tokenizer.h"

namespace greffier::generate {

struct NativeChatModelOptions {
  // GGUF model file. Required.
  std::string path;
  // Threads per generation (caller included). Default: 0 (one per hardware
  // thread).
  int n_threads = 0;
  // Context length in tokens. Default: 0 (the model's training context,
  // capped at 8192).
  int n_ctx = 0;
  // Chat template name overriding the model's own (see
  // ChatTemplate::FromName). Default: empty (recognised from
  // tokenizer.chat_template).
  std::string chat_template;
};

// ChatModel on the native decoder: GGUF model, its tokenizer and chat
// template. Thread-safe: each Chat call gets its own KV cache and threads;
// the weights are shared.
class NativeChatModel : public ChatModel {
 public:
  static absl::StatusOr<std::unique_ptr<NativeChatModel>> Open(
      const NativeChatModelOptions& options);

  std::string Identity() const override;
  // Hashes the file on first use (seconds for multi-gigabyte models).
  std::string ModelSha256() const override;
  size_t ContextLength() const override { return static_cast<size_t>(n_ctx_); }
  size_t CountTokens(const std::string& text) const override;
  absl::StatusOr<std::string> RenderPrompt(const std::string& system,
                                           const std::string& user) const override;
  absl::StatusOr<std::string> Chat(const std::string& system, const std::string& user,
                                   const SamplingParams& params,
                                   const std::function<bool(const std::string&)>& on_delta,
                                   const std::atomic<bool>* cancelled) const override;

  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  NativeChatModel() = default;

  NativeChatModelOptions options_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatTemplate> template_;
  int n_ctx_ = 0;
  mutable std::once_flag sha_once_;
  mutable std::string sha256_;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_NATIVE_CHAT_MODEL_H_
