#include "generate/chat_template.h"

#include <cctype>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace greffier::generate {
namespace {

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// Python's str.strip() for the whitespace that matters in prompts.
std::string_view Strip(std::string_view s) {
  auto ws = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

// ChatML templates of Qwen 2/2.5 insert a fixed system message when the
// conversation has none: "<|im_start|>system\nYou are ...<|im_end|>\n".
std::string ExtractChatMlDefaultSystem(std::string_view jinja) {
  constexpr std::string_view kStart = "<|im_start|>system\\n";
  constexpr std::string_view kEnd = "<|im_end|>";
  size_t pos = 0;
  while ((pos = jinja.find(kStart, pos)) != std::string_view::npos) {
    pos += kStart.size();
    const size_t end = jinja.find(kEnd, pos);
    if (end == std::string_view::npos) break;
    const std::string_view body = jinja.substr(pos, end - pos);
    // Only a literal: anything computed (quotes, concatenation, Jinja) is
    // the user's system message, not a default.
    if (body.empty() || body.find_first_of("'\"{}+") != std::string_view::npos) {
      continue;
    }
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
      if (body[i] == '\\' && i + 1 < body.size() && body[i + 1] == 'n') {
        out.push_back('\n');
        ++i;
      } else {
        out.push_back(body[i]);
      }
    }
    return out;
  }
  return "";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

absl::Status CheckRoles(std::span<const ChatMessage> messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant") {
      return absl::InvalidArgumentError(absl::StrCat("chat message ", i, " has unsupported role '",
                                                     r, "' (expected system, user or assistant)"));
    }
    if (r == "system" && i != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("chat message ", i, ": a system message must come first"));
    }
  }
  return absl::OkStatus();
}

// [INST] formats: user/assistant turns alternate, starting with the user.
absl::Status CheckAlternation(std::span<const ChatMessage> turns, std::string_view format) {
  for (size_t i = 0; i < turns.size(); ++i) {
    const bool user_expected = i % 2 == 0;
    if ((turns[i].role == "user") != user_expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ", std::string(format),
                       " chat format needs user and assistant turns to alternate, "
                       "starting with the user; turn ",
                       i, " is '", turns[i].role, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view ChatFormatName(ChatFormat format) {
  switch (format) {
    case ChatFormat::kLlama2:
      return "llama2";
    case ChatFormat::kMistral:
      return "mistral";
    case ChatFormat::kMistralV3:
      return "mistral-v3";
    case ChatFormat::kLlama3:
      return "llama3";
    case ChatFormat::kChatMl:
      return "chatml";
    case ChatFormat::kZephyr:
      return "zephyr";
    case ChatFormat::kGemma:
      return "gemma";
  }
  return "unknown";
}

std::string_view ChatTemplate::name() const { return ChatFormatName(format_); }

absl::StatusOr<ChatTemplate> ChatTemplate::FromName(std::string_view name) {
  const std::string n = Lower(name);
  for (ChatFormat f :
       {ChatFormat::kLlama2, ChatFormat::kMistral, ChatFormat::kMistralV3, ChatFormat::kLlama3,
        ChatFormat::kChatMl, ChatFormat::kZephyr, ChatFormat::kGemma}) {
    if (n == ChatFormatName(f)) return ChatTemplate(f);
  }
  if (n == "qwen" || n == "qwen2") return ChatTemplate(ChatFormat::kChatMl);
  if (n == "llama-3" || n == "llama-2") {
    return ChatTemplate(n == "llama-3" ? ChatFormat::kLlama3 : ChatFormat::kLlama2);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown chat format '", std::string(name),
                   "' (known: llama2, mistral, mistral-v3, llama3, chatml, zephyr, gemma)"));
}

absl::StatusOr<ChatTemplate> ChatTemplate::FromJinja(std::string_view jinja) {
  constexpr const char* kHint =
      "; name the format explicitly (llama2, mistral, mistral-v3, llama3, "
      "chatml, zephyr, gemma)";
  if (Strip(jinja).empty()) {
    return absl::NotFoundError(absl::StrCat("the model has no chat template", kHint));
  }
  if (Contains(jinja, "<|start_header_id|>") && Contains(jinja, "<|end_header_id|>")) {
    return ChatTemplate(ChatFormat::kLlama3);
  }
  if (Contains(jinja, "<|im_start|>")) {
    ChatTemplate t(ChatFormat::kChatMl);
    t.default_system_ = ExtractChatMlDefaultSystem(jinja);
    return t;
  }
  if (Contains(jinja, "<start_of_turn>")) return ChatTemplate(ChatFormat::kGemma);
  if (Contains(jinja, "[INST]")) {
    if (Contains(jinja, "[SYSTEM_PROMPT]") || Contains(jinja, "[AVAILABLE_TOOLS]")) {
      return absl::UnimplementedError(
          absl::StrCat("unsupported chat template: a Mistral variant with [SYSTEM_PROMPT] "
                       "or tool markers",
                       kHint));
    }
    if (Contains(jinja, "<<SYS>>")) return ChatTemplate(ChatFormat::kLlama2);
    if (Contains(jinja, " [/INST]")) return ChatTemplate(ChatFormat::kMistral);
    return ChatTemplate(ChatFormat::kMistralV3);
  }
  if (Contains(jinja, "<|user|>") && Contains(jinja, "<|assistant|>") &&
      Contains(jinja, "eos_token")) {
    return ChatTemplate(ChatFormat::kZephyr);
  }
  std::string head(jinja.substr(0, 80));
  return absl::UnimplementedError(
      absl::StrCat("unrecognised chat template (starts with \"", head, "\")", kHint));
}

absl::StatusOr<std::string> ChatTemplate::Render(std::span<const ChatMessage> messages,
                                                 const ChatRenderOptions& options) const {
  absl::Status s = CheckRoles(messages);
  if (!s.ok()) return s;
  std::string system = default_system_;
  bool has_system = !default_system_.empty();
  std::span<const ChatMessage> turns = messages;
  if (!turns.empty() && turns.front().role == "system") {
    system = turns.front().content;
    has_system = true;
    turns = turns.subspan(1);
  }
  auto pick = [](const std::string& given, std::string_view fallback) {
    return given.empty() ? std::string(fallback) : given;
  };
  std::string out;
  switch (format_) {
    case ChatFormat::kLlama2: {
      s = CheckAlternation(turns, name());
      if (!s.ok()) return s;
      const std::string bos = pick(options.bos_token, "<s>");
      const std::string eos = pick(options.eos_token, "</s>");
      for (size_t i = 0; i < turns.size(); ++i) {
        std::string content = turns[i].content;
        if (i == 0 && has_system) {
          content = absl::StrCat("<<SYS>>\n", system, "\n<</SYS>>\n\n", content);
        }
        if (turns[i].role == "user") {
          if (i > 0 || options.include_leading_bos) out += bos;
          absl::StrAppend(&out, "[INST] ", std::string(Strip(content)), " [/INST]");
        } else {
          absl::StrAppend(&out, " ", std::string(Strip(content)), " ", eos);
        }
      }
      if (turns.empty() && has_system) {
        // A lone system message: open the first user turn with it.
        if (options.include_leading_bos) out += bos;
        absl::StrAppend(&out, "[INST] <<SYS>>\n", system, "\n<</SYS>>\n\n");
      }
      break;
    }
    case ChatFormat::kMistral:
    case ChatFormat::kMistralV3: {
      s = CheckAlternation(turns, name());
      if (!s.ok()) return s;
      const bool v3 = format_ == ChatFormat::kMistralV3;
      const std::string eos = pick(options.eos_token, "</s>");
      if (options.include_leading_bos) out += pick(options.bos_token, "<s>");
      // v1 puts the system prompt into the first user turn, v3 into the last.
      size_t system_turn = 0;
      if (v3) {
        for (size_t i = 0; i < turns.size(); ++i) {
          if (turns[i].role == "user") system_turn = i;
        }
      }
      for (size_t i = 0; i < turns.size(); ++i) {
        std::string content = turns[i].content;
        if (i == system_turn && has_system && turns[i].role == "user") {
          content = absl::StrCat(system, "\n\n", content);
        }
        if (turns[i].role == "user") {
          absl::StrAppend(&out, "[INST] ", content, v3 ? "[/INST]" : " [/INST]");
        } else if (v3) {
          absl::StrAppend(&out, " ", std::string(Strip(content)), eos);
        } else {
          absl::StrAppend(&out, content, eos);
        }
      }
      break;
    }
    case ChatFormat::kLlama3: {
      if (options.include_leading_bos) {
        out += pick(options.bos_token, "<|begin_of_text|>");
      }
      auto turn = [&](std::string_view role, std::string_view content) {
        absl::StrAppend(&out, "<|start_header_id|>", std::string(role), "<|end_header_id|>\n\n",
                        std::string(Strip(content)), "<|eot_id|>");
      };
      if (has_system) turn("system", system);
      for (const ChatMessage& m : turns) turn(m.role, m.content);
      if (options.add_generation_prompt) {
        out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      }
      break;
    }
    case ChatFormat::kChatMl: {
      if (options.include_leading_bos && !options.bos_token.empty()) {
        out += options.bos_token;
      }
      auto turn = [&](std::string_view role, std::string_view content) {
        absl::StrAppend(&out, "<|im_start|>", std::string(role), "\n", std::string(content),
                        "<|im_end|>\n");
      };
      if (has_system) turn("system", system);
      for (const ChatMessage& m : turns) turn(m.role, m.content);
      if (options.add_generation_prompt) out += "<|im_start|>assistant\n";
      break;
    }
    case ChatFormat::kZephyr: {
      const std::string eos = pick(options.eos_token, "</s>");
      if (options.include_leading_bos) out += pick(options.bos_token, "<s>");
      auto turn = [&](std::string_view role, std::string_view content) {
        absl::StrAppend(&out, "<|", std::string(role), "|>\n", std::string(content), eos, "\n");
      };
      if (has_system) turn("system", system);
      for (const ChatMessage& m : turns) turn(m.role, m.content);
      if (options.add_generation_prompt) out += "<|assistant|>\n";
      break;
    }
    case ChatFormat::kGemma: {
      if (options.include_leading_bos) out += pick(options.bos_token, "<bos>");
      // Gemma has no system role: the system prompt opens the first user turn.
      bool system_pending = has_system;
      for (const ChatMessage& m : turns) {
        std::string content(Strip(m.content));
        if (system_pending && m.role == "user") {
          content = absl::StrCat(system, "\n\n", content);
          system_pending = false;
        }
        absl::StrAppend(&out, "<start_of_turn>", m.role == "assistant" ? "model" : "user", "\n",
                        content, "<end_of_turn>\n");
      }
      if (options.add_generation_prompt) out += "<start_of_turn>model\n";
      break;
    }
  }
  return out;
}

}  // namespace greffier::generate
