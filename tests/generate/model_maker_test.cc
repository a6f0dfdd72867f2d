#include "generate/model_maker.h"

#include <map>
#include <string>

#include "generate/gguf.h"
#include "generate/model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_util.h"

namespace greffier::generate {
namespace {

TEST(ModelMakerTest, PublishedShapes) {
  ModelShape t = TinyLlamaShape();
  EXPECT_EQ(t.n_embd, 2048);
  EXPECT_EQ(t.n_layer, 22);
  EXPECT_EQ(t.n_head, 32);
  EXPECT_EQ(t.n_head_kv, 4);
  EXPECT_EQ(t.n_ff, 5632);
  EXPECT_EQ(t.n_vocab, 32000);
  ModelShape q = Qwen2HalfBShape();
  EXPECT_EQ(q.n_embd, 896);
  EXPECT_EQ(q.n_layer, 24);
  EXPECT_EQ(q.n_head, 14);
  EXPECT_EQ(q.n_head_kv, 2);
  EXPECT_EQ(q.n_ff, 4864);
  EXPECT_EQ(q.n_vocab, 151936);
  EXPECT_TRUE(q.qkv_bias);
  EXPECT_FALSE(ShapeByName("gpt-5").ok());
}

TEST(ModelMakerTest, WritesLoadableModelsWithTokenizerMetadata) {
  greffier::testing::ScratchDir dir;
  for (std::string arch : {"llama", "qwen2"}) {
    MakeModelOptions o;
    o.shape = TinyShape(arch);
    o.type = "q4_0";
    std::string path = (dir.path() / (arch + ".gguf")).string();
    ASSERT_TRUE(WriteRandomModel(o, path).ok());
    auto m = Model::Open(path);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ((*m)->config().arch, arch);
    EXPECT_EQ((*m)->config().n_vocab, o.shape.n_vocab);
    const GgufFile& f = (*m)->gguf();
    auto tokens = f.GetStringArray("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.ok());
    EXPECT_EQ(static_cast<int>(tokens->size()), o.shape.n_vocab);
    EXPECT_TRUE(f.GetString("tokenizer.chat_template").ok());
    EXPECT_EQ(*f.GetString("tokenizer.ggml.model"), arch == "llama" ? "llama" : "gpt2");
    EXPECT_EQ(f.FindTensor("blk.0.attn_q.bias") != nullptr, arch == "qwen2");
    EXPECT_GE((*m)->eos_token(), 0);
  }
}

TEST(ModelMakerTest, Q4KMUsesTheQuantizerMixAndFallbacks) {
  MakeModelOptions o;
  o.shape = TinyShape("llama");
  o.shape.n_layer = 8;
  o.type = "q4_k_m";
  GgufWriter w;
  ASSERT_TRUE(BuildRandomModel(o, &w).ok());
  auto bytes = w.Serialize();
  auto f = GgufFile::OpenFromMemory(*bytes);
  ASSERT_TRUE(f.ok());
  auto type_of = [&](const std::string& n) { return (*f)->FindTensor(n)->type; };
  EXPECT_EQ(type_of("output.weight"), GgmlType::kQ6_K);
  EXPECT_EQ(type_of("blk.0.attn_q.weight"), GgmlType::kQ4_K);
  EXPECT_EQ(type_of("blk.0.attn_v.weight"), GgmlType::kQ6_K);  // first 1/8
  EXPECT_EQ(type_of("blk.1.attn_v.weight"), GgmlType::kQ4_K);
  EXPECT_EQ(type_of("blk.7.ffn_down.weight"), GgmlType::kQ6_K);  // last 1/8
  EXPECT_EQ(type_of("blk.0.attn_norm.weight"), GgmlType::kF32);
  // 896-wide rows (Qwen2-0.5B) cannot hold 256-element super-blocks.
  MakeModelOptions q;
  q.shape = TinyShape("qwen2");
  q.shape.n_embd = 96;
  q.shape.n_head = 2;
  q.shape.n_head_kv = 1;
  q.shape.n_ff = 256;
  q.type = "q4_k_m";
  GgufWriter wq;
  ASSERT_TRUE(BuildRandomModel(q, &wq).ok());
  auto qb = wq.Serialize();
  auto fq = GgufFile::OpenFromMemory(*qb);
  ASSERT_TRUE(fq.ok());
  EXPECT_EQ((*fq)->FindTensor("blk.0.ffn_up.weight")->type, GgmlType::kQ5_0);
  EXPECT_EQ((*fq)->FindTensor("token_embd.weight")->type, GgmlType::kQ8_0);
  // 2 layers: layer 1 is in the last eighth, so it gets more bits.
  EXPECT_EQ((*fq)->FindTensor("blk.1.ffn_down.weight")->type, GgmlType::kQ6_K);
  EXPECT_EQ((*fq)->FindTensor("blk.0.ffn_down.weight")->type, GgmlType::kQ4_K);
  EXPECT_TRUE(Model::FromGguf(std::move(*fq)).ok());
}

TEST(ModelMakerTest, RejectsUnknownTypeAndArchitecture) {
  MakeModelOptions o;
  o.shape = TinyShape("llama");
  o.type = "q3_k_xl";
  GgufWriter w;
  absl::Status s = BuildRandomModel(o, &w);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("q3_k_xl"));
  o.type = "f16";
  o.shape.arch = "falcon";
  GgufWriter w2;
  EXPECT_FALSE(BuildRandomModel(o, &w2).ok());
}

}  // namespace
}  // namespace greffier::generate
