#include "generate/native_chat_model.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "generate/decoder.h"
#include "generate/sha256.h"
#include "generate/str_util.h"

namespace greffier::generate {

absl::StatusOr<std::unique_ptr<NativeChatModel>> NativeChatModel::Open(
    const NativeChatModelOptions& options) {
  auto m = std::unique_ptr<NativeChatModel>(new NativeChatModel());
  m->options_ = options;
  auto model = Model::Open(options.path);
  if (!model.ok()) return model.status();
  m->model_ = std::move(*model);
  auto tok = Tokenizer::FromGguf(m->model_->gguf());
  if (!tok.ok()) return tok.status();
  m->tokenizer_ = std::move(*tok);
  absl::StatusOr<ChatTemplate> tmpl = options.chat_template.empty()
                                          ? ChatTemplate::FromJinja(m->tokenizer_->chat_template())
                                          : ChatTemplate::FromName(options.chat_template);
  if (!tmpl.ok()) {
    return absl::Status(tmpl.status().code(),
                        Cat("model ", options.path, ": chat template: ", tmpl.status().message()));
  }
  m->template_ = std::make_unique<ChatTemplate>(std::move(*tmpl));
  m->n_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min(m->model_->config().n_ctx_train, 8192);
  return m;
}

std::string NativeChatModel::ModelSha256() const {
  std::call_once(sha_once_, [this] {
    auto h = Sha256File(options_.path);
    sha256_ = h.ok() ? *h : "";
  });
  return sha256_;
}

std::string NativeChatModel::Identity() const {
  std::string name = options_.path.substr(options_.path.find_last_of('/') + 1);
  return Cat(name, " sha256:", ModelSha256());
}

size_t NativeChatModel::CountTokens(const std::string& text) const {
  return tokenizer_->CountTokens(text);
}

absl::StatusOr<std::string> NativeChatModel::RenderPrompt(const std::string& system,
                                                          const std::string& user) const {
  std::vector<ChatMessage> messages;
  if (!system.empty()) messages.push_back({"system", system});
  messages.push_back({"user", user});
  ChatRenderOptions ro;
  ro.add_generation_prompt = true;
  if (tokenizer_->bos_id() >= 0) {
    ro.bos_token = std::string(tokenizer_->TokenText(tokenizer_->bos_id()));
  }
  if (tokenizer_->eos_id() >= 0) {
    ro.eos_token = std::string(tokenizer_->TokenText(tokenizer_->eos_id()));
  }
  return template_->Render(messages, ro);
}

absl::StatusOr<std::string> NativeChatModel::Chat(
    const std::string& system, const std::string& user, const SamplingParams& params,
    const std::function<bool(const std::string&)>& on_delta,
    const std::atomic<bool>* cancelled) const {
  auto prompt = RenderPrompt(system, user);
  if (!prompt.ok()) return prompt.status();
  std::vector<int32_t> ids = tokenizer_->Encode(*prompt, /*add_special=*/true,
                                                /*parse_special=*/true);
  const int max_tokens = std::max(0, params.max_tokens);
  if (static_cast<int>(ids.size()) + 1 > n_ctx_) {
    return absl::OutOfRangeError(
        Cat("prompt of ", ids.size(), " tokens exceeds the context of ", n_ctx_, " tokens"));
  }
  DecoderOptions dopts;
  dopts.n_threads = options_.n_threads;
  dopts.n_ctx = std::min(n_ctx_, static_cast<int>(ids.size()) + max_tokens + 1);
  auto decoder = Decoder::Create(model_.get(), dopts);
  if (!decoder.ok()) return decoder.status();
  StreamingDecoder stream(*tokenizer_);
  GenerateOptions g;
  g.max_tokens = max_tokens;
  g.sampling.temperature = params.temperature;
  g.sampling.top_k = params.top_k;
  g.sampling.top_p = params.top_p;
  g.sampling.min_p = params.min_p;
  g.sampling.repeat_penalty = params.repetition_penalty;
  g.sampling.seed = params.seed;
  g.stop_tokens = tokenizer_->eog_ids();
  if (g.stop_tokens.empty() && tokenizer_->eos_id() >= 0) {
    g.stop_tokens.push_back(tokenizer_->eos_id());
  }
  g.detokenize = [&](int32_t id) { return stream.Push(id); };
  if (on_delta) {
    g.on_token = [&](int32_t, std::string_view text) {
      if (text.empty()) return true;
      return on_delta(std::string(text));
    };
  }
  g.cancel = cancelled;
  auto result = Generate(decoder->get(), ids, g);
  if (!result.ok()) return result.status();
  std::string text = std::move(result->text);
  if (result->stop_reason != StopReason::kCallback &&
      result->stop_reason != StopReason::kStopString) {
    std::string rest = stream.Flush();
    if (!rest.empty()) {
      text += rest;
      if (on_delta) on_delta(rest);
    }
  }
  return text;
}

}  // namespace greffier::generate
