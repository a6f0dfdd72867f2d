#include "generate/gguf.h"

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "generate/gguf_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_util.h"

namespace greffier::generate {
namespace {

using ::testing::HasSubstr;

std::string F32Bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

std::string SmallFile(uint32_t version = 3) {
  GgufWriter w(version);
  w.SetString("general.architecture", "llama");
  w.SetUint32("llama.block_count", 3);
  w.SetFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.SetBool("flag", true);
  w.SetInt32("neg", -4);
  w.SetStringArray("tokenizer.ggml.tokens", {"<unk>", "a", "été"});
  w.SetFloatArray("tokenizer.ggml.scores", {0.f, -1.5f, 2.f});
  w.SetInt32Array("tokenizer.ggml.token_type", {2, 1, 1});
  EXPECT_TRUE(w.AddTensor("t0", GgmlType::kF32, {4, 2}, F32Bytes({1, 2, 3, 4, 5, 6, 7, 8})).ok());
  EXPECT_TRUE(w.AddTensor("t1", GgmlType::kF32, {3}, F32Bytes({9, 10, 11})).ok());
  auto bytes = w.Serialize();
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

TEST(GgufTest, RoundTripMetadataAndTensors) {
  for (uint32_t version : {2u, 3u}) {
    auto f = GgufFile::OpenFromMemory(SmallFile(version), "small.gguf");
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ((*f)->version(), version);
    EXPECT_EQ(*(*f)->GetString("general.architecture"), "llama");
    EXPECT_EQ(*(*f)->GetUint("llama.block_count"), 3u);
    EXPECT_FLOAT_EQ(*(*f)->GetFloat("llama.attention.layer_norm_rms_epsilon"), 1e-5f);
    EXPECT_TRUE(*(*f)->GetBool("flag"));
    EXPECT_EQ(*(*f)->GetInt("neg"), -4);
    EXPECT_FALSE((*f)->GetUint("neg").ok());
    EXPECT_THAT(*(*f)->GetStringArray("tokenizer.ggml.tokens"),
                ::testing::ElementsAre("<unk>", "a", "été"));
    EXPECT_THAT(*(*f)->GetFloatArray("tokenizer.ggml.scores"),
                ::testing::ElementsAre(0.f, -1.5f, 2.f));
    EXPECT_THAT(*(*f)->GetIntArray("tokenizer.ggml.token_type"), ::testing::ElementsAre(2, 1, 1));
    EXPECT_EQ(*(*f)->GetUintOr("absent", 7), 7u);
    auto missing = (*f)->GetString("absent");
    EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
    auto wrong = (*f)->GetString("llama.block_count");
    EXPECT_THAT(wrong.status().message(), HasSubstr("llama.block_count"));
    EXPECT_THAT(wrong.status().message(), HasSubstr("small.gguf"));

    ASSERT_EQ((*f)->tensors().size(), 2u);
    const GgufTensorInfo* t0 = (*f)->FindTensor("t0");
    ASSERT_NE(t0, nullptr);
    EXPECT_EQ(t0->ne[0], 4u);
    EXPECT_EQ(t0->ne[1], 2u);
    EXPECT_EQ(t0->n_elements, 8u);
    const float* d0 = reinterpret_cast<const float*>((*f)->TensorData(*t0));
    EXPECT_EQ(d0[7], 8.f);
    const GgufTensorInfo* t1 = (*f)->FindTensor("t1");
    ASSERT_NE(t1, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*f)->TensorData(*t1)) % 32, 0u);
    EXPECT_EQ(reinterpret_cast<const float*>((*f)->TensorData(*t1))[2], 11.f);
    EXPECT_EQ((*f)->FindTensor("nope"), nullptr);
  }
}

TEST(GgufTest, OpenFromDiskMapsFile) {
  greffier::testing::ScratchDir dir;
  std::string path = (dir.path() / "m.gguf").string();
  GgufWriter w;
  w.SetString("k", "v");
  ASSERT_TRUE(w.AddTensor("x", GgmlType::kF32, {2}, F32Bytes({1, 2})).ok());
  ASSERT_TRUE(w.WriteFile(path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*(*f)->GetString("k"), "v");
  EXPECT_EQ(reinterpret_cast<const float*>((*f)->TensorData(*(*f)->FindTensor("x")))[1], 2.f);
  auto absent = GgufFile::Open((dir.path() / "absent.gguf").string());
  EXPECT_FALSE(absent.ok());
  EXPECT_THAT(absent.status().message(), HasSubstr("absent.gguf"));
}

TEST(GgufTest, EveryTruncationIsAnErrorNotACrash) {
  std::string full = SmallFile();
  for (size_t n = 0; n < full.size(); ++n) {
    auto f = GgufFile::OpenFromMemory(full.substr(0, n), "cut.gguf");
    // The last tensor ends before the final padding; shorter files must fail
    // once a tensor's bytes are missing.
    if (f.ok()) {
      for (const auto& t : (*f)->tensors()) {
        EXPECT_LE(t.offset + t.size_bytes + (full.size() - (*f)->file_size()), full.size());
      }
    } else {
      EXPECT_THAT(f.status().message(), HasSubstr("cut.gguf"));
    }
  }
  EXPECT_FALSE(GgufFile::OpenFromMemory(full.substr(0, full.size() - 40)).ok());
}

TEST(GgufTest, WrongMagicAndVersion) {
  std::string full = SmallFile();
  std::string bad = full;
  bad[0] = 'X';
  auto f = GgufFile::OpenFromMemory(bad, "bad.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("magic"));
  bad = full;
  bad[4] = 9;
  f = GgufFile::OpenFromMemory(bad, "bad.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("version 9"));
}

// Patches the first occurrence of `needle` (a tensor name) and the uint64
// dimension that follows its n_dims field.
size_t FindName(const std::string& bytes, const std::string& name) {
  size_t p = bytes.find(name + std::string("\x01\x00\x00\x00", 4));
  if (p == std::string::npos) p = bytes.find(name + std::string("\x02\x00\x00\x00", 4));
  return p;
}

TEST(GgufTest, AbsurdSizesAndOffsetsAreRejected) {
  std::string full = SmallFile();
  size_t p = FindName(full, "t1");
  ASSERT_NE(p, std::string::npos);
  size_t dim = p + 2 + 4;
  // Absurd dimension.
  std::string bad = full;
  uint64_t huge = 1ull << 62;
  std::memcpy(&bad[dim], &huge, 8);
  auto f = GgufFile::OpenFromMemory(bad, "bad.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("t1"));
  // Dimension that overflows the data section.
  bad = full;
  uint64_t big = 1000;
  std::memcpy(&bad[dim], &big, 8);
  f = GgufFile::OpenFromMemory(bad, "bad.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("past the end"));
  // Offset past the end.
  bad = full;
  size_t off = dim + 8 + 4;
  uint64_t far = 1ull << 40;
  std::memcpy(&bad[off], &far, 8);
  f = GgufFile::OpenFromMemory(bad, "bad.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("t1"));
  // Misaligned offset.
  bad = full;
  uint64_t odd = 3;
  std::memcpy(&bad[off], &odd, 8);
  f = GgufFile::OpenFromMemory(bad, "bad.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("aligned"));
  // Unknown tensor type.
  bad = full;
  uint32_t type = 99;
  std::memcpy(&bad[dim + 8], &type, 4);
  f = GgufFile::OpenFromMemory(bad, "bad.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("unknown tensor type 99"));
  // Absurd tensor count in the header.
  bad = full;
  std::memcpy(&bad[8], &huge, 8);
  EXPECT_FALSE(GgufFile::OpenFromMemory(bad).ok());
  // Absurd string-array length.
  bad = full;
  size_t arr = bad.find("tokenizer.ggml.tokens") + 21 + 4 + 4;
  std::memcpy(&bad[arr], &huge, 8);
  f = GgufFile::OpenFromMemory(bad, "bad.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("tokenizer.ggml.tokens"));
}

TEST(GgufTest, RandomCorruptionNeverCrashes) {
  std::string full = SmallFile();
  uint32_t state = 12345;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string bad = full;
    for (int k = 0; k < 3; ++k) {
      state = state * 1664525u + 1013904223u;
      size_t pos = state % bad.size();
      bad[pos] = static_cast<char>(state >> 24);
    }
    auto f = GgufFile::OpenFromMemory(bad);
    if (!f.ok()) continue;
    for (const auto& t : (*f)->tensors()) {
      EXPECT_LE(t.offset + t.size_bytes, (*f)->file_size());
    }
    for (const auto& kv : (*f)->metadata()) {
      (void)(*f)->GetStringArray(kv.first);
      (void)(*f)->GetIntArray(kv.first);
      (void)(*f)->GetFloatArray(kv.first);
      (void)(*f)->GetString(kv.first);
    }
  }
}

}  // namespace
}  // namespace greffier::generate
