#include "service/generate_commands.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "generate/chat_template.h"
#include "generate/decoder.h"
#include "generate/kernels.h"
#include "generate/model.h"
#include "generate/model_maker.h"
#include "generate/tokenizer.h"

namespace greffier::service {
namespace {

namespace gen = ::greffier::generate;

std::atomic<bool> g_interrupted{false};

void OnSigint(int) { g_interrupted.store(true); }

// Minimal argv parser: "--name value" or "--name=value"; flags without value.
class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) args_.emplace_back(argv[i]);
  }
  // Consumes every occurrence of --name; returns false on a missing value.
  bool Values(std::string_view name, std::vector<std::string>* out) {
    for (size_t i = 0; i < args_.size(); ++i) {
      std::string_view a = args_[i];
      if (a == name) {
        if (i + 1 >= args_.size()) {
          error_ = std::string(name) + " needs a value";
          return false;
        }
        out->push_back(args_[i + 1]);
        args_.erase(args_.begin() + i, args_.begin() + i + 2);
        --i;
      } else if (a.size() > name.size() + 1 && a.substr(0, name.size()) == name &&
                 a[name.size()] == '=') {
        out->push_back(std::string(a.substr(name.size() + 1)));
        args_.erase(args_.begin() + i);
        --i;
      }
    }
    return true;
  }
  std::optional<std::string> Value(std::string_view name) {
    std::vector<std::string> v;
    if (!Values(name, &v) || v.empty()) return std::nullopt;
    return v.back();
  }
  bool Flag(std::string_view name) {
    for (size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] == name) {
        args_.erase(args_.begin() + i);
        return true;
      }
    }
    return false;
  }
  // Error text when something was malformed or left over.
  std::string Check() const {
    if (!error_.empty()) return error_;
    if (!args_.empty()) return "unknown argument: " + args_[0];
    return "";
  }
  void SetError(std::string e) {
    if (error_.empty()) error_ = std::move(e);
  }

 private:
  std::vector<std::string> args_;
  std::string error_;
};

template <typename T>
bool ParseNumber(Args* args, std::string_view name, T* out) {
  auto v = args->Value(name);
  if (!v) return true;
  char* end = nullptr;
  errno = 0;
  if constexpr (std::is_floating_point_v<T>) {
    double d = std::strtod(v->c_str(), &end);
    *out = static_cast<T>(d);
  } else {
    long long x = std::strtoll(v->c_str(), &end, 10);
    *out = static_cast<T>(x);
  }
  if (end == v->c_str() || *end != '\0' || errno != 0) {
    args->SetError(std::string(name) + ": not a number: " + *v);
    return false;
  }
  return true;
}

constexpr char kGenerateUsage[] =
    "usage: greffier generate --model FILE.gguf (--prompt TEXT | --prompt-ids "
    "1,2,3) [--chat] [--template NAME] [--threads N] [--max-tokens N] "
    "[--seed S] [--temperature T] [--top-k K] [--top-p P] [--min-p P] "
    "[--repeat-penalty R] [--ctx N] [--stop TEXT]... [--dump-logits FILE]\n"
    "--dump-logits: writes the prompt's logits (float32, n_vocab per prompt\n"
    "token, in order) to FILE and exits without generating.\n";

}  // namespace

int RunGenerateCommand(int argc, char** argv) {
  Args args(argc, argv);
  if (args.Flag("--help") || args.Flag("-h")) {
    std::fputs(kGenerateUsage, stdout);
    return 0;
  }
  auto model_path = args.Value("--model");
  auto prompt = args.Value("--prompt");
  auto prompt_ids = args.Value("--prompt-ids");
  auto template_name = args.Value("--template");
  auto dump_logits = args.Value("--dump-logits");
  bool chat = args.Flag("--chat");
  std::vector<std::string> stops;
  args.Values("--stop", &stops);
  int threads = 0, max_tokens = 256, ctx = 0;
  gen::SamplerOptions sampling;
  sampling.temperature = 0.8f;
  sampling.top_k = 40;
  sampling.top_p = 0.95f;
  sampling.min_p = 0.05f;
  sampling.repeat_penalty = 1.1f;
  sampling.seed =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  ParseNumber(&args, "--threads", &threads);
  ParseNumber(&args, "--max-tokens", &max_tokens);
  ParseNumber(&args, "--ctx", &ctx);
  ParseNumber(&args, "--seed", &sampling.seed);
  ParseNumber(&args, "--temperature", &sampling.temperature);
  ParseNumber(&args, "--top-k", &sampling.top_k);
  ParseNumber(&args, "--top-p", &sampling.top_p);
  ParseNumber(&args, "--min-p", &sampling.min_p);
  ParseNumber(&args, "--repeat-penalty", &sampling.repeat_penalty);
  std::string err = args.Check();
  if (err.empty() && !model_path) err = "--model is required";
  if (err.empty() && !prompt && !prompt_ids) {
    err = "--prompt or --prompt-ids is required";
  }
  if (err.empty() && max_tokens < 0) err = "--max-tokens must be >= 0";
  if (!err.empty()) {
    std::fprintf(stderr, "greffier generate: %s\n%s", err.c_str(), kGenerateUsage);
    return 2;
  }

  auto model = gen::Model::Open(*model_path);
  if (!model.ok()) {
    std::fprintf(stderr, "greffier generate: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  auto tokenizer = gen::Tokenizer::FromGguf((*model)->gguf());
  std::vector<int32_t> ids;
  if (prompt_ids) {
    std::string s = *prompt_ids;
    size_t pos = 0;
    while (pos < s.size()) {
      size_t comma = s.find(',', pos);
      std::string item =
          s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      char* end = nullptr;
      long v = std::strtol(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0') {
        std::fprintf(stderr, "greffier generate: bad token id '%s'\n", item.c_str());
        return 2;
      }
      ids.push_back(static_cast<int32_t>(v));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  } else {
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "greffier generate: %s\n",
                   std::string(tokenizer.status().message()).c_str());
      return 1;
    }
    std::string text = *prompt;
    if (chat) {
      absl::StatusOr<gen::ChatTemplate> tmpl =
          template_name ? gen::ChatTemplate::FromName(*template_name)
                        : gen::ChatTemplate::FromJinja((*tokenizer)->chat_template());
      if (!tmpl.ok()) {
        std::fprintf(stderr, "greffier generate: chat template: %s\n",
                     std::string(tmpl.status().message()).c_str());
        return 1;
      }
      std::vector<gen::ChatMessage> messages = {{"user", *prompt}};
      gen::ChatRenderOptions ro;
      ro.add_generation_prompt = true;
      if ((*tokenizer)->bos_id() >= 0) {
        ro.bos_token = std::string((*tokenizer)->TokenText((*tokenizer)->bos_id()));
      }
      if ((*tokenizer)->eos_id() >= 0) {
        ro.eos_token = std::string((*tokenizer)->TokenText((*tokenizer)->eos_id()));
      }
      auto rendered = tmpl->Render(messages, ro);
      if (!rendered.ok()) {
        std::fprintf(stderr, "greffier generate: %s\n",
                     std::string(rendered.status().message()).c_str());
        return 1;
      }
      text = *rendered;
    }
    ids = (*tokenizer)
              ->Encode(text, /*add_special=*/true,
                       /*parse_special=*/chat);
  }
  if (ids.empty()) {
    std::fprintf(stderr, "greffier generate: the prompt has no tokens\n");
    return 2;
  }

  gen::DecoderOptions dopts;
  dopts.n_threads = threads;
  const int needed = static_cast<int>(ids.size()) + max_tokens + 1;
  dopts.n_ctx =
      ctx > 0 ? ctx
              : std::min(std::max(needed, 512), std::max((*model)->config().n_ctx_train, needed));
  auto decoder = gen::Decoder::Create(model->get(), dopts);
  if (!decoder.ok()) {
    std::fprintf(stderr, "greffier generate: %s\n",
                 std::string(decoder.status().message()).c_str());
    return 1;
  }
  if (dump_logits) {
    // For cross-checks against other runtimes: every prompt position.
    std::vector<float> logits;
    absl::Status s = (*decoder)->Forward(ids, &logits, /*all_logits=*/true);
    if (!s.ok()) {
      std::fprintf(stderr, "greffier generate: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    FILE* f = std::fopen(dump_logits->c_str(), "wb");
    bool ok = f != nullptr &&
              std::fwrite(logits.data(), sizeof(float), logits.size(), f) == logits.size();
    if (f != nullptr) ok = std::fclose(f) == 0 && ok;
    if (!ok) {
      std::fprintf(stderr, "greffier generate: cannot write %s\n", dump_logits->c_str());
      return 1;
    }
    std::fprintf(stderr, "wrote %zu tokens x %d logits to %s\n", ids.size(),
                 (*model)->config().n_vocab, dump_logits->c_str());
    return 0;
  }
  std::unique_ptr<gen::StreamingDecoder> stream;
  gen::GenerateOptions gopts;
  gopts.max_tokens = max_tokens;
  gopts.sampling = sampling;
  gopts.stop_strings = stops;
  if (tokenizer.ok()) {
    stream = std::make_unique<gen::StreamingDecoder>(**tokenizer);
    gopts.detokenize = [&](int32_t id) { return stream->Push(id); };
    gopts.stop_tokens = (*tokenizer)->eog_ids();
  } else if (!stops.empty()) {
    std::fprintf(stderr, "greffier generate: --stop needs a tokenizer: %s\n",
                 std::string(tokenizer.status().message()).c_str());
    return 1;
  }
  gopts.on_token = [&](int32_t id, std::string_view text) {
    if (stream) {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else if (id >= 0) {
      std::fprintf(stdout, "%d ", id);
    }
    std::fflush(stdout);
    return true;
  };
  gopts.cancel = &g_interrupted;
  auto previous = std::signal(SIGINT, OnSigint);
  auto result = gen::Generate(decoder->get(), ids, gopts);
  std::signal(SIGINT, previous);
  if (!result.ok()) {
    std::fprintf(stderr, "\ngreffier generate: %s\n",
                 std::string(result.status().message()).c_str());
    return 1;
  }
  if (stream) {
    std::string rest = stream->Flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
  }
  std::fputc('\n', stdout);
  std::fflush(stdout);
  const double pp = result->prompt_seconds > 0 ? result->prompt_tokens / result->prompt_seconds : 0;
  // The first generated token comes from the prompt's logits; each later
  // one costs one forward pass.
  const size_t n_gen = result->tokens.size();
  const double tg =
      result->generation_seconds > 0 && n_gen > 1 ? (n_gen - 1) / result->generation_seconds : 0;
  std::fprintf(stderr,
               "[%s] prompt: %d tokens, %.1f tokens/s | generation: %zu "
               "tokens, %.1f tokens/s | %d threads, %s kernels\n",
               std::string(gen::StopReasonName(result->stop_reason)).c_str(), result->prompt_tokens,
               pp, n_gen, tg, (*decoder)->n_threads(),
               std::string(gen::SimdLevelName((*decoder)->kernels().level)).c_str());
  return 0;
}

int RunMakeModelCommand(int argc, char** argv) {
  static constexpr char kUsage[] =
      "usage: greffier make-model --shape tinyllama|qwen2-0.5b|tiny|tiny-qwen2|"
      "bert-tiny|xlmr-tiny|minilm-l6\n"
      "         --type f16|q8_0|q4_0|q4_k_m|f32|bf16|q4_1|q5_0|q5_1|q4_k|q5_k|q6_k|"
      "q5_k_m --out FILE [--seed S]\n"
      "Decoders: tinyllama (TinyLlama-1.1B shape), qwen2-0.5b, tiny, tiny-qwen2; embedding\n"
      "encoders: bert-tiny, xlmr-tiny, minilm-l6 (all-MiniLM-L6 shape). Random weights.\n";
  Args args(argc, argv);
  if (args.Flag("--help") || args.Flag("-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  auto shape_name = args.Value("--shape");
  auto type = args.Value("--type");
  auto out = args.Value("--out");
  uint64_t seed = 1;
  ParseNumber(&args, "--seed", &seed);
  std::string err = args.Check();
  if (err.empty() && (!shape_name || !type || !out)) {
    err = "--shape, --type and --out are required";
  }
  if (!err.empty()) {
    std::fprintf(stderr, "greffier make-model: %s\n%s", err.c_str(), kUsage);
    return 2;
  }
  auto shape = gen::ShapeByName(*shape_name);
  if (!shape.ok()) {
    std::fprintf(stderr, "greffier make-model: %s\n",
                 std::string(shape.status().message()).c_str());
    return 2;
  }
  gen::MakeModelOptions o;
  o.shape = *shape;
  o.type = *type;
  o.seed = seed;
  auto t0 = std::chrono::steady_clock::now();
  absl::Status s = gen::WriteRandomModel(o, *out);
  if (!s.ok()) {
    std::fprintf(stderr, "greffier make-model: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "wrote %s (%s, %s) in %.1f s\n", out->c_str(), shape_name->c_str(),
               type->c_str(), secs);
  return 0;
}

}  // namespace greffier::service
