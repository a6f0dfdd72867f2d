#ifndef GREFFIER_GENERATE_CHAT_TEMPLATE_H_
#define GREFFIER_GENERATE_CHAT_TEMPLATE_H_

#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace greffier::generate {

// The prompt formats greffier can render. They are recognised from the
// model's `tokenizer.chat_template` Jinja source by distinctive markers; the
// Jinja itself is never run.
enum class ChatFormat {
  // "<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {answer} </s>"
  kLlama2,
  // "<s>[INST] {user} [/INST]{answer}</s>" (Mistral 7B Instruct v0.1/v0.2)
  kMistral,
  // "<s>[INST] {user}[/INST] {answer}</s>" (Mistral 7B Instruct v0.3)
  kMistralV3,
  // "<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>"
  kLlama3,
  // "<|im_start|>{role}\n{content}<|im_end|>\n" (Qwen and many others).
  // Qwen3's optional empty "<think>" block is not added.
  kChatMl,
  // "<|{role}|>\n{content}</s>\n" (TinyLlama chat, Zephyr)
  kZephyr,
  // "<start_of_turn>{user|model}\n{content}<end_of_turn>\n" (Gemma)
  kGemma,
};

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatRenderOptions {
  // End with the header of an assistant turn so that the model answers next
  // (formats whose prompt always ends that way ignore it). Default: true.
  bool add_generation_prompt = true;
  // Text of the BOS/EOS tokens where the format writes them inside the
  // prompt. Default: empty, meaning the format's usual text ("<s>"/"</s>",
  // "<|begin_of_text|>", "<bos>"); pass the tokenizer's when they differ.
  std::string bos_token;
  std::string eos_token;
  // Write the BOS text at the very start. Default: false, because
  // Tokenizer::Encode(add_special=true) adds the BOS token itself. Encode
  // the rendered prompt with parse_special=true so the format's markers
  // become their control tokens.
  bool include_leading_bos = false;
};

// A recognised chat format, plus what its template hard-codes (the default
// system prompt that some ChatML templates insert). Immutable; thread-safe.
class ChatTemplate {
 public:
  // Recognises `jinja` (a `tokenizer.chat_template` value). Empty or
  // unrecognised templates are an error that says how to override.
  static absl::StatusOr<ChatTemplate> FromJinja(std::string_view jinja);
  // Explicit override by name: "llama2", "mistral", "mistral-v3", "llama3",
  // "chatml" (alias "qwen"), "zephyr", "gemma". Case-insensitive.
  static absl::StatusOr<ChatTemplate> FromName(std::string_view name);

  ChatFormat format() const { return format_; }
  std::string_view name() const;
  // System prompt used when the messages have none. Default: empty.
  const std::string& default_system() const { return default_system_; }
  void set_default_system(std::string s) { default_system_ = std::move(s); }

  // Renders `messages`. Errors: roles other than system/user/assistant, a
  // system message after the first turn, and for the [INST] formats, user
  // and assistant turns that do not alternate starting with the user.
  absl::StatusOr<std::string> Render(std::span<const ChatMessage> messages,
                                     const ChatRenderOptions& options) const;

 private:
  explicit ChatTemplate(ChatFormat format) : format_(format) {}
  ChatFormat format_;
  std::string default_system_;
};

std::string_view ChatFormatName(ChatFormat format);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_CHAT_TEMPLATE_H_
