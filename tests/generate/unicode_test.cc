#include "generate/unicode.h"

#include <string>

#include "gtest/gtest.h"

namespace greffier::generate {
namespace {

TEST(UnicodeTest, DecodesValidSequences) {
  const std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x91\x8D";  // a é € 👍
  Utf8Char c = DecodeUtf8(s, 0);
  EXPECT_TRUE(c.valid);
  EXPECT_EQ(c.cp, U'a');
  c = DecodeUtf8(s, 1);
  EXPECT_EQ(c.cp, U'é');
  EXPECT_EQ(c.len, 2u);
  c = DecodeUtf8(s, 3);
  EXPECT_EQ(c.cp, U'€');
  EXPECT_EQ(c.len, 3u);
  c = DecodeUtf8(s, 6);
  EXPECT_EQ(c.cp, U'\U0001F44D');
  EXPECT_EQ(c.len, 4u);
}

TEST(UnicodeTest, InvalidSequencesConsumeOneByte) {
  for (const std::string& bad : {std::string("\xC0\xAF"), std::string("\xE0\x80\xAF"),  // overlong
                                 std::string("\xED\xA0\x80"),                           // surrogate
                                 std::string("\xF4\x90\x80\x80"),  // > U+10FFFF
                                 std::string("\xE2\x82"),          // truncated
                                 std::string("\x80"), std::string("\xFF")}) {
    const Utf8Char c = DecodeUtf8(bad, 0);
    EXPECT_FALSE(c.valid) << bad;
    EXPECT_EQ(c.len, 1u);
    EXPECT_EQ(c.cp, 0xFFFDu);
  }
}

TEST(UnicodeTest, AppendUtf8RoundTrips) {
  for (char32_t cp : {U'\0', U'A', U'é', U'\u2581', U'€', U'\U0001F600', U'\U0010FFFF'}) {
    std::string s;
    AppendUtf8(cp, &s);
    const Utf8Char c = DecodeUtf8(s, 0);
    EXPECT_TRUE(c.valid);
    EXPECT_EQ(c.cp, cp);
    EXPECT_EQ(c.len, s.size());
  }
  std::string s;
  AppendUtf8(0xD800, &s);
  EXPECT_EQ(s, "\xEF\xBF\xBD");
}

TEST(UnicodeTest, IncompleteSuffixOnlyForCompletableSequences) {
  EXPECT_EQ(IncompleteUtf8Suffix(""), 0u);
  EXPECT_EQ(IncompleteUtf8Suffix("abc"), 0u);
  EXPECT_EQ(IncompleteUtf8Suffix("a\xE2"), 1u);
  EXPECT_EQ(IncompleteUtf8Suffix("a\xE2\x82"), 2u);
  EXPECT_EQ(IncompleteUtf8Suffix("a\xE2\x82\xAC"), 0u);
  EXPECT_EQ(IncompleteUtf8Suffix("\xF0\x9F\x91"), 3u);
  EXPECT_EQ(IncompleteUtf8Suffix("\xC3"), 1u);
  EXPECT_EQ(IncompleteUtf8Suffix("\xFF"), 0u);      // never valid
  EXPECT_EQ(IncompleteUtf8Suffix("\x80\x80"), 0u);  // stray continuations
  EXPECT_EQ(IncompleteUtf8Suffix("\xE0\x80"), 0u);  // already overlong
  EXPECT_EQ(IncompleteUtf8Suffix("\xED\xA0"), 0u);  // surrogate
}

TEST(UnicodeTest, CategoryFlags) {
  EXPECT_TRUE(CodepointFlags(U'é') & kCpLetter);
  EXPECT_TRUE(CodepointFlags(U'Ж') & kCpLetter);
  EXPECT_TRUE(CodepointFlags(U'\u0663') & kCpNumber);  // Arabic-Indic three
  EXPECT_TRUE(CodepointFlags(U'½') & kCpNumber);
  EXPECT_TRUE(CodepointFlags(U'\u00A0') & kCpWhitespace);
  EXPECT_TRUE(CodepointFlags(U'\u3000') & kCpWhitespace);
  EXPECT_TRUE(CodepointFlags(U'\n') & kCpWhitespace);
  EXPECT_TRUE(CodepointFlags(U'«') & kCpPunctuation);
  EXPECT_TRUE(CodepointFlags(U'\u0301') & kCpNonspacingMark);
  EXPECT_TRUE(CodepointFlags(U'\u200D') & kCpControl);  // ZWJ is Cf
  EXPECT_TRUE(CodepointFlags(U'中') & kCpCjk);
  EXPECT_TRUE(CodepointFlags(U'\U00020000') & kCpCjk);
  EXPECT_TRUE(CodepointFlags(U'\U00020000') & kCpLetter);
  EXPECT_EQ(CodepointFlags(U'€') & (kCpLetter | kCpNumber | kCpWhitespace), 0u);
  EXPECT_EQ(CodepointFlags(U'\U0001F600') & (kCpLetter | kCpNumber), 0u);
}

TEST(UnicodeTest, CaseAndNormalisation) {
  EXPECT_EQ(ToLowerUtf8("ÉTÉ Arrêté"), "été arrêté");
  EXPECT_EQ(ToLowerUtf8("ABC"), "abc");
  const std::string decomposed = "e\xCC\x81";  // e + U+0301
  EXPECT_EQ(NormalizeNfc(decomposed), "é");
  EXPECT_EQ(NormalizeNfd("é"), decomposed);
  EXPECT_TRUE(IsNfc("été"));
  EXPECT_FALSE(IsNfc(decomposed));
  EXPECT_TRUE(IsNfc("plain ascii"));
  EXPECT_FALSE(IsNfc("\xFF"));
}

}  // namespace
}  // namespace greffier::generate
