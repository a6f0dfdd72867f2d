#include "generate/native_chat_model.h"

#include <atomic>
#include <string>
#include <thread>

#include "generate/model_maker.h"
#include "generate/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_util.h"

namespace greffier::generate {
namespace {

TEST(Sha256Test, KnownDigests) {
  Sha256 empty;
  EXPECT_EQ(empty.HexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.Update("abc", 3);
  EXPECT_EQ(abc.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Split updates across block boundaries give the same digest.
  std::string text(1000, 'x');
  Sha256 whole, parts;
  whole.Update(text.data(), text.size());
  for (size_t i = 0; i < text.size(); i += 7) {
    parts.Update(text.data() + i, std::min<size_t>(7, text.size() - i));
  }
  EXPECT_EQ(whole.HexDigest(), parts.HexDigest());
}

class NativeChatModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeModelOptions o;
    o.shape = TinyShape("qwen2");
    o.type = "q8_0";
    path_ = (dir_.path() / "chat.gguf").string();
    ASSERT_TRUE(WriteRandomModel(o, path_).ok());
  }
  greffier::testing::ScratchDir dir_;
  std::string path_;
};

TEST_F(NativeChatModelTest, RendersChatMlAndGeneratesDeterministically) {
  NativeChatModelOptions o;
  o.path = path_;
  o.n_threads = 2;
  auto m = NativeChatModel::Open(o);
  ASSERT_TRUE(m.ok()) << m.status();
  auto prompt = (*m)->RenderPrompt("Tu es utile.", "Bonjour");
  ASSERT_TRUE(prompt.ok()) << prompt.status();
  EXPECT_THAT(*prompt, ::testing::HasSubstr("<|im_start|>user\nBonjour"));
  EXPECT_THAT(*prompt, ::testing::HasSubstr("<|im_start|>assistant\n"));
  EXPECT_GT((*m)->CountTokens("Bonjour"), 0u);
  EXPECT_EQ((*m)->ContextLength(), 512u);
  EXPECT_THAT((*m)->Identity(), ::testing::StartsWith("chat.gguf sha256:"));
  EXPECT_EQ((*m)->ModelSha256(), *Sha256File(path_));

  SamplingParams p;
  p.max_tokens = 8;
  p.temperature = 0.7f;
  p.seed = 5;
  std::string streamed;
  auto a = (*m)->Chat(
      "Tu es utile.", "Bonjour", p,
      [&](const std::string& d) {
        streamed += d;
        return true;
      },
      nullptr);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(streamed, *a);
  // Concurrent calls with the same seed give the same text.
  std::string b, c;
  std::thread t1([&] { b = *(*m)->Chat("Tu es utile.", "Bonjour", p, nullptr, nullptr); });
  std::thread t2([&] { c = *(*m)->Chat("Tu es utile.", "Bonjour", p, nullptr, nullptr); });
  t1.join();
  t2.join();
  EXPECT_EQ(b, *a);
  EXPECT_EQ(c, *a);
}

TEST_F(NativeChatModelTest, UnknownTemplateOverrideIsAnError) {
  NativeChatModelOptions o;
  o.path = path_;
  o.chat_template = "no-such-template";
  EXPECT_FALSE(NativeChatModel::Open(o).ok());
  o.path = path_ + ".missing";
  o.chat_template.clear();
  auto m = NativeChatModel::Open(o);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), ::testing::HasSubstr(".missing"));
}

}  // namespace
}  // namespace greffier::generate
