#include "generate/chat_template.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace greffier::generate {
namespace {

using ::testing::HasSubstr;

const std::vector<ChatMessage> kConversation = {
    {"system", "Tu es un assistant."},
    {"user", "Bonjour !"},
    {"assistant", "Bonjour, que puis-je faire ?"},
    {"user", "Résume l'arrêté."},
};

std::string Render(ChatFormat f, const std::vector<ChatMessage>& messages,
                   ChatRenderOptions options = {}) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::FromName(ChatFormatName(f));
  EXPECT_TRUE(t.ok()) << t.status();
  absl::StatusOr<std::string> s = t->Render(messages, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : "";
}

TEST(ChatTemplateTest, DetectsFormatsFromTheirJinjaMarkers) {
  struct Case {
    std::string jinja;
    ChatFormat format;
  };
  const Case cases[] = {
      {"{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + "
       "'<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}"
       "{% endfor %}",
       ChatFormat::kLlama3},
      {"{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + "
       "m['content'] + '<|im_end|>' + '\\n'}}{% endfor %}",
       ChatFormat::kChatMl},
      {"{% if messages[0]['role'] == 'system' %}{% set content = '<<SYS>>\\n' "
       "+ system_message + '\\n<</SYS>>\\n\\n' %}{% endif %}{{ bos_token + "
       "'[INST] ' + content.strip() + ' [/INST]' }}",
       ChatFormat::kLlama2},
      {"{{ bos_token }}{% for message in messages %}{% if message['role'] == "
       "'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif "
       "message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
       "{% endif %}{% endfor %}",
       ChatFormat::kMistral},
      {"{%- if message[\"role\"] == \"user\" %}{{- \"[INST] \" + "
       "message[\"content\"] + \"[/INST]\" }}{%- endif %}",
       ChatFormat::kMistralV3},
      {"{% for message in messages %}{% if message['role'] == 'user' %}{{ "
       "'<|user|>\\n' + message['content'] + eos_token }}{% elif "
       "message['role'] == 'assistant' %}{{ '<|assistant|>\\n' + "
       "message['content'] + eos_token }}{% endif %}{% endfor %}",
       ChatFormat::kZephyr},
      {"{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + "
       "'<end_of_turn>\\n' }}",
       ChatFormat::kGemma},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ChatTemplate> t = ChatTemplate::FromJinja(c.jinja);
    ASSERT_TRUE(t.ok()) << t.status() << " for " << c.jinja;
    EXPECT_EQ(t->format(), c.format) << c.jinja;
  }
}

TEST(ChatTemplateTest, UnknownOrMissingTemplateIsAClearError) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::FromJinja(
      "{% for m in messages %}### {{ m.role }}: "
      "{{ m.content }}{% endfor %}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(t.status().message(), HasSubstr("unrecognised chat template"));
  EXPECT_THAT(t.status().message(), HasSubstr("chatml"));

  t = ChatTemplate::FromJinja("  ");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);

  t = ChatTemplate::FromJinja("[SYSTEM_PROMPT] ... [INST]");
  EXPECT_FALSE(t.ok());

  t = ChatTemplate::FromName("vicuna");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("vicuna"));
}

TEST(ChatTemplateTest, NamesAreCaseInsensitiveWithAliases) {
  EXPECT_EQ(ChatTemplate::FromName("ChatML")->format(), ChatFormat::kChatMl);
  EXPECT_EQ(ChatTemplate::FromName("qwen")->format(), ChatFormat::kChatMl);
  EXPECT_EQ(ChatTemplate::FromName("LLAMA3")->format(), ChatFormat::kLlama3);
}

TEST(ChatTemplateTest, Llama3) {
  EXPECT_EQ(Render(ChatFormat::kLlama3, kConversation),
            "<|start_header_id|>system<|end_header_id|>\n\nTu es un "
            "assistant.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nBonjour !<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nBonjour, que "
            "puis-je faire ?<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nRésume "
            "l'arrêté.<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  ChatRenderOptions o;
  o.add_generation_prompt = false;
  o.include_leading_bos = true;
  const std::string s = Render(ChatFormat::kLlama3, {{"user", "  hi \n"}}, o);
  EXPECT_EQ(s,
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi"
            "<|eot_id|>");
}

TEST(ChatTemplateTest, ChatMl) {
  EXPECT_EQ(Render(ChatFormat::kChatMl, kConversation),
            "<|im_start|>system\nTu es un assistant.<|im_end|>\n"
            "<|im_start|>user\nBonjour !<|im_end|>\n"
            "<|im_start|>assistant\nBonjour, que puis-je faire ?<|im_end|>\n"
            "<|im_start|>user\nRésume l'arrêté.<|im_end|>\n"
            "<|im_start|>assistant\n");
  ChatRenderOptions o;
  o.add_generation_prompt = false;
  EXPECT_EQ(Render(ChatFormat::kChatMl, {{"user", "x"}}, o), "<|im_start|>user\nx<|im_end|>\n");
}

TEST(ChatTemplateTest, ChatMlDefaultSystemPromptFromTemplate) {
  // Qwen 2.5 style: a literal system message when none is given.
  const std::string jinja =
      "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + "
      "messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- "
      "'<|im_start|>system\\nYou are Qwen, a helpful assistant.<|im_end|>\\n' "
      "}}{%- endif %}";
  absl::StatusOr<ChatTemplate> t = ChatTemplate::FromJinja(jinja);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->default_system(), "You are Qwen, a helpful assistant.");
  absl::StatusOr<std::string> s =
      t->Render(std::vector<ChatMessage>{{"user", "Salut"}}, ChatRenderOptions{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s,
            "<|im_start|>system\nYou are Qwen, a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nSalut<|im_end|>\n<|im_start|>assistant\n");
  // An explicit system message wins.
  s = t->Render(std::vector<ChatMessage>{{"system", "S"}, {"user", "U"}}, ChatRenderOptions{});
  ASSERT_TRUE(s.ok());
  EXPECT_THAT(*s, ::testing::StartsWith("<|im_start|>system\nS<|im_end|>"));
}

TEST(ChatTemplateTest, Llama2) {
  EXPECT_EQ(Render(ChatFormat::kLlama2, kConversation),
            "[INST] <<SYS>>\nTu es un assistant.\n<</SYS>>\n\nBonjour ! "
            "[/INST] Bonjour, que puis-je faire ? </s>"
            "<s>[INST] Résume l'arrêté. [/INST]");
  ChatRenderOptions o;
  o.include_leading_bos = true;
  EXPECT_EQ(Render(ChatFormat::kLlama2, {{"user", "Hi"}}, o), "<s>[INST] Hi [/INST]");
}

TEST(ChatTemplateTest, Mistral) {
  EXPECT_EQ(Render(ChatFormat::kMistral, kConversation),
            "[INST] Tu es un assistant.\n\nBonjour ! [/INST]Bonjour, que "
            "puis-je faire ?</s>[INST] Résume l'arrêté. [/INST]");
  // v3 puts the system prompt into the last user turn.
  EXPECT_EQ(Render(ChatFormat::kMistralV3, kConversation),
            "[INST] Bonjour ![/INST] Bonjour, que puis-je faire ?</s>"
            "[INST] Tu es un assistant.\n\nRésume l'arrêté.[/INST]");
}

TEST(ChatTemplateTest, ZephyrAndGemma) {
  EXPECT_EQ(Render(ChatFormat::kZephyr, {{"system", "S"}, {"user", "U"}}),
            "<|system|>\nS</s>\n<|user|>\nU</s>\n<|assistant|>\n");
  EXPECT_EQ(Render(ChatFormat::kGemma,
                   {{"system", "S"}, {"user", "U"}, {"assistant", "A"}, {"user", "V"}}),
            "<start_of_turn>user\nS\n\nU<end_of_turn>\n<start_of_turn>model\nA"
            "<end_of_turn>\n<start_of_turn>user\nV<end_of_turn>\n"
            "<start_of_turn>model\n");
}

TEST(ChatTemplateTest, CustomBosEosTexts) {
  ChatRenderOptions o;
  o.eos_token = "<|end|>";
  EXPECT_EQ(Render(ChatFormat::kZephyr, {{"user", "U"}}, o), "<|user|>\nU<|end|>\n<|assistant|>\n");
}

TEST(ChatTemplateTest, RejectsBadConversations) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::FromName("llama2");
  ASSERT_TRUE(t.ok());
  // Two user turns in a row.
  absl::StatusOr<std::string> s =
      t->Render(std::vector<ChatMessage>{{"user", "a"}, {"user", "b"}}, ChatRenderOptions{});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("alternate"));
  // Unknown role, for every format.
  for (std::string_view name :
       {"llama2", "mistral", "llama3", "chatml", "zephyr", "gemma", "mistral-v3"}) {
    absl::StatusOr<ChatTemplate> f = ChatTemplate::FromName(name);
    ASSERT_TRUE(f.ok());
    s = f->Render(std::vector<ChatMessage>{{"tool", "x"}}, ChatRenderOptions{});
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_THAT(s.status().message(), HasSubstr("tool"));
    // System message in the middle.
    s = f->Render(std::vector<ChatMessage>{{"user", "a"}, {"system", "b"}}, ChatRenderOptions{});
    EXPECT_FALSE(s.ok()) << name;
  }
}

}  // namespace
}  // namespace greffier::generate
