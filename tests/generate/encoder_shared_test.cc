// The encoder's input side on a real BERT vocabulary: a random-weight bert model carrying the
// bge-small tokenizer (../shared/models/vocab/ggml-vocab-bert-bge.gguf) must feed the network
// [CLS] + the reference tokenizer's ids + [SEP] for each of the 46 test strings, and embed
// them all.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "generate/encoder.h"
#include "generate/model_maker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_util.h"

namespace greffier::generate {
namespace {

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(EncoderSharedTest, RealBertVocabularyFeedsReferenceIds) {
  GREFFIER_REQUIRE_SHARED("models/vocab/ggml-vocab-bert-bge.gguf");
  const std::filesystem::path vocab =
      greffier::testing::SharedDir() / "models/vocab/ggml-vocab-bert-bge.gguf";
  greffier::testing::ScratchDir dir;
  MakeModelOptions mo;
  mo.shape = BertTinyShape();
  mo.shape.n_ctx = 512;
  mo.type = "q8_0";
  mo.vocab_from = vocab.string();
  mo.name = "bge-small-en-v1.5 (random weights)";
  const std::string path = (dir.path() / "bge-random.gguf").string();
  absl::Status made = WriteRandomModel(mo, path);
  ASSERT_TRUE(made.ok()) << made;

  EncoderOptions eo;
  eo.model_path = path;
  eo.threads = 2;
  auto enc = GgufEncoder::Open(eo);
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_EQ((*enc)->config().n_vocab, 30522);
  EXPECT_EQ((*enc)->query_prefix(), "");  // bge needs no prefix by default
  const Tokenizer& tok = (*enc)->tokenizer();
  EXPECT_EQ(tok.TokenText(tok.bos_id()), "[CLS]");
  EXPECT_EQ(tok.TokenText(tok.eos_id()), "[SEP]");

  const std::string inp = ReadAll(vocab.string() + ".inp");
  std::istringstream out(ReadAll(vocab.string() + ".out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0, n = 0;
  for (size_t next = inp.find(sep); next != std::string::npos; next = inp.find(sep, pos)) {
    const std::string text = inp.substr(pos, next - pos);
    pos = next + sep.size();
    std::string line;
    ASSERT_TRUE(std::getline(out, line));
    std::vector<int32_t> want = {tok.bos_id()};
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) want.push_back(id);
    want.push_back(tok.eos_id());
    ASSERT_LE(want.size(), 512u);
    EXPECT_EQ((*enc)->Tokenize(text, false), want) << "test string " << n;
    absl::StatusOr<std::vector<float>> v = (*enc)->Embed(text, false);
    ASSERT_TRUE(v.ok()) << v.status();
    double norm = 0;
    for (float a : *v) norm += static_cast<double>(a) * a;
    EXPECT_NEAR(norm, 1.0, 1e-5);
    ++n;
  }
  EXPECT_EQ(n, 46u);
}

}  // namespace
}  // namespace greffier::generate
