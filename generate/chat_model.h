#ifndef GREFFIER_GENERATE_CHAT_MODEL_H_
#define GREFFIER_GENERATE_CHAT_MODEL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace greffier::generate {

// Sampling parameters of one generation; recorded in the audit log for replay.
struct SamplingParams {
  int max_tokens = 384;             // Default: 384.
  float temperature = 0.0f;         // Default: 0 (greedy).
  int top_k = 40;                   // Default: 40 (0: off).
  float top_p = 0.95f;              // Default: 0.95 (1: off).
  float min_p = 0.05f;              // Default: 0.05 (0: off).
  float repetition_penalty = 1.1f;  // Default: 1.1 (1: off).
  uint64_t seed = 0;                // Default: 0. Same seed, same tokens.
};

// A chat model that turns a system instruction and a user message into streamed text.
// Implementations are thread-safe: concurrent Chat calls each get their own state.
class ChatModel {
 public:
  virtual ~ChatModel() = default;
  // "<file name> sha256:<hex>" of the model file, for the audit log.
  virtual std::string Identity() const = 0;
  virtual std::string ModelSha256() const = 0;
  // Tokens the model can attend to.
  virtual size_t ContextLength() const = 0;
  // Tokens of `text` with the model's own tokenizer.
  virtual size_t CountTokens(const std::string& text) const = 0;
  // The exact prompt text Chat would feed the model (chat template applied).
  virtual absl::StatusOr<std::string> RenderPrompt(const std::string& system,
                                                   const std::string& user) const = 0;
  // Generates the assistant's reply; `on_delta` receives text pieces as they are decoded
  // (valid UTF-8) and may return false to stop. `cancelled` is polled between tokens.
  virtual absl::StatusOr<std::string> Chat(const std::string& system, const std::string& user,
                                           const SamplingParams& params,
                                           const std::function<bool(const std::string&)>& on_delta,
                                           const std::atomic<bool>* cancelled) const = 0;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_CHAT_MODEL_H_
