// Tokenizers on hand-made vocabularies: merge order, byte fallback, special
// tokens, UTF-8 edge cases, streaming, errors, and loading from GGUF bytes.

#include "generate/tokenizer.h"

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "generate/gguf.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace greffier::generate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6;

std::string Hex2(int b) {
  const char* d = "0123456789ABCDEF";
  return std::string("<0x") + d[b >> 4] + d[b & 15] + ">";
}

// SentencePiece-style vocabulary: <unk> <s> </s>, 256 byte tokens, then the
// given pieces with their scores.
TokenizerVocab SpmVocab(const std::vector<std::pair<std::string, float>>& pieces) {
  TokenizerVocab v;
  v.model = "llama";
  auto add = [&](std::string t, float score, int type) {
    v.tokens.push_back(std::move(t));
    v.scores.push_back(score);
    v.token_types.push_back(type);
  };
  add("<unk>", 0, kUnknown);
  add("<s>", 0, kControl);
  add("</s>", 0, kControl);
  for (int b = 0; b < 256; ++b) add(Hex2(b), 0, kByte);
  for (const auto& [text, score] : pieces) add(text, score, kNormal);
  v.unknown_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  return v;
}

std::unique_ptr<Tokenizer> Make(TokenizerVocab v) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Tokenizer::FromVocab(std::move(v));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : nullptr;
}

int32_t Id(const Tokenizer& t, std::string_view text) {
  std::optional<int32_t> id = t.TokenId(text);
  EXPECT_TRUE(id.has_value()) << text;
  return id.value_or(-1);
}

std::string Stream(const Tokenizer& t, const std::vector<int32_t>& ids,
                   std::vector<std::string>* chunks = nullptr) {
  StreamingDecoder dec(t);
  std::string out;
  for (int32_t id : ids) {
    std::string c = dec.Push(id);
    if (chunks != nullptr) chunks->push_back(c);
    out += c;
  }
  return out + dec.Flush();
}

const char kSp[] = "\xE2\x96\x81";  // U+2581

TEST(SpmTokenizerTest, HigherScoreMergesFirst) {
  // "abc": ab (-1) and bc (-0.5) compete; the higher score wins.
  auto t = Make(SpmVocab({{kSp, -3}, {"a", -3}, {"b", -3}, {"c", -3}, {"ab", -1}, {"bc", -0.5}}));
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Encode("abc", false), ElementsAre(Id(*t, kSp), Id(*t, "a"), Id(*t, "bc")));
  auto u =
      Make(SpmVocab({{kSp, -3}, {"a", -3}, {"b", -3}, {"c", -3}, {"ab", -0.1f}, {"bc", -0.5}}));
  EXPECT_THAT(u->Encode("abc", false), ElementsAre(Id(*u, kSp), Id(*u, "ab"), Id(*u, "c")));
}

TEST(SpmTokenizerTest, SpacesBOSAndRoundTrip) {
  const std::string sp_ete = std::string(kSp) + "été";
  auto t = Make(SpmVocab({{kSp, -5},
                          {"é", -4},
                          {"t", -4},
                          {"ét", -3},
                          {std::string(kSp) + "é", -3},
                          {std::string(kSp) + "ét", -2},
                          {sp_ete, -1},
                          {"a", -4},
                          {std::string(kSp) + "a", -2}}));
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->add_bos());
  EXPECT_FALSE(t->add_eos());
  const std::vector<int32_t> ids = t->Encode("été a");
  EXPECT_THAT(ids, ElementsAre(1, Id(*t, sp_ete), Id(*t, std::string(kSp) + "a")));
  EXPECT_EQ(t->Decode(ids), "été a");
  EXPECT_EQ(t->Decode(ids, /*render_special=*/true), "<s>été a");
  // Leading spaces survive (only the dummy prefix is removed).
  for (const std::string s : {" a", "  été  ", "a\n\ta", ""}) {
    EXPECT_EQ(t->Decode(t->Encode(s)), s);
  }
  EXPECT_THAT(t->Encode("", true), ElementsAre(1));
  EXPECT_TRUE(t->Encode("", false).empty());
}

TEST(SpmTokenizerTest, ByteFallbackForUnknownCharacters) {
  auto t = Make(SpmVocab({{kSp, -1}, {"a", -1}}));
  ASSERT_NE(t, nullptr);
  // € is E2 82 AC; 😀 is F0 9F 98 80.
  EXPECT_THAT(t->Encode("€a", false),
              ElementsAre(Id(*t, kSp), 3 + 0xE2, 3 + 0x82, 3 + 0xAC, Id(*t, "a")));
  for (const std::string s : {"€a", "😀 🇫🇷", "Ça coûte 5 €."}) {
    const std::vector<int32_t> ids = t->Encode(s, false);
    EXPECT_EQ(t->Decode(ids), s);
    EXPECT_EQ(Stream(*t, ids), s);
  }
}

TEST(SpmTokenizerTest, InvalidUtf8RoundTripsThroughByteTokens) {
  auto t = Make(SpmVocab({{kSp, -1}, {"a", -1}}));
  ASSERT_NE(t, nullptr);
  const std::string bad = "a\xFF\xC3(\xE2\x82";
  const std::vector<int32_t> ids = t->Encode(bad, false);
  EXPECT_EQ(t->Decode(ids), bad);
  EXPECT_EQ(Stream(*t, ids), bad);
}

TEST(SpmTokenizerTest, UnknownTokenWithoutByteTokens) {
  TokenizerVocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>", kSp, "a"};
  v.token_types = {kUnknown, kControl, kControl, kNormal, kNormal};
  v.unknown_id = 0;
  v.bos_id = 1;
  auto t = Make(v);
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Encode("a€a", false), ElementsAre(3, 4, 0, 4));
}

TEST(SpmTokenizerTest, SpecialTokensParsedOnlyWhenAsked) {
  auto t = Make(SpmVocab({{kSp, -1}, {"a", -1}, {std::string(kSp) + "a", 0}}));
  ASSERT_NE(t, nullptr);
  const int32_t sp_a = Id(*t, std::string(kSp) + "a");
  // Parsed: "<s>" is BOS and the dummy space is added after it.
  EXPECT_THAT(t->Encode("a</s><s>a", false, true), ElementsAre(sp_a, 2, 1, sp_a));
  // Not parsed: the text is bytes, never the control token.
  const std::vector<int32_t> plain = t->Encode("a</s>", false, false);
  EXPECT_THAT(plain, ::testing::Not(::testing::Contains(2)));
  EXPECT_EQ(t->Decode(plain), "a</s>");
  EXPECT_TRUE(t->IsEog(2));
  EXPECT_FALSE(t->IsEog(sp_a));
}

TEST(SpmTokenizerTest, StreamingHoldsSplitCharacters) {
  auto t = Make(SpmVocab({{kSp, -1}}));
  ASSERT_NE(t, nullptr);
  std::vector<std::string> chunks;
  // "▁" then the bytes of €.
  const std::string text = Stream(*t, {Id(*t, kSp), 3 + 0xE2, 3 + 0x82, 3 + 0xAC}, &chunks);
  EXPECT_EQ(text, "€");  // the dummy-prefix space is removed
  EXPECT_THAT(chunks, ElementsAre("", "", "", "€"));
  // An invalid byte is not held back forever.
  chunks.clear();
  Stream(*t, {3 + 0xFF, 3 + 'x'}, &chunks);
  EXPECT_THAT(chunks, ElementsAre("\xFF", "x"));
}

// Byte-level BPE vocabulary: the 256 single-byte tokens (GPT-2 mapped) in
// byte order (so a byte's id is its value), then merges in rank order, then
// specials.
TokenizerVocab BpeVocab(const std::vector<std::string>& merges, std::string pre = "gpt-2") {
  TokenizerVocab v;
  v.model = "gpt2";
  v.pre = std::move(pre);
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable =
        (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const char32_t cp = printable ? b : next++;
    std::string s;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    v.tokens.push_back(s);
  }
  for (const std::string& m : merges) {
    const size_t sp = m.find(' ');
    v.tokens.push_back(m.substr(0, sp) + m.substr(sp + 1));
    v.merges.push_back(m);
  }
  v.token_types.assign(v.tokens.size(), kNormal);
  v.tokens.push_back("<|endoftext|>");
  v.token_types.push_back(kControl);
  v.tokens.push_back("<think>");
  v.token_types.push_back(kUserDefined);
  v.eos_id = static_cast<int32_t>(v.tokens.size()) - 2;
  return v;
}

TEST(BpeTokenizerTest, LowestRankMergesFirst) {
  auto t = Make(BpeVocab({"l o", "h e", "l l"}));
  ASSERT_NE(t, nullptr);
  // h e l l o: "l o" (rank 0) beats "l l" (rank 2).
  EXPECT_THAT(t->Encode("hello", false), ElementsAre(Id(*t, "he"), 'l', Id(*t, "lo")));
  auto u = Make(BpeVocab({"l l", "h e", "he ll", "hell o"}));
  EXPECT_THAT(u->Encode("hello", false), ElementsAre(Id(*u, "hello")));
  EXPECT_FALSE(u->add_bos());
}

TEST(BpeTokenizerTest, SpacesAccentsAndEmojiRoundTrip) {
  // "Ġ" is the space, "Ã©" is é (C3 A9).
  auto t = Make(BpeVocab({"Ã ©", "Ġ Ã©", "ĠÃ© t", "ĠÃ©t Ã©"}));
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Encode("l'été", false), ElementsAre('l', '\'', Id(*t, "Ã©"), 't', Id(*t, "Ã©")));
  EXPECT_THAT(t->Encode(" été", false), ElementsAre(Id(*t, "ĠÃ©tÃ©")));
  for (const std::string s :
       {"l'été", " Ça coûte 5 €.\n\n", "👍🏽 emoji ‍ zwj", "日本語", "\t  x  "}) {
    const std::vector<int32_t> ids = t->Encode(s, false);
    EXPECT_EQ(t->Decode(ids), s);
    EXPECT_EQ(Stream(*t, ids), s);
  }
}

TEST(BpeTokenizerTest, InvalidUtf8RoundTrips) {
  for (std::string pre : {"gpt-2", "llama-bpe", "qwen2"}) {
    auto t = Make(BpeVocab({"Ã ©"}, pre));
    ASSERT_NE(t, nullptr);
    const std::string bad = "a\xFF\xC3(\xE2\x82 \xED\xA0\x80z\xC3";
    const std::vector<int32_t> ids = t->Encode(bad, false);
    EXPECT_EQ(ids.size(), bad.size()) << pre;  // one token per byte here
    EXPECT_EQ(t->Decode(ids), bad) << pre;
    EXPECT_EQ(Stream(*t, ids), bad) << pre;
  }
}

TEST(BpeTokenizerTest, QwenNormalisesToNfc) {
  auto t = Make(BpeVocab({"Ã ©"}, "qwen2"));
  ASSERT_NE(t, nullptr);
  // e + combining acute becomes the precomposed é (one merged token).
  EXPECT_THAT(t->Encode("e\xCC\x81", false), ElementsAre(Id(*t, "Ã©")));
  // GPT-2 keeps the bytes as they are.
  auto g = Make(BpeVocab({"Ã ©"}, "gpt-2"));
  EXPECT_EQ(g->Encode("e\xCC\x81", false).size(), 3u);
}

TEST(BpeTokenizerTest, SpecialAndUserDefinedTokens) {
  auto t = Make(BpeVocab({"h i"}));
  ASSERT_NE(t, nullptr);
  const int32_t eot = Id(*t, "<|endoftext|>");
  const int32_t think = Id(*t, "<think>");
  const int32_t hi = Id(*t, "hi");
  EXPECT_THAT(t->Encode("hi<|endoftext|>", false, true), ElementsAre(hi, eot));
  EXPECT_THAT(t->Encode("hi<|endoftext|>", false, false), ::testing::Not(::testing::Contains(eot)));
  // User-defined tokens are matched even without parse_special, and decoded.
  EXPECT_THAT(t->Encode("<think>hi", false, false), ElementsAre(think, hi));
  EXPECT_EQ(t->Decode(std::vector<int32_t>{think, hi, eot}), "<think>hi");
  EXPECT_EQ(t->Decode(std::vector<int32_t>{think, hi, eot}, true), "<think>hi<|endoftext|>");
  EXPECT_TRUE(t->IsEog(eot));
  EXPECT_EQ(t->TokenPiece(eot, false), "");
  EXPECT_EQ(t->TokenPiece(eot, true), "<|endoftext|>");
  EXPECT_EQ(t->TokenPiece(Id(*t, "Ġ")), " ");
  EXPECT_EQ(t->TokenPiece(-1), "");
  EXPECT_EQ(t->TokenPiece(1 << 30), "");
  EXPECT_EQ(t->Decode(std::vector<int32_t>{-5, hi, 1 << 30}),
            "hi");  // bad ids are skipped
}

TEST(BpeTokenizerTest, Llama3AddsBosByDefaultAndIgnoresMerges) {
  TokenizerVocab v = BpeVocab({"a b"}, "llama-bpe");
  // A whole-word token without a merge path: used as is by Llama 3.
  v.tokens.push_back("xyz");
  v.token_types.push_back(kNormal);
  v.tokens.push_back("<|begin_of_text|>");
  v.token_types.push_back(kControl);
  v.bos_id = static_cast<int32_t>(v.tokens.size()) - 1;
  auto t = Make(v);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->add_bos());
  EXPECT_THAT(t->Encode("xyz"), ElementsAre(t->bos_id(), Id(*t, "xyz")));
  v.pre = "gpt-2";
  auto g = Make(v);
  EXPECT_FALSE(g->add_bos());
  EXPECT_EQ(g->Encode("xyz", false).size(), 3u);
}

TokenizerVocab BertVocab() {
  TokenizerVocab v;
  v.model = "bert";
  v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
  v.token_types = {kControl, kControl, kControl, kControl};
  for (const char* w : {"▁hello", "▁un", "aff", "able", "▁ete", "▁,", "▁!", "▁中", "▁文", "▁l",
                        "▁'", "▁arrete", "ete"}) {
    v.tokens.push_back(w);
    v.token_types.push_back(kNormal);
  }
  v.unknown_id = 1;
  v.cls_id = 2;
  v.sep_id = 3;
  v.padding_id = 0;
  return v;
}

TEST(WordPieceTokenizerTest, BertNormalisationAndGreedyMatch) {
  auto t = Make(BertVocab());
  ASSERT_NE(t, nullptr);
  auto id = [&](std::string_view s) { return Id(*t, s); };
  EXPECT_THAT(
      t->Encode("Hello, unaffable ÉTÉ!", false),
      ElementsAre(id("▁hello"), id("▁,"), id("▁un"), id("aff"), id("able"), id("▁ete"), id("▁!")));
  // [CLS] ... [SEP]
  EXPECT_THAT(t->Encode("hello"), ElementsAre(2, id("▁hello"), 3));
  // French elision: the apostrophe is punctuation.
  EXPECT_THAT(t->Encode("L'arrêté", false), ElementsAre(id("▁l"), id("▁'"), id("▁arrete")));
  // CJK characters are words of their own; controls and ZWJ are dropped.
  EXPECT_THAT(t->Encode("中文\xE2\x80\x8D", false), ElementsAre(id("▁中"), id("▁文")));
  // A word with an unmatched rest is one [UNK].
  EXPECT_THAT(t->Encode("unx hello xyz", false), ElementsAre(1, id("▁hello"), 1));
  // Invalid bytes are dropped, never a crash.
  EXPECT_THAT(t->Encode("hel\xFFlo", false), ElementsAre(id("▁hello")));
  EXPECT_EQ(t->Decode(t->Encode("Hello, unaffable été!")), "hello , unaffable ete !");
}

TEST(WordPieceTokenizerTest, LongWordsAreUnknown) {
  auto t = Make(BertVocab());
  ASSERT_NE(t, nullptr);
  std::string longword = "un";
  for (int i = 0; i < 40; ++i) longword += "aff";
  EXPECT_THAT(t->Encode(longword, false), ElementsAre(1));
  EXPECT_EQ(t->Encode("unaffaff", false).size(), 3u);
}

TEST(TokenizerErrorsTest, BadVocabulariesAreRejected) {
  TokenizerVocab v = SpmVocab({{"a", 0}});
  v.scores.pop_back();
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Tokenizer::FromVocab(v);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("scores"));

  v = SpmVocab({{"a", 0}});
  v.bos_id = 100000;
  t = Tokenizer::FromVocab(v);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("BOS"));

  v = SpmVocab({{"a", 0}});
  v.model = "rwkv";
  t = Tokenizer::FromVocab(v);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(t.status().message(), HasSubstr("rwkv"));

  v = SpmVocab({{"a", 0}});
  v.token_types[5] = 42;
  EXPECT_FALSE(Tokenizer::FromVocab(v).ok());

  t = Tokenizer::FromVocab(BpeVocab({"a b"}, "tekken"));
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("tekken"));

  TokenizerVocab bad_merge = BpeVocab({"a b"});
  bad_merge.merges.push_back("nospace");
  EXPECT_FALSE(Tokenizer::FromVocab(bad_merge).ok());

  EXPECT_FALSE(Tokenizer::FromVocab(TokenizerVocab{}).ok());
}

// A GGUF v3 file with metadata only, written here byte by byte.
class GgufBuilder {
 public:
  void String(std::string_view key, std::string_view value) {
    Key(key, 8);
    Str(value);
  }
  void Uint32(std::string_view key, uint32_t value) {
    Key(key, 4);
    Raw(&value, 4);
  }
  void Bool(std::string_view key, bool value) {
    Key(key, 7);
    const uint8_t b = value;
    Raw(&b, 1);
  }
  void Strings(std::string_view key, const std::vector<std::string>& values) {
    Key(key, 9);
    ArrayHeader(8, values.size());
    for (const std::string& s : values) Str(s);
  }
  void Floats(std::string_view key, const std::vector<float>& values) {
    Key(key, 9);
    ArrayHeader(6, values.size());
    for (float f : values) Raw(&f, 4);
  }
  void Ints(std::string_view key, const std::vector<int32_t>& values) {
    Key(key, 9);
    ArrayHeader(5, values.size());
    for (int32_t i : values) Raw(&i, 4);
  }
  void Uint8s(std::string_view key, std::string_view bytes) {
    Key(key, 9);
    ArrayHeader(0, bytes.size());
    body_.append(bytes);
  }
  std::string Bytes() const {
    std::string out = "GGUF";
    const uint32_t version = 3;
    const uint64_t n_tensors = 0;
    out.append(reinterpret_cast<const char*>(&version), 4);
    out.append(reinterpret_cast<const char*>(&n_tensors), 8);
    out.append(reinterpret_cast<const char*>(&count_), 8);
    return out + body_;
  }

 private:
  void Raw(const void* p, size_t n) { body_.append(static_cast<const char*>(p), n); }
  void Str(std::string_view s) {
    const uint64_t n = s.size();
    Raw(&n, 8);
    body_.append(s);
  }
  void Key(std::string_view key, uint32_t type) {
    ++count_;
    Str(key);
    Raw(&type, 4);
  }
  void ArrayHeader(uint32_t type, uint64_t n) {
    Raw(&type, 4);
    Raw(&n, 8);
  }
  std::string body_;
  uint64_t count_ = 0;
};

TEST(TokenizerGgufTest, LoadsTokenizerMetadata) {
  const TokenizerVocab v = SpmVocab({{kSp, -2}, {"a", -2}, {"▁a", -1}});
  GgufBuilder b;
  b.String("general.architecture", "llama");
  b.String("tokenizer.ggml.model", "llama");
  b.Strings("tokenizer.ggml.tokens", v.tokens);
  b.Floats("tokenizer.ggml.scores", v.scores);
  b.Ints("tokenizer.ggml.token_type", v.token_types);
  b.Uint32("tokenizer.ggml.bos_token_id", 1);
  b.Uint32("tokenizer.ggml.eos_token_id", 2);
  b.Uint32("tokenizer.ggml.unknown_token_id", 0);
  b.Bool("tokenizer.ggml.add_bos_token", false);
  b.Bool("tokenizer.ggml.add_eos_token", true);
  b.String("tokenizer.chat_template", "{{ '<|im_start|>' }}");
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::OpenFromMemory(b.Bytes(), "tiny.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(t.ok()) << t.status();
  const Tokenizer& tok = **t;
  EXPECT_EQ(tok.kind(), TokenizerKind::kSentencePiece);
  EXPECT_EQ(tok.vocab_size(), static_cast<int32_t>(v.tokens.size()));
  EXPECT_FALSE(tok.add_bos());
  EXPECT_TRUE(tok.add_eos());
  EXPECT_EQ(tok.chat_template(), "{{ '<|im_start|>' }}");
  EXPECT_THAT(tok.Encode("a"), ElementsAre(Id(tok, "▁a"), 2));
}

TEST(TokenizerGgufTest, LoadsUnigramWithCharsMapAndWordPieceIds) {
  GgufBuilder b;
  b.String("tokenizer.ggml.model", "t5");
  b.Strings("tokenizer.ggml.tokens", {"<pad>", "</s>", "<unk>", "▁a", "▁"});
  b.Floats("tokenizer.ggml.scores", {0, 0, 0, -1, -2});
  b.Ints("tokenizer.ggml.token_type", {kControl, kControl, kUnknown, kNormal, kNormal});
  b.Uint32("tokenizer.ggml.eos_token_id", 1);
  b.Uint32("tokenizer.ggml.unknown_token_id", 2);
  // An empty trie (4-byte size 0) and no strings: valid, maps nothing.
  b.Uint8s("tokenizer.ggml.precompiled_charsmap", std::string(4, '\0'));
  b.Bool("tokenizer.ggml.remove_extra_whitespaces", false);
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::OpenFromMemory(b.Bytes(), "t5.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->kind(), TokenizerKind::kUnigram);
  EXPECT_EQ((*t)->vocab().precompiled_charsmap.size(), 4u);
  // Spaces are not collapsed: "a  a" keeps both.
  EXPECT_THAT((*t)->Encode("a  a"), ElementsAre(3, 4, 3, 1));

  GgufBuilder bert;
  bert.String("tokenizer.ggml.model", "bert");
  bert.Strings("tokenizer.ggml.tokens", {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "▁ok"});
  bert.Ints("tokenizer.ggml.token_type", {kControl, kControl, kControl, kControl, kNormal});
  bert.Uint32("tokenizer.ggml.cls_token_id", 2);
  bert.Uint32("tokenizer.ggml.seperator_token_id", 3);
  bert.Uint32("tokenizer.ggml.unknown_token_id", 1);
  file = GgufFile::OpenFromMemory(bert.Bytes(), "bert.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  t = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT((*t)->Encode("OK no"), ElementsAre(2, 4, 1, 3));
}

TEST(TokenizerThreadTest, ConcurrentEncodeAgrees) {
  auto t = Make(BpeVocab({"Ã ©", "Ġ Ã©", "l l", "h e"}, "llama-bpe"));
  ASSERT_NE(t, nullptr);
  const std::string text = "hello l'été, héllo ! 12345 \xF0\x9F\x91\x8D";
  const std::vector<int32_t> expected = t->Encode(text);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {
        if (t->Encode(text) != expected) ++mismatches;
        if (t->Decode(expected) != text) ++mismatches;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(TokenizerGgufTest, ErrorsNameTheFile) {
  GgufBuilder b;
  b.String("tokenizer.ggml.model", "llama");
  b.Strings("tokenizer.ggml.tokens", {"<unk>", "a"});
  b.Floats("tokenizer.ggml.scores", {0.0f});  // one short
  absl::StatusOr<std::unique_ptr<GgufFile>> file =
      GgufFile::OpenFromMemory(b.Bytes(), "short.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Tokenizer::FromGguf(**file);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("short.gguf"));
  EXPECT_THAT(t.status().message(), HasSubstr("scores"));

  GgufBuilder none;
  none.String("general.architecture", "llama");
  file = GgufFile::OpenFromMemory(none.Bytes(), "none.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  t = Tokenizer::FromGguf(**file);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("tokenizer.ggml.model"));
}

}  // namespace
}  // namespace greffier::generate
