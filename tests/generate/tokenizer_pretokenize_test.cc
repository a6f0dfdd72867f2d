#include <string>
#include <vector>

#include "generate/bpe_pretokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace greffier::generate {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Split(PreTokenizerKind kind, std::string_view text) {
  std::vector<std::string_view> pieces;
  PreTokenize(kind, text, &pieces);
  std::string joined;
  std::vector<std::string> out;
  for (std::string_view p : pieces) {
    EXPECT_FALSE(p.empty());
    joined.append(p);
    out.emplace_back(p);
  }
  EXPECT_EQ(joined, text) << "pieces must cover the text exactly";
  return out;
}

constexpr auto kGpt2 = PreTokenizerKind::kGpt2;
constexpr auto kLlama3 = PreTokenizerKind::kLlama3;
constexpr auto kQwen2 = PreTokenizerKind::kQwen2;

TEST(PreTokenizeTest, Gpt2) {
  EXPECT_THAT(Split(kGpt2, "Hello world's  test 123!?"),
              ElementsAre("Hello", " world", "'s", " ", " test", " 123", "!?"));
  // Contractions are case-sensitive in GPT-2.
  EXPECT_THAT(Split(kGpt2, "I'M"), ElementsAre("I", "'", "M"));
  EXPECT_THAT(Split(kGpt2, "l'arrêté"), ElementsAre("l", "'", "arrêté"));
  EXPECT_THAT(Split(kGpt2, "a   "), ElementsAre("a", "   "));
  EXPECT_THAT(Split(kGpt2, "12345"), ElementsAre("12345"));
}

TEST(PreTokenizeTest, Llama3) {
  EXPECT_THAT(Split(kLlama3, "12345"), ElementsAre("123", "45"));
  EXPECT_THAT(Split(kLlama3, "I'M here"), ElementsAre("I", "'M", " here"));
  EXPECT_THAT(Split(kLlama3, "l'arrêté"), ElementsAre("l", "'arrêté"));
  EXPECT_THAT(Split(kLlama3, "Hello\n\nworld"), ElementsAre("Hello", "\n\n", "world"));
  EXPECT_THAT(Split(kLlama3, "x  \n y"), ElementsAre("x", "  \n", " y"));
  EXPECT_THAT(Split(kLlama3, "   Hello"), ElementsAre("  ", " Hello"));
  EXPECT_THAT(Split(kLlama3, "abc123"), ElementsAre("abc", "123"));
  EXPECT_THAT(Split(kLlama3, "(hello) !!\n"), ElementsAre("(hello", ")", " !!\n"));
  EXPECT_THAT(Split(kLlama3, "\tfoo"), ElementsAre("\tfoo"));
  // « » and the narrow no-break space of French typography.
  EXPECT_THAT(Split(kLlama3, "«\xE2\x80\xAFOui\xE2\x80\xAF»"),
              ElementsAre("«", "\xE2\x80\xAFOui", "\xE2\x80\xAF", "»"));
}

TEST(PreTokenizeTest, Qwen2SplitsDigitsOneByOne) {
  EXPECT_THAT(Split(kQwen2, "n° 2023"), ElementsAre("n", "°", " ", "2", "0", "2", "3"));
}

TEST(PreTokenizeTest, InvalidBytesAreCoveredNotDropped) {
  const std::string text =
      "a\xFF\xFE"
      "b \xC3";
  for (auto kind : {kGpt2, kLlama3, kQwen2}) {
    const std::vector<std::string> pieces = Split(kind, text);
    EXPECT_GE(pieces.size(), 3u);
  }
  EXPECT_THAT(Split(kGpt2, text), ElementsAre("a", "\xFF\xFE", "b", " \xC3"));
}

TEST(PreTokenizeTest, NamesMapToKinds) {
  EXPECT_EQ(*PreTokenizerFromName("llama-bpe"), kLlama3);
  EXPECT_EQ(*PreTokenizerFromName("qwen2"), kQwen2);
  EXPECT_EQ(*PreTokenizerFromName("gpt-2"), kGpt2);
  EXPECT_EQ(*PreTokenizerFromName("default"), kGpt2);
  absl::StatusOr<PreTokenizerKind> bad = PreTokenizerFromName("falcon");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("falcon"), std::string::npos);
}

}  // namespace
}  // namespace greffier::generate
