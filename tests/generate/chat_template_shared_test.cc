// The chat templates of real models (vocab-only GGUF files in
// ../shared/models/vocab) are recognised, and the rendered prompt tokenizes
// into the models' control tokens.

#include <algorithm>
#include <string>
#include <vector>

#include "generate/chat_template.h"
#include "generate/gguf.h"
#include "generate/tokenizer.h"
#include "gtest/gtest.h"
#include "tests/common/test_util.h"

namespace greffier::generate {
namespace {

std::unique_ptr<Tokenizer> Load(const std::string& rel) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file =
      GgufFile::Open(greffier::testing::SharedDir() / rel);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = Tokenizer::FromGguf(**file);
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? *std::move(tok) : nullptr;
}

int Count(const std::vector<int32_t>& ids, int32_t id) {
  return static_cast<int>(std::count(ids.begin(), ids.end(), id));
}

const std::vector<ChatMessage> kChat = {
    {"system", "Réponds en français."},
    {"user", "Quelle est la date de l'arrêté ?"},
};

TEST(ChatTemplateSharedTest, Llama3TemplateIsRecognisedAndTokenizes) {
  GREFFIER_REQUIRE_SHARED("models/vocab/ggml-vocab-llama3.gguf");
  std::unique_ptr<Tokenizer> tok = Load("models/vocab/ggml-vocab-llama3.gguf");
  ASSERT_NE(tok, nullptr);
  absl::StatusOr<ChatTemplate> t = ChatTemplate::FromJinja(tok->chat_template());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->format(), ChatFormat::kLlama3);
  absl::StatusOr<std::string> prompt = t->Render(kChat, {});
  ASSERT_TRUE(prompt.ok()) << prompt.status();
  const std::vector<int32_t> ids = tok->Encode(*prompt, true, true);
  const int32_t start = *tok->TokenId("<|start_header_id|>");
  const int32_t end = *tok->TokenId("<|end_header_id|>");
  const int32_t eot = *tok->TokenId("<|eot_id|>");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), tok->bos_id());  // added once, by the tokenizer
  EXPECT_EQ(Count(ids, tok->bos_id()), 1);
  EXPECT_EQ(Count(ids, start), 3);
  EXPECT_EQ(Count(ids, end), 3);
  EXPECT_EQ(Count(ids, eot), 2);
  EXPECT_TRUE(tok->IsEog(eot));
  // Without parse_special the markers stay plain text.
  EXPECT_EQ(Count(tok->Encode(*prompt, true, false), start), 0);
  // Decoding with special tokens rendered gives the prompt back.
  std::vector<int32_t> body(ids.begin() + 1, ids.end());
  EXPECT_EQ(tok->Decode(body, /*render_special=*/true), *prompt);
}

TEST(ChatTemplateSharedTest, QwenTemplateIsRecognisedAndTokenizes) {
  GREFFIER_REQUIRE_SHARED("models/vocab/ggml-vocab-qwen.gguf");
  std::unique_ptr<Tokenizer> tok = Load("models/vocab/ggml-vocab-qwen.gguf");
  ASSERT_NE(tok, nullptr);
  absl::StatusOr<ChatTemplate> t = ChatTemplate::FromJinja(tok->chat_template());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->format(), ChatFormat::kChatMl);
  // Qwen3's template has no hard-coded system prompt.
  EXPECT_EQ(t->default_system(), "");
  absl::StatusOr<std::string> prompt = t->Render(kChat, {});
  ASSERT_TRUE(prompt.ok()) << prompt.status();
  const std::vector<int32_t> ids = tok->Encode(*prompt, true, true);
  const int32_t im_start = *tok->TokenId("<|im_start|>");
  const int32_t im_end = *tok->TokenId("<|im_end|>");
  EXPECT_FALSE(tok->add_bos());
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), im_start);
  EXPECT_EQ(Count(ids, im_start), 3);
  EXPECT_EQ(Count(ids, im_end), 2);
  EXPECT_TRUE(tok->IsEog(im_end));
  EXPECT_EQ(tok->Decode(ids, /*render_special=*/true), *prompt);
}

}  // namespace
}  // namespace greffier::generate
