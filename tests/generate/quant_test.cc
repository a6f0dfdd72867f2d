// Quantize/dequantize round trips, dot-product kernels against dequantized
// double-precision dots, and every SIMD kernel set against the scalar one.
#include "generate/quant.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "generate/fp16.h"
#include "generate/kernels.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace greffier::generate {
namespace {

const GgmlType kTypes[] = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ8_0,
                           GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
                           GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K};

std::vector<float> Random(int64_t n, uint32_t seed, float scale = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Worst relative RMS error a type's round trip may have on Gaussian data:
// about half a quantization step over the block range.
double RoundTripBound(GgmlType t) {
  switch (t) {
    case GgmlType::kF32:
      return 0;
    case GgmlType::kF16:
      return 1e-3;
    case GgmlType::kBF16:
      return 4e-3;
    case GgmlType::kQ8_0:
      return 0.01;
    case GgmlType::kQ6_K:
      return 0.04;
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ5_K:
      return 0.07;
    default:
      return 0.14;  // 4-bit types
  }
}

TEST(Fp16Test, ConversionsAreExactAndRoundToNearestEven) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(FloatToHalf(f), h) << h;
  }
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.f + 0x1.0p-11f)), 1.f);  // tie -> even
  EXPECT_EQ(HalfToFloat(FloatToHalf(65520.f)), INFINITY);
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.5f)), 1.5f);
}

class QuantTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(QuantTest, RoundTripErrorIsBounded) {
  const GgmlType t = GetParam();
  const int64_t rows = 3, cols = 512;
  std::vector<float> x = Random(rows * cols, 1);
  auto q = QuantizeRows(t, x.data(), rows, cols);
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->size(), RowBytes(t, cols) * rows);
  std::vector<float> y(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(t, q->data() + r * RowBytes(t, cols), y.data() + r * cols, cols);
  }
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (x[i] - y[i]) * (x[i] - y[i]);
    ref += x[i] * x[i];
  }
  double rel = std::sqrt(err / ref);
  EXPECT_LE(rel, RoundTripBound(t)) << GgmlTypeName(t);
  // Quantizing the dequantized values again is (nearly) lossless: the
  // layout and the scales are self-consistent.
  auto q2 = QuantizeRows(t, y.data(), rows, cols);
  ASSERT_TRUE(q2.ok());
  std::vector<float> z(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(t, q2->data() + r * RowBytes(t, cols), z.data() + r * cols, cols);
  }
  double err2 = 0;
  for (size_t i = 0; i < y.size(); ++i) err2 += (y[i] - z[i]) * (y[i] - z[i]);
  EXPECT_LE(std::sqrt(err2 / ref), RoundTripBound(t) / 2 + 1e-6);
  // Constant zero rows stay zero.
  std::vector<float> zeros(cols, 0.f), back(cols, 1.f);
  auto qz = QuantizeRows(t, zeros.data(), 1, cols);
  DequantizeRow(t, qz->data(), back.data(), cols);
  for (float v : back) EXPECT_EQ(v, 0.f);
}

TEST_P(QuantTest, DotKernelsMatchDequantizedDotAndEachOther) {
  const GgmlType t = GetParam();
  const int64_t n = 1024;
  const KernelSet* scalar = KernelsFor(SimdLevel::kScalar);
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::vector<float> w = Random(n, 100 + seed);
    std::vector<float> x = Random(n, 200 + seed, seed % 2 ? 3.f : 0.1f);
    auto q = QuantizeRows(t, w.data(), 1, n);
    ASSERT_TRUE(q.ok());
    std::vector<float> wd(n);
    DequantizeRow(t, q->data(), wd.data(), n);
    double exact = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      exact += static_cast<double>(wd[i]) * x[i];
      mag += std::fabs(static_cast<double>(wd[i]) * x[i]);
    }
    float results[3];
    int n_results = 0;
    for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
      const KernelSet* ks = KernelsFor(level);
      if (ks == nullptr) continue;
      const int code = static_cast<int>(t);
      float got;
      if (UsesQuantizedActs(t)) {
        std::vector<int8_t> aq(n);
        std::vector<float> ad(n / 32), as(n / 32);
        ks->quantize_acts(n, x.data(), aq.data(), ad.data(), as.data());
        // Every set quantizes activations bit-identically to scalar.
        std::vector<int8_t> sq(n);
        std::vector<float> sd(n / 32), ss(n / 32);
        scalar->quantize_acts(n, x.data(), sq.data(), sd.data(), ss.data());
        ASSERT_EQ(aq, sq);
        ASSERT_EQ(ad, sd);
        ASSERT_EQ(as, ss);
        ASSERT_NE(ks->dot_q[code], nullptr);
        got = ks->dot_q[code](n, q->data(), {aq.data(), ad.data(), as.data()});
        // 8-bit activations: error well under 1% of sum |w x|.
        EXPECT_NEAR(got, exact, 0.01 * mag) << SimdLevelName(level);
      } else {
        ASSERT_NE(ks->dot_f[code], nullptr);
        got = ks->dot_f[code](n, q->data(), x.data());
        EXPECT_NEAR(got, exact, 1e-5 * mag) << SimdLevelName(level);
      }
      results[n_results++] = got;
    }
    // SIMD vs scalar: only float summation order differs.
    for (int i = 1; i < n_results; ++i) {
      EXPECT_NEAR(results[i], results[0], 2e-5 * mag + 1e-6);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantTest, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return GgmlTypeName(info.param); });

TEST(QuantTest, MultiTokenKernelsMatchSingleTokenKernels) {
  for (GgmlType t : kTypes) {
    if (!UsesQuantizedActs(t)) continue;
    // Odd block counts exercise the tails.
    const int64_t n = BlockElems(t) == 256 ? 256 * 5 : 32 * 37;
    std::vector<float> w = Random(n, 9);
    auto q = QuantizeRows(t, w.data(), 1, n);
    ASSERT_TRUE(q.ok());
    for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
      const KernelSet* ks = KernelsFor(level);
      if (ks == nullptr) continue;
      const int code = static_cast<int>(t);
      if (ks->dot_q_multi[code] == nullptr) continue;
      std::vector<int8_t> aq[kMaxCols];
      std::vector<uint8_t> aqu[kMaxCols];
      std::vector<float> ad[kMaxCols], as[kMaxCols], ad8[kMaxCols];
      QuantizedRow rows[kMaxCols];
      for (int c = 0; c < kMaxCols; ++c) {
        std::vector<float> x = Random(n, 50 + c, 1.f + c);
        aq[c].resize(n);
        ad[c].resize(n / 32);
        as[c].resize(n / 32);
        ks->quantize_acts(n, x.data(), aq[c].data(), ad[c].data(), as[c].data());
        // Half the columns carry the expanded scales, half do not.
        for (float d : ad[c]) ad8[c].insert(ad8[c].end(), 8, d);
        for (int8_t v : aq[c]) aqu[c].push_back(static_cast<uint8_t>(v ^ 0x80));
        rows[c] = {aq[c].data(), ad[c].data(), as[c].data(), c % 2 ? ad8[c].data() : nullptr,
                   nullptr};
      }
      // Once without the unsigned copies, once with them.
      for (int with_qu = 0; with_qu < 2; ++with_qu) {
        for (int c = 0; c < kMaxCols; ++c) {
          rows[c].qu = with_qu ? aqu[c].data() : nullptr;
        }
        for (int nc = 1; nc <= kMaxCols; ++nc) {
          float out[kMaxCols];
          ks->dot_q_multi[code](n, q->data(), rows, nc, out);
          for (int c = 0; c < nc; ++c) {
            float single = KernelsFor(SimdLevel::kScalar)->dot_q[code](n, q->data(), rows[c]);
            EXPECT_NEAR(out[c], single, 1e-4 * (1 + std::fabs(single)))
                << GgmlTypeName(t) << " " << SimdLevelName(level) << " cols " << nc << " qu "
                << with_qu;
          }
        }
      }
    }
  }
}

// Packed-weight matrix kernels (every set, every token count up to 19 and
// row counts that leave a partial panel) against the scalar one-row dot on
// the unpacked rows; the scalar set's own packed kernel is checked too.
TEST(QuantTest, PackedMatrixKernelsMatchRowDots) {
  for (GgmlType t :
       {GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K}) {
    ASSERT_TRUE(HasPackedLayout(t));
    const int code = static_cast<int>(t);
    for (int64_t rows : {16, 37}) {
      // Odd block counts.
      const int64_t n = BlockElems(t) == 256 ? 256 * 3 : 32 * 7;
      std::vector<float> wf = Random(rows * n, 11, 0.5f);
      // Extreme rows: all-max magnitudes stress int16 / int32 headroom.
      for (int64_t j = 0; j < n; ++j) wf[2 * n + j] = j % 2 ? 4.f : -4.f;
      auto w = QuantizeRows(t, wf.data(), rows, n);
      ASSERT_TRUE(w.ok());
      const size_t row_bytes = RowBytes(t, n);
      const size_t panel_bytes = PackedPanelBytes(t, n);
      const int64_t n_panels = (rows + kPackRows - 1) / kPackRows;
      std::vector<uint8_t> packed(panel_bytes * n_panels + 1);
      // Misaligned by one byte on purpose: kernels must not assume alignment.
      PackRows(t, reinterpret_cast<const uint8_t*>(w->data()), row_bytes, rows, n,
               packed.data() + 1);
      const int n_tok = 19;
      std::vector<std::vector<int8_t>> aq(n_tok, std::vector<int8_t>(n));
      std::vector<std::vector<float>> ad(n_tok, std::vector<float>(n / 32)),
          as(n_tok, std::vector<float>(n / 32));
      std::vector<std::vector<int32_t>> asum(n_tok, std::vector<int32_t>(n / 32)),
          asum16(n_tok, std::vector<int32_t>(n / 16));
      std::vector<QuantizedRow> xr(n_tok);
      const KernelSet* scalar = KernelsFor(SimdLevel::kScalar);
      for (int c = 0; c < n_tok; ++c) {
        std::vector<float> x = Random(n, 70 + c, 1.f + c % 3);
        if (c == 3) std::fill(x.begin(), x.end(), -2.f);  // q = -127 everywhere
        scalar->quantize_acts(n, x.data(), aq[c].data(), ad[c].data(), as[c].data());
        for (int64_t j = 0; j < n; ++j) {
          asum[c][j / 32] += aq[c][j];
          asum16[c][j / 16] += aq[c][j];
        }
        xr[c] = {aq[c].data(), ad[c].data(),   as[c].data(),    nullptr,
                 nullptr,      asum[c].data(), asum16[c].data()};
      }
      for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
        const KernelSet* ks = KernelsFor(level);
        if (ks == nullptr) continue;
        if (ks->gemm_packed[code] == nullptr) {
          // Only AVX2 may leave a packed type to the unpacked kernels.
          EXPECT_EQ(level, SimdLevel::kAvx2) << GgmlTypeName(t);
          continue;
        }
        for (int nt : {1, 2, 3, 4, 5, 8, 9, 19}) {
          const int64_t ldy = rows + 3;
          std::vector<float> y(nt * ldy, 12345.f);
          for (int64_t p = 0; p < n_panels; ++p) {
            const int nr = static_cast<int>(std::min<int64_t>(kPackRows, rows - p * kPackRows));
            ks->gemm_packed[code](n, packed.data() + 1 + p * panel_bytes, xr.data(), nt, nr,
                                  y.data() + p * kPackRows, ldy);
          }
          for (int c = 0; c < nt; ++c) {
            for (int64_t r = 0; r < rows; ++r) {
              float want = scalar->dot_q[code](n, w->data() + r * row_bytes, xr[c]);
              EXPECT_NEAR(y[c * ldy + r], want, 1e-4 * (1 + std::fabs(want)))
                  << GgmlTypeName(t) << " " << SimdLevelName(level) << " tokens " << nt << " row "
                  << r << " token " << c;
            }
            // Nothing written past the matrix's rows.
            for (int64_t r = rows; r < ldy; ++r) ASSERT_EQ(y[c * ldy + r], 12345.f);
          }
        }
      }
    }
  }
}

// Attention kernels of every set against a double-precision reference:
// head sizes and position counts that are not multiples of the SIMD width,
// and more query heads than one register tile holds.
TEST(QuantTest, AttentionKernelsMatchReference) {
  for (int hd : {8, 64, 72}) {
    for (int n_pos : {1, 5, 16, 37}) {
      for (int n_q : {1, 3, 9}) {
        const int64_t ldk = n_pos + 3, lds = n_pos + 5, ldv = hd + 2;
        std::vector<float> kt = Random(hd * ldk, 1), q = Random(n_q * hd, 2),
                           v = Random(n_pos * ldv, 3);
        const float scale = 0.3f;
        // Reference scores, softmax and outputs.
        std::vector<double> want_s(n_q * n_pos), want_o(n_q * hd, 0.0);
        for (int g = 0; g < n_q; ++g) {
          double max = -1e300, sum = 0;
          for (int p = 0; p < n_pos; ++p) {
            double d = 0;
            for (int i = 0; i < hd; ++i) d += static_cast<double>(q[g * hd + i]) * kt[i * ldk + p];
            want_s[g * n_pos + p] = d * scale;
            max = std::max(max, d * scale);
          }
          for (int p = 0; p < n_pos; ++p) sum += std::exp(want_s[g * n_pos + p] - max);
          for (int p = 0; p < n_pos; ++p) {
            const double w = std::exp(want_s[g * n_pos + p] - max) / sum;
            for (int i = 0; i < hd; ++i) want_o[g * hd + i] += w * v[p * ldv + i];
          }
        }
        for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
          const KernelSet* ks = KernelsFor(level);
          if (ks == nullptr) continue;
          const std::string tag = std::string(SimdLevelName(level)) + " hd " + std::to_string(hd) +
                                  " n_pos " + std::to_string(n_pos) + " n_q " + std::to_string(n_q);
          std::vector<float> sc(n_q * lds, 777.f);
          ks->attn_scores(hd, n_pos, kt.data(), ldk, q.data(), n_q, scale, sc.data(), lds);
          for (int g = 0; g < n_q; ++g) {
            for (int p = 0; p < n_pos; ++p) {
              ASSERT_NEAR(sc[g * lds + p], want_s[g * n_pos + p], 1e-4) << tag;
            }
            // Padding between rows untouched.
            for (int64_t p = n_pos; p < lds; ++p) ASSERT_EQ(sc[g * lds + p], 777.f) << tag;
            ks->softmax(n_pos, sc.data() + g * lds);
          }
          std::vector<float> out(n_q * hd);
          ks->attn_values(hd, n_pos, v.data(), ldv, sc.data(), lds, n_q, out.data());
          for (int i = 0; i < n_q * hd; ++i) ASSERT_NEAR(out[i], want_o[i], 1e-5) << tag;
        }
      }
    }
  }
  // Softmax over far-apart values: exp underflows to 0, never NaN.
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    const KernelSet* ks = KernelsFor(level);
    if (ks == nullptr) continue;
    std::vector<float> x = {0.f, -200.f, 1.f, -1e30f, 1.f};
    ks->softmax(static_cast<int>(x.size()), x.data());
    EXPECT_FLOAT_EQ(x[0], 1.f / (1 + 2 * std::exp(1.f)));
    EXPECT_EQ(x[1], 0.f);
    EXPECT_EQ(x[3], 0.f);
    EXPECT_FLOAT_EQ(x[2], x[4]);
  }
}

TEST(QuantTest, SiluMulMatchesReference) {
  const int n = 37;  // a vector tail
  std::vector<float> g = Random(n, 8, 4.f), u = Random(n, 9);
  g[0] = -200.f;  // exp overflow territory
  g[1] = 200.f;
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    const KernelSet* ks = KernelsFor(level);
    if (ks == nullptr) continue;
    std::vector<float> out = g;
    ks->silu_mul(n, out.data(), u.data());
    for (int i = 0; i < n; ++i) {
      const double want = g[i] / (1 + std::exp(-static_cast<double>(g[i]))) * u[i];
      EXPECT_NEAR(out[i], want, 1e-6 * (1 + std::fabs(want))) << SimdLevelName(level) << " " << i;
    }
  }
}

TEST(QuantTest, FloatMultiTokenKernelsMatchSingleTokenKernels) {
  for (GgmlType t : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16}) {
    for (int64_t n : {5, 64, 172, 1000}) {
      std::vector<float> wf = Random(n, 3);
      auto w = QuantizeRows(t, wf.data(), 1, n);
      ASSERT_TRUE(w.ok());
      std::vector<float> xs[kMaxCols];
      const float* xp[kMaxCols];
      for (int c = 0; c < kMaxCols; ++c) {
        xs[c] = Random(n, 20 + c);
        xp[c] = xs[c].data();
      }
      for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
        const KernelSet* ks = KernelsFor(level);
        if (ks == nullptr) continue;
        const int code = static_cast<int>(t);
        if (ks->dot_f_multi[code] == nullptr) continue;
        for (int nc = 1; nc <= kMaxCols; ++nc) {
          float out[kMaxCols];
          ks->dot_f_multi[code](n, w->data(), xp, nc, out);
          for (int c = 0; c < nc; ++c) {
            float single = KernelsFor(SimdLevel::kScalar)->dot_f[code](n, w->data(), xp[c]);
            EXPECT_NEAR(out[c], single, 1e-4 * (1 + std::fabs(single)))
                << GgmlTypeName(t) << " n " << n << " cols " << nc;
          }
        }
      }
    }
  }
}

TEST(QuantTest, FloatDotsHandleOddLengths) {
  // stories260K has rows of 172 elements: not a multiple of any SIMD width.
  for (int64_t n : {1, 7, 17, 172}) {
    std::vector<float> w = Random(n, 5), x = Random(n, 6);
    double exact = 0;
    for (int64_t i = 0; i < n; ++i) exact += static_cast<double>(w[i]) * x[i];
    for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
      const KernelSet* ks = KernelsFor(level);
      if (ks == nullptr) continue;
      EXPECT_NEAR(ks->dot_f[0](n, w.data(), x.data()), exact, 1e-4);
      std::vector<float> y(x), want(x);
      ks->axpy(n, 0.5f, w.data(), y.data());
      for (int64_t i = 0; i < n; ++i) want[i] += 0.5f * w[i];
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], want[i], 1e-6);
    }
  }
}

TEST(QuantTest, UnsupportedTypesGiveClearErrors) {
  absl::Status s = CheckSupportedType(GgmlType::kIQ2_XXS, "blk.3.ffn_up.weight");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("iq2_xxs"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("blk.3.ffn_up.weight"));
  std::vector<float> x(256, 1.f);
  auto q = QuantizeRows(GgmlType::kQ2_K, x.data(), 1, 256);
  EXPECT_FALSE(q.ok());
  EXPECT_THAT(q.status().message(), ::testing::HasSubstr("q2_K"));
  auto bad_len = QuantizeRows(GgmlType::kQ4_K, x.data(), 1, 100);
  EXPECT_FALSE(bad_len.ok());
}

}  // namespace
}  // namespace greffier::generate
