// Real tokenizers (vocab-only GGUF files) against the ids that the models'
// reference tokenizers give for 46 test strings each (../shared/models/vocab).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "generate/gguf.h"
#include "generate/tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_util.h"

namespace greffier::generate {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<Case> LoadCases(const std::filesystem::path& gguf) {
  const std::string inp = ReadFile(gguf.string() + ".inp");
  const std::string outp = ReadFile(gguf.string() + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<Case> cases;
  size_t pos = 0;
  while (true) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) break;
    cases.push_back({inp.substr(pos, next - pos), {}});
    pos = next + sep.size();
  }
  std::istringstream lines(outp);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line) && i < cases.size()) {
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) cases[i].ids.push_back(id);
    ++i;
  }
  EXPECT_EQ(i, cases.size()) << "test vector count mismatch for " << gguf;
  return cases;
}

std::unique_ptr<Tokenizer> Load(const std::filesystem::path& path) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = Tokenizer::FromGguf(**file);
  EXPECT_TRUE(tok.ok()) << tok.status();
  if (!tok.ok()) return nullptr;
  return *std::move(tok);
}

std::string Show(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

class VocabTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabTest, MatchesReferenceIdsAndRoundTrips) {
  const std::string rel = std::string("models/vocab/") + GetParam();
  GREFFIER_REQUIRE_SHARED(rel);
  const auto path = greffier::testing::SharedDir() / rel;
  std::unique_ptr<Tokenizer> tok = Load(path);
  ASSERT_NE(tok, nullptr);
  const std::vector<Case> cases = LoadCases(path);
  ASSERT_EQ(cases.size(), 46u);
  const bool lossless = tok->kind() != TokenizerKind::kWordPiece;
  int exact = 0;
  for (const Case& c : cases) {
    const std::vector<int32_t> ids = tok->Encode(c.text, false, false);
    EXPECT_EQ(ids, c.ids) << "text: '" << Show(c.text) << "'";
    exact += ids == c.ids;
    if (lossless) {
      EXPECT_EQ(tok->Decode(c.ids), c.text) << "ids of '" << Show(c.text) << "'";
      // Token-by-token streaming gives the same text.
      StreamingDecoder dec(*tok);
      std::string streamed;
      for (int32_t id : c.ids) streamed += dec.Push(id);
      streamed += dec.Flush();
      EXPECT_EQ(streamed, c.text);
    }
  }
  EXPECT_EQ(exact, 46);
}

// Random byte strings (mostly invalid UTF-8) never crash the tokenizer and,
// for the lossless ones, decode back to the same bytes.
TEST_P(VocabTest, RandomBytesRoundTrip) {
  const std::string rel = std::string("models/vocab/") + GetParam();
  GREFFIER_REQUIRE_SHARED(rel);
  std::unique_ptr<Tokenizer> tok = Load(greffier::testing::SharedDir() / rel);
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(1234);
  const std::string alphabet = "aé €\n\t'<|>s0";
  for (int iter = 0; iter < 300; ++iter) {
    std::string s;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) {
      if (rng() % 2 == 0) {
        s.push_back(static_cast<char>(rng() % 256));
      } else {
        s.push_back(alphabet[rng() % alphabet.size()]);
      }
    }
    const std::vector<int32_t> ids = tok->Encode(s, true, iter % 2 == 0);
    for (int32_t id : ids) {
      ASSERT_GE(id, 0);
      ASSERT_LT(id, tok->vocab_size());
    }
    if (tok->kind() != TokenizerKind::kWordPiece) {
      EXPECT_EQ(tok->Decode(tok->Encode(s, false, false)), s);
    }
  }
}

// A 4 KB French administrative passage: well under a millisecond or so.
TEST_P(VocabTest, FrenchPassageSpeed) {
  const std::string rel = std::string("models/vocab/") + GetParam();
  GREFFIER_REQUIRE_SHARED(rel);
  std::unique_ptr<Tokenizer> tok = Load(greffier::testing::SharedDir() / rel);
  ASSERT_NE(tok, nullptr);
  const std::string paragraph =
      "Article L. 2121-29 du code général des collectivités territoriales : "
      "le conseil municipal règle par ses délibérations les affaires de la "
      "commune. Vu l'arrêté préfectoral n° 2023-117 du 14 février 2023, "
      "considérant qu'il appartient au maire d'assurer la sécurité publique, "
      "la délibération est adoptée à l'unanimité des suffrages exprimés. "
      "Les crédits nécessaires (12 450,75 €) sont inscrits au budget primitif "
      "; "
      "« Ça coûte cher », a déclaré l'élu, qui s'est abstenu.\n\n";
  std::string text;
  while (text.size() < 4096) text += paragraph;
  const std::vector<int32_t> ids = tok->Encode(text, false);
  if (tok->kind() != TokenizerKind::kWordPiece) {
    EXPECT_EQ(tok->Decode(ids), text);
  }
  constexpr int kRuns = 20;
  const auto start = std::chrono::steady_clock::now();
  size_t total = 0;
  for (int i = 0; i < kRuns; ++i) total += tok->Encode(text, false).size();
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
      kRuns;
  EXPECT_EQ(total, ids.size() * kRuns);
  std::cout << GetParam() << ": " << text.size() << " bytes -> " << ids.size() << " tokens in "
            << us << " us\n";
  // Generous bound (sanitizer builds, busy machines): catches pathologies.
  EXPECT_LT(us, 20000.0);
}

INSTANTIATE_TEST_SUITE_P(SharedVocabs, VocabTest,
                         ::testing::Values("ggml-vocab-llama-spm.gguf", "ggml-vocab-llama3.gguf",
                                           "ggml-vocab-qwen.gguf", "ggml-vocab-gpt-2.gguf",
                                           "ggml-vocab-bert-bge.gguf"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           name = name.substr(std::string("ggml-vocab-").size());
                           name = name.substr(0, name.find(".gguf"));
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace greffier::generate
