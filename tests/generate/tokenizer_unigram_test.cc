// Unigram (SentencePiece "t5") tokenizer on hand-made vocabularies.

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "generate/tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace greffier::generate {
namespace {

using ::testing::ElementsAre;

constexpr int kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4;

struct Piece {
  std::string text;
  float score;
  int type = kNormal;
};

TokenizerVocab UnigramVocab(const std::vector<Piece>& pieces) {
  TokenizerVocab v;
  v.model = "t5";
  for (const Piece& p : std::vector<Piece>{{"<s>", 0, kControl},
                                           {"<pad>", 0, kControl},
                                           {"</s>", 0, kControl},
                                           {"<unk>", 0, kUnknown}}) {
    v.tokens.push_back(p.text);
    v.scores.push_back(p.score);
    v.token_types.push_back(p.type);
  }
  for (const Piece& p : pieces) {
    v.tokens.push_back(p.text);
    v.scores.push_back(p.score);
    v.token_types.push_back(p.type);
  }
  v.bos_id = 0;
  v.padding_id = 1;
  v.eos_id = 2;
  v.unknown_id = 3;
  return v;
}

std::unique_ptr<Tokenizer> Make(TokenizerVocab v) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Tokenizer::FromVocab(std::move(v));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : nullptr;
}

int32_t Id(const Tokenizer& t, std::string_view text) { return t.TokenId(text).value_or(-1); }

const std::vector<Piece> kPieces = {
    {"▁", -2}, {"▁he", -1},    {"llo", -1}, {"▁hello", -5}, {"h", -3}, {"e", -3}, {"l", -3},
    {"o", -3}, {"▁world", -2}, {"a", -3},   {"▁été", -2},   {"é", -3}, {"t", -3},
};

TEST(UnigramTokenizerTest, ViterbiPicksTheBestSegmentation) {
  auto t = Make(UnigramVocab(kPieces));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->kind(), TokenizerKind::kUnigram);
  // ▁he + llo (-2) beats ▁hello (-5).
  EXPECT_THAT(t->Encode("hello", false), ElementsAre(Id(*t, "▁he"), Id(*t, "llo")));
  std::vector<Piece> pieces = kPieces;
  pieces[3].score = -1.5f;
  auto u = Make(UnigramVocab(pieces));
  EXPECT_THAT(u->Encode("hello", false), ElementsAre(Id(*u, "▁hello")));
}

TEST(UnigramTokenizerTest, WhitespaceIsCollapsedAndEosAdded) {
  auto t = Make(UnigramVocab(kPieces));
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->add_bos());
  EXPECT_TRUE(t->add_eos());
  const std::vector<int32_t> ids = t->Encode("hello world");
  EXPECT_THAT(ids, ElementsAre(Id(*t, "▁he"), Id(*t, "llo"), Id(*t, "▁world"), 2));
  EXPECT_EQ(t->Encode("  hello    world  "), ids);
  EXPECT_EQ(t->Decode(ids), "hello world");
  EXPECT_EQ(t->Decode(t->Encode("été")), "été");
  EXPECT_TRUE(t->Encode("   ", false).empty());
}

TEST(UnigramTokenizerTest, UnknownCharactersFuseIntoOneToken) {
  auto t = Make(UnigramVocab(kPieces));
  ASSERT_NE(t, nullptr);
  // "ZZ€" has no piece: one <unk> for the run.
  EXPECT_THAT(t->Encode("hello ZZ€", false),
              ElementsAre(Id(*t, "▁he"), Id(*t, "llo"), Id(*t, "▁"), 3));
  // Invalid bytes become U+FFFD, then unknown; never a crash.
  EXPECT_THAT(t->Encode("a\xFF\xFE", false), ElementsAre(Id(*t, "▁"), Id(*t, "a"), 3));
}

TEST(UnigramTokenizerTest, SpecialAndUserDefinedTokens) {
  std::vector<Piece> pieces = kPieces;
  pieces.push_back({"<mask>", 0, kUserDefined});
  auto t = Make(UnigramVocab(pieces));
  ASSERT_NE(t, nullptr);
  const int32_t mask = Id(*t, "<mask>");
  EXPECT_THAT(t->Encode("hello<mask>", false), ElementsAre(Id(*t, "▁he"), Id(*t, "llo"), mask));
  EXPECT_THAT(t->Encode("</s>hello", false, true), ElementsAre(2, Id(*t, "▁he"), Id(*t, "llo")));
}

// A precompiled charsmap in darts-clone double-array form mapping "A" to "a"
// and "é" (C3 A9) to "e": units are (label | has_leaf << 8 | offset << 10);
// a leaf's value is an offset into the NUL-terminated strings.
std::string TinyCharsMap() {
  std::vector<uint32_t> units(256, 0);
  units[0] = 1u << 10;                              // root, offset 1
  units[1 ^ 0x41] = 0x41 | (1u << 8) | (1u << 10);  // 'A', leaf
  units[(1 ^ 0x41) ^ 1] = 0;                        // value: "a"
  units[1 ^ 0xC3] = 0xC3 | (1u << 10);              // C3
  const uint32_t a9 = ((1 ^ 0xC3) ^ 1) ^ 0xA9;
  units[a9] = 0xA9 | (1u << 8) | (1u << 10);  // A9, leaf
  units[a9 ^ 1] = 2;                          // value: "e"
  std::string blob(4, '\0');
  const uint32_t bytes = static_cast<uint32_t>(units.size() * 4);
  std::memcpy(blob.data(), &bytes, 4);
  blob.append(reinterpret_cast<const char*>(units.data()), bytes);
  blob.append("a\0e\0", 4);
  return blob;
}

TEST(UnigramTokenizerTest, PrecompiledCharsMapNormalises) {
  TokenizerVocab v = UnigramVocab(kPieces);
  v.tokens.push_back("▁ete");
  v.scores.push_back(-1);
  v.token_types.push_back(kNormal);
  v.precompiled_charsmap = TinyCharsMap();
  auto t = Make(v);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Encode("A", false), t->Encode("a", false));
  EXPECT_THAT(t->Encode("été", false), ElementsAre(Id(*t, "▁ete")));
  // Unmapped characters pass through.
  EXPECT_THAT(t->Encode("hello", false), ElementsAre(Id(*t, "▁he"), Id(*t, "llo")));
}

TEST(UnigramTokenizerTest, CorruptCharsMapIsAnError) {
  TokenizerVocab v = UnigramVocab(kPieces);
  v.precompiled_charsmap = std::string(
      "\xFF\xFF\x00\x00"
      "abc",
      7);
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Tokenizer::FromVocab(v);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("charsmap"), std::string::npos);
  // A trie whose offsets point outside itself is only a non-match.
  v.precompiled_charsmap =
      std::string("\x08\x00\x00\x00", 4) + std::string("\xFF\xFF\xFF\x7F\x41\x01\x00\x00", 8);
  auto u = Make(v);
  ASSERT_NE(u, nullptr);
  EXPECT_FALSE(u->Encode("AAA hello", false).empty());
}

TEST(UnigramTokenizerTest, RandomCharsMapsAndTextNeverCrash) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 200; ++iter) {
    TokenizerVocab v = UnigramVocab(kPieces);
    const uint32_t units = rng() % 64;
    std::string blob(4, '\0');
    const uint32_t bytes = units * 4;
    std::memcpy(blob.data(), &bytes, 4);
    for (uint32_t i = 0; i < bytes + rng() % 16; ++i) {
      blob.push_back(static_cast<char>(rng() % 256));
    }
    v.precompiled_charsmap = blob;
    auto t = Make(v);
    ASSERT_NE(t, nullptr);
    std::string text;
    for (int i = 0; i < 30; ++i) text.push_back(static_cast<char>(rng() % 256));
    for (int32_t id : t->Encode(text, true, true)) {
      ASSERT_GE(id, 0);
      ASSERT_LT(id, t->vocab_size());
    }
  }
}

}  // namespace
}  // namespace greffier::generate
