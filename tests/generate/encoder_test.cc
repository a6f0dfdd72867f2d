// GgufEncoder against a plain double-precision reference forward pass on tiny random BERT and
// XLM-RoBERTa-like models written by the model maker.

#include "generate/encoder.h"

#include <cmath>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "generate/gguf.h"
#include "generate/gguf_writer.h"
#include "generate/model_maker.h"
#include "generate/quant.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_util.h"

namespace greffier::generate {
namespace {

using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------------
// Reference: reads the hyper-parameters and tensors by their llama.cpp names straight from the
// file, dequantizes every weight to double and runs the textbook post-norm BERT layer with
// loops (no SIMD, no threads, no quantized activations).

using Mat = std::vector<double>;  // row-major

struct RefTensor {
  Mat v;
  int64_t cols = 0, rows = 0;
};

RefTensor Load(const GgufFile& f, const std::string& name) {
  RefTensor t;
  const GgufTensorInfo* info = f.FindTensor(name);
  EXPECT_NE(info, nullptr) << name;
  if (info == nullptr) return t;
  t.cols = static_cast<int64_t>(info->ne[0]);
  t.rows = static_cast<int64_t>(info->ne[1]);
  std::vector<float> row(t.cols);
  const size_t rb = RowBytes(info->type, t.cols);
  for (int64_t r = 0; r < t.rows; ++r) {
    DequantizeRow(info->type, f.TensorData(*info) + r * rb, row.data(), t.cols);
    t.v.insert(t.v.end(), row.begin(), row.end());
  }
  return t;
}

// y[t] = W x[t] + b for n rows of x.
Mat Linear(const Mat& x, int64_t n, const RefTensor& w, const RefTensor& b) {
  Mat y(n * w.rows);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < w.rows; ++r) {
      double s = b.v[r];
      for (int64_t i = 0; i < w.cols; ++i) s += w.v[r * w.cols + i] * x[t * w.cols + i];
      y[t * w.rows + r] = s;
    }
  }
  return y;
}

void LayerNorm(Mat& x, int64_t n, int64_t e, const RefTensor& w, const RefTensor& b, double eps) {
  for (int64_t t = 0; t < n; ++t) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < e; ++i) mean += x[t * e + i];
    mean /= e;
    for (int64_t i = 0; i < e; ++i) var += (x[t * e + i] - mean) * (x[t * e + i] - mean);
    var /= e;
    for (int64_t i = 0; i < e; ++i) {
      x[t * e + i] = (x[t * e + i] - mean) / std::sqrt(var + eps) * w.v[i] + b.v[i];
    }
  }
}

std::vector<double> ReferenceEmbedding(const GgufFile& f, const std::vector<int32_t>& ids,
                                       Pooling pooling) {
  const int64_t E = static_cast<int64_t>(*f.GetUint("bert.embedding_length"));
  const int64_t L = static_cast<int64_t>(*f.GetUint("bert.block_count"));
  const int64_t H = static_cast<int64_t>(*f.GetUint("bert.attention.head_count"));
  const double eps = *f.GetFloat("bert.attention.layer_norm_epsilon");
  const int64_t n = static_cast<int64_t>(ids.size()), hd = E / H;
  RefTensor tok = Load(f, "token_embd.weight"), types = Load(f, "token_types.weight"),
            pos = Load(f, "position_embd.weight");
  Mat x(n * E);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t i = 0; i < E; ++i) {
      x[t * E + i] = tok.v[ids[t] * E + i] + types.v[i] + pos.v[t * E + i];
    }
  }
  LayerNorm(x, n, E, Load(f, "token_embd_norm.weight"), Load(f, "token_embd_norm.bias"), eps);
  for (int64_t l = 0; l < L; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    auto lin = [&](const Mat& in, const std::string& m) {
      return Linear(in, n, Load(f, b + m + ".weight"), Load(f, b + m + ".bias"));
    };
    Mat q = lin(x, "attn_q"), k = lin(x, "attn_k"), v = lin(x, "attn_v"), att(n * E, 0.0);
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t i = 0; i < n; ++i) {
        std::vector<double> p(n);
        double max = -1e300, sum = 0;
        for (int64_t j = 0; j < n; ++j) {
          double s = 0;
          for (int64_t d = 0; d < hd; ++d) s += q[i * E + h * hd + d] * k[j * E + h * hd + d];
          p[j] = s / std::sqrt(static_cast<double>(hd));
          max = std::max(max, p[j]);
        }
        for (int64_t j = 0; j < n; ++j) sum += (p[j] = std::exp(p[j] - max));
        for (int64_t j = 0; j < n; ++j) {
          for (int64_t d = 0; d < hd; ++d)
            att[i * E + h * hd + d] += p[j] / sum * v[j * E + h * hd + d];
        }
      }
    }
    Mat o = lin(att, "attn_output");
    for (int64_t i = 0; i < n * E; ++i) x[i] += o[i];
    LayerNorm(x, n, E, Load(f, b + "attn_output_norm.weight"), Load(f, b + "attn_output_norm.bias"),
              eps);
    Mat u = lin(x, "ffn_up");
    for (double& a : u) a = 0.5 * a * (1.0 + std::erf(a / std::sqrt(2.0)));
    Mat d = lin(u, "ffn_down");
    for (int64_t i = 0; i < n * E; ++i) x[i] += d[i];
    LayerNorm(x, n, E, Load(f, b + "layer_output_norm.weight"),
              Load(f, b + "layer_output_norm.bias"), eps);
  }
  std::vector<double> out(E, 0.0);
  for (int64_t i = 0; i < E; ++i) {
    if (pooling == Pooling::kCls) {
      out[i] = x[i];
    } else if (pooling == Pooling::kLast) {
      out[i] = x[(n - 1) * E + i];
    } else {
      for (int64_t t = 0; t < n; ++t) out[i] += x[t * E + i] / n;
    }
  }
  double norm = 0;
  for (double a : out) norm += a * a;
  for (double& a : out) a /= std::sqrt(norm);
  return out;
}

// ---------------------------------------------------------------------------------------------

std::string WriteModel(const greffier::testing::ScratchDir& dir, const ModelShape& shape,
                       const std::string& type, uint64_t seed = 1, const std::string& name = "") {
  MakeModelOptions o;
  o.shape = shape;
  o.type = type;
  o.seed = seed;
  o.name = name;
  std::string path =
      (dir.path() / (shape.vocab + "-" + type + "-" + std::to_string(shape.pooling_type) + "-" +
                     std::to_string(seed) + name + ".gguf"))
          .string();
  absl::Status s = WriteRandomModel(o, path);
  EXPECT_TRUE(s.ok()) << s;
  return path;
}

std::unique_ptr<GgufEncoder> OpenEncoder(const std::string& path, int threads = 2,
                                         const KernelSet* kernels = nullptr) {
  EncoderOptions o;
  o.model_path = path;
  o.threads = threads;
  o.kernels = kernels;
  absl::StatusOr<std::unique_ptr<GgufEncoder>> e = GgufEncoder::Open(o);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? std::move(*e) : nullptr;
}

const std::vector<std::string> kTexts = {
    "the rain in the train",
    "Payment is due within 30 days of notice.",
    "Le délai de paiement du contrat est de trente jours, à compter de la notice.",
    "",
    "x",
    "the court held that the law of contract applies, as stated in the notice of 12 May",
};

// Largest difference between the encoder's vector and the reference.
double MaxDiff(const std::vector<float>& got, const std::vector<double>& want) {
  EXPECT_EQ(got.size(), want.size());
  double d = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    d = std::max(d, std::abs(got[i] - want[i]));
  }
  return d;
}

struct Case {
  std::string vocab;  // "wordpiece" or "unigram"
  std::string type;
  int pooling;
  // Largest allowed |encoder - reference| per component of the unit vector (dimension 32, so
  // components are about 0.18). F32 and F16: the kernels compute in float with the weights the
  // reference reads (f16 converts exactly), so only float rounding remains: ~1e-7 seen, 1e-5
  // allowed. Q8_0: the kernels also round activations to 8 bits per block of 32 (relative
  // error up to 1/254 of the block's largest value, before each of the 6 products of a layer):
  // ~1.4e-3 seen, 1e-2 allowed, well below what any wrong step gives (~0.1 and more).
  double tolerance;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.vocab << "/" << c.type << "/" << PoolingName(static_cast<Pooling>(c.pooling));
}

class EncoderVsReference : public ::testing::TestWithParam<Case> {};

TEST_P(EncoderVsReference, MatchesDoublePrecisionForwardPass) {
  const Case& c = GetParam();
  greffier::testing::ScratchDir dir;
  ModelShape shape = c.vocab == "unigram" ? XlmrTinyShape() : BertTinyShape();
  shape.pooling_type = c.pooling;
  const std::string path = WriteModel(dir, shape, c.type);
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<const KernelSet*> sets = {nullptr, KernelsFor(SimdLevel::kScalar)};
  for (const KernelSet* ks : sets) {
    std::unique_ptr<GgufEncoder> enc = OpenEncoder(path, 2, ks);
    ASSERT_NE(enc, nullptr);
    EXPECT_EQ(static_cast<int>(enc->config().pooling), c.pooling);
    EXPECT_EQ(enc->Dimension(), 32);
    for (const std::string& text : kTexts) {
      std::vector<int32_t> ids = enc->Tokenize(text, false);
      ASSERT_GE(ids.size(), 2u);
      EXPECT_EQ(ids.front(), enc->tokenizer().bos_id());
      EXPECT_EQ(ids.back(), enc->tokenizer().eos_id());
      for (int32_t id : ids) EXPECT_NE(id, enc->tokenizer().unknown_id()) << text;
      absl::StatusOr<std::vector<float>> got = enc->Embed(text, false);
      ASSERT_TRUE(got.ok()) << got.status();
      double norm = 0;
      for (float a : *got) norm += static_cast<double>(a) * a;
      EXPECT_NEAR(norm, 1.0, 1e-5);
      std::vector<double> want = ReferenceEmbedding(**file, ids, static_cast<Pooling>(c.pooling));
      EXPECT_LT(MaxDiff(*got, want), c.tolerance)
          << "'" << text << "' kernels " << (ks ? SimdLevelName(ks->level) : "best");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, EncoderVsReference,
    ::testing::Values(Case{"wordpiece", "f32", 1, 1e-5}, Case{"wordpiece", "f16", 1, 1e-5},
                      Case{"wordpiece", "q8_0", 1, 1e-2}, Case{"wordpiece", "f16", 2, 1e-5},
                      Case{"wordpiece", "q8_0", 2, 1e-2}, Case{"unigram", "f32", 2, 1e-5},
                      Case{"unigram", "f16", 2, 1e-5}, Case{"unigram", "q8_0", 2, 1e-2},
                      Case{"unigram", "f16", 1, 1e-5}, Case{"unigram", "q8_0", 1, 1e-2},
                      Case{"wordpiece", "f32", 3, 1e-5},
                      // Mixed 5- and 8-bit types (K-quant fallbacks for 32-wide rows).
                      Case{"unigram", "q4_k_m", 1, 1e-2}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return info.param.vocab + "_" + info.param.type + "_" +
             std::string(PoolingName(static_cast<Pooling>(info.param.pooling)));
    });

// Over 2048 tokens the encoder holds the attention scores of fewer heads at a time (3, then
// 1, of 4 here): the result must not change.
TEST(EncoderTest, LongInputsProcessHeadsInPasses) {
  greffier::testing::ScratchDir dir;
  ModelShape shape = BertTinyShape();
  shape.n_ctx = 2200;
  const std::string path = WriteModel(dir, shape, "f32");
  EncoderOptions o;
  o.model_path = path;
  o.max_tokens = 2200;
  auto enc = GgufEncoder::Open(o);
  ASSERT_TRUE(enc.ok()) << enc.status();
  std::string text;
  for (int i = 0; i < 420; ++i) text += "the rain in the train ";
  std::vector<int32_t> ids = (*enc)->Tokenize(text, false);
  ASSERT_EQ(ids.size(), 2102u);
  auto got = (*enc)->EmbedTokens(ids);
  ASSERT_TRUE(got.ok()) << got.status();
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_LT(MaxDiff(*got, ReferenceEmbedding(**file, ids, Pooling::kMean)), 1e-5);
}

TEST(EncoderTest, PoolingChangesTheVectorAndCanBeOverridden) {
  greffier::testing::ScratchDir dir;
  const std::string path = WriteModel(dir, BertTinyShape(), "f32");
  EncoderOptions o;
  o.model_path = path;
  auto mean = GgufEncoder::Open(o);
  o.pooling = "cls";
  auto cls = GgufEncoder::Open(o);
  ASSERT_TRUE(mean.ok() && cls.ok());
  EXPECT_EQ((*mean)->config().pooling, Pooling::kMean);
  EXPECT_EQ((*cls)->config().pooling, Pooling::kCls);
  auto a = (*mean)->Embed(kTexts[1], false), b = (*cls)->Embed(kTexts[1], false);
  ASSERT_TRUE(a.ok() && b.ok());
  double dot = 0;
  for (int i = 0; i < 32; ++i) dot += (*a)[i] * (*b)[i];
  EXPECT_LT(dot, 0.999);
  o.pooling = "max";
  EXPECT_FALSE(GgufEncoder::Open(o).ok());
}

TEST(EncoderTest, DeterministicAcrossRunsThreadsAndConcurrentCallers) {
  greffier::testing::ScratchDir dir;
  const std::string path = WriteModel(dir, BertTinyShape(), "q8_0");
  std::unique_ptr<GgufEncoder> one = OpenEncoder(path, 1), four = OpenEncoder(path, 4);
  ASSERT_TRUE(one && four);
  std::map<std::string, std::vector<float>> first;
  for (const std::string& t : kTexts) {
    auto a = one->Embed(t, false);
    auto b = one->Embed(t, false);
    auto c = four->Embed(t, false);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    // Every output element is computed by the same kernel call whatever thread runs it.
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(*a, *c);
    first[t] = *a;
  }
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 5; ++round) {
        for (const std::string& t : kTexts) {
          auto v = four->Embed(t, false);
          if (!v.ok() || *v != first[t]) ++mismatches[i];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(EncoderTest, TruncatesLongInputsKeepingBeginAndEndTokens) {
  greffier::testing::ScratchDir dir;
  const std::string path = WriteModel(dir, BertTinyShape(), "f16");
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "the rain in the train ";
  EncoderOptions o;
  o.model_path = path;
  auto enc = GgufEncoder::Open(o);
  ASSERT_TRUE(enc.ok());
  // The tiny shape has 64 positions: the 512 default is capped.
  EXPECT_EQ((*enc)->max_tokens(), 64);
  std::vector<int32_t> ids = (*enc)->Tokenize(long_text, false);
  ASSERT_EQ(ids.size(), 64u);
  EXPECT_EQ(ids.front(), (*enc)->tokenizer().bos_id());
  EXPECT_EQ(ids.back(), (*enc)->tokenizer().eos_id());
  EXPECT_TRUE((*enc)->Embed(long_text, false).ok());
  o.max_tokens = 8;
  auto small = GgufEncoder::Open(o);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ((*small)->Tokenize(long_text, false).size(), 8u);
  // Direct calls are checked too.
  EXPECT_FALSE((*small)->EmbedTokens(std::vector<int32_t>(9, 5)).ok());
  EXPECT_FALSE((*small)->EmbedTokens({}).ok());
  EXPECT_FALSE((*small)->EmbedTokens({2, 100000, 3}).ok());
  o.max_tokens = 2;
  EXPECT_FALSE(GgufEncoder::Open(o).ok());
}

TEST(EncoderTest, E5NamesGetQueryAndPassagePrefixes) {
  EXPECT_TRUE(IsE5Name("multilingual-e5-small"));
  EXPECT_TRUE(IsE5Name("E5 Base v2"));
  EXPECT_TRUE(IsE5Name("e5"));
  EXPECT_FALSE(IsE5Name("bge-m3"));
  EXPECT_FALSE(IsE5Name("all-MiniLM-L6-v2"));
  EXPECT_FALSE(IsE5Name("model-e55"));
  EXPECT_FALSE(IsE5Name("de5"));

  greffier::testing::ScratchDir dir;
  const std::string e5 = WriteModel(dir, XlmrTinyShape(), "f16", 1, "multilingual-e5-tiny");
  std::unique_ptr<GgufEncoder> enc = OpenEncoder(e5);
  ASSERT_NE(enc, nullptr);
  EXPECT_EQ(enc->query_prefix(), "query: ");
  EXPECT_EQ(enc->passage_prefix(), "passage: ");
  const Tokenizer& tok = enc->tokenizer();
  auto wrap = [&](std::vector<int32_t> body) {
    body.insert(body.begin(), tok.bos_id());
    body.push_back(tok.eos_id());
    return body;
  };
  EXPECT_EQ(enc->Tokenize("the rain", true), wrap(tok.Encode("query: the rain", false)));
  EXPECT_EQ(enc->Tokenize("the rain", false), wrap(tok.Encode("passage: the rain", false)));
  auto q = enc->Embed("the rain", true), p = enc->Embed("the rain", false);
  ASSERT_TRUE(q.ok() && p.ok());
  EXPECT_NE(*q, *p);

  EncoderOptions o;
  o.model_path = e5;
  o.query_prefix = "Represent this sentence: ";
  o.passage_prefix = "";
  auto custom = GgufEncoder::Open(o);
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ((*custom)->Tokenize("the rain", false), wrap(tok.Encode("the rain", false)));

  const std::string plain = WriteModel(dir, BertTinyShape(), "f16");
  std::unique_ptr<GgufEncoder> bert = OpenEncoder(plain);
  ASSERT_NE(bert, nullptr);
  EXPECT_EQ(bert->query_prefix(), "");
  EXPECT_EQ(bert->Tokenize("the rain", true), bert->Tokenize("the rain", false));
}

TEST(EncoderTest, IdentityNamesFileHashAndDimension) {
  greffier::testing::ScratchDir dir;
  const std::string a = WriteModel(dir, BertTinyShape(), "f16", 1);
  const std::string b = WriteModel(dir, BertTinyShape(), "f16", 2);
  std::unique_ptr<GgufEncoder> ea = OpenEncoder(a), ea2 = OpenEncoder(a), eb = OpenEncoder(b);
  ASSERT_TRUE(ea && ea2 && eb);
  const std::string file = std::filesystem::path(a).filename().string();
  EXPECT_EQ(ea->Identity().rfind("gguf:" + file + ":", 0), 0u) << ea->Identity();
  EXPECT_EQ(ea->Identity().size(), ("gguf:" + file + ":").size() + 12 + 3);
  EXPECT_EQ(ea->Identity().substr(ea->Identity().size() - 3), ":32");
  EXPECT_EQ(ea->Identity(), ea2->Identity());
  // Same shape and metadata, other weights: another identity.
  EXPECT_NE(ea->Identity().substr(ea->Identity().size() - 16),
            eb->Identity().substr(eb->Identity().size() - 16));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Replaces every occurrence of `from` by `to` (same length) in the file's bytes.
std::string Patch(std::string bytes, const std::string& from, const std::string& to) {
  EXPECT_EQ(from.size(), to.size());
  size_t n = 0;
  for (size_t at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + 1)) {
    bytes.replace(at, to.size(), to);
    ++n;
  }
  EXPECT_GT(n, 0u) << from;
  return bytes;
}

absl::Status OpenStatus(const std::string& path) {
  EncoderOptions o;
  o.model_path = path;
  return GgufEncoder::Open(o).status();
}

TEST(EncoderTest, ClearErrorsForBrokenFiles) {
  greffier::testing::ScratchDir dir;
  const std::string good = WriteModel(dir, BertTinyShape(), "f16");
  const std::string bytes = ReadFile(good);
  const std::string bad = (dir.path() / "bad.gguf").string();

  WriteFile(bad, bytes.substr(0, bytes.size() / 2));
  EXPECT_FALSE(OpenStatus(bad).ok());

  WriteFile(bad, Patch(bytes, "blk.1.ffn_down.weight", "blk.1.ffn_down.weigxx"));
  absl::Status missing = OpenStatus(bad);
  EXPECT_THAT(missing.message(), HasSubstr("'blk.1.ffn_down.weight' is missing"));

  // Two tensor names of equal length swapped: both shapes are now wrong.
  std::string swapped = Patch(bytes, "blk.0.ffn_up.bias", "blk.0.XXXXXX.bias");
  swapped = Patch(swapped, "blk.0.attn_q.bias", "blk.0.ffn_up.bias");
  swapped = Patch(swapped, "blk.0.XXXXXX.bias", "blk.0.attn_q.bias");
  WriteFile(bad, swapped);
  absl::Status shape = OpenStatus(bad);
  EXPECT_THAT(shape.message(), HasSubstr("'blk.0.attn_q.bias' has 64 elements, expected 32"));

  WriteFile(bad, Patch(bytes, "bert", "bery"));
  absl::Status arch = OpenStatus(bad);
  EXPECT_TRUE(absl::IsUnimplemented(arch)) << arch;
  EXPECT_THAT(arch.message(), HasSubstr("'bery'"));

  EXPECT_FALSE(OpenStatus((dir.path() / "absent.gguf").string()).ok());
  EXPECT_FALSE(OpenStatus("").ok());

  // A decoder is not an encoder.
  MakeModelOptions llama;
  llama.shape = TinyShape("llama");
  const std::string decoder = (dir.path() / "llama.gguf").string();
  ASSERT_TRUE(WriteRandomModel(llama, decoder).ok());
  EXPECT_THAT(OpenStatus(decoder).message(), HasSubstr("architecture 'llama'"));
}

TEST(EncoderTest, MakerShapes) {
  ModelShape m = MiniLmL6Shape();
  EXPECT_EQ(m.arch, "bert");
  EXPECT_EQ(m.n_embd, 384);
  EXPECT_EQ(m.n_layer, 6);
  EXPECT_EQ(m.n_head, 12);
  EXPECT_EQ(m.n_ff, 1536);
  EXPECT_EQ(m.n_vocab, 30522);
  EXPECT_EQ(m.n_ctx, 512);
  EXPECT_TRUE(ShapeByName("bert-tiny").ok());
  EXPECT_TRUE(ShapeByName("xlmr-tiny").ok());
  EXPECT_TRUE(ShapeByName("minilm-l6").ok());
  EXPECT_EQ(XlmrTinyShape().vocab, "unigram");
}

}  // namespace
}  // namespace greffier::generate
