// AVX-512 (F, BW, VL, DQ, VNNI) kernels; this file is compiled with the
// matching -m flags and only called after a runtime CPU check. Two 32-element
// blocks share one 512-bit register; VNNI's dpbusd does the u8 x s8 sums.
// GCC 12's AVX-512 headers initialise "undefined" vectors from themselves,
// which -Wuninitialized flags inside inlined intrinsics; nothing of ours.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "generate/kernels.h"
#include "generate/quant.h"

namespace greffier::generate::internal {
namespace {

inline float H2F(uint16_t h) { return _cvtsh_ss(h); }

inline __m512i Load2(const void* a, const void* b) {
  __m256i lo = _mm256_loadu_si256(static_cast<const __m256i*>(a));
  __m256i hi = _mm256_loadu_si256(static_cast<const __m256i*>(b));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Scale vector: `a` in the low 8 lanes, `b` in the high 8.
inline __m512 Scale2(float a, float b) {
  return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1);
}

// Per-lane activation scales of blocks i and i+1 times `w` (weight scales).
inline __m512 XScale(const QuantizedRow& x, int64_t i, __m512 w) {
  if (x.d8 != nullptr) return _mm512_mul_ps(w, _mm512_loadu_ps(x.d8 + 8 * i));
  return _mm512_mul_ps(w, Scale2(x.d[i], x.d[i + 1]));
}

// 2 x 16 nibble bytes -> 64 bytes (per block: low nibbles, high nibbles).
inline __m512i Nibbles2(const uint8_t* qa, const uint8_t* qb) {
  __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qa));
  __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qb));
  __m256i ab = _mm256_set_m128i(b, a);
  __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(ab), _mm256_srli_epi16(ab, 4), 1);
  // v = [a_lo b_lo | a_hi b_hi] (before masking); reorder 128-bit lanes to
  // [a_lo a_hi | b_lo b_hi].
  v = _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(3, 1, 2, 0));
  return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

// ---- Q8_0 ----------------------------------------------------------------

template <int kCols>
void DotQ8_0Multi(int64_t n, const void* w, const QuantizedRow* x, float* out) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(w);
  const int64_t nb = n / 32;
  __m512 acc[kCols];
  for (int c = 0; c < kCols; ++c) acc[c] = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512();
  int64_t i = 0;
  if (x[0].qu != nullptr) {
    // sum((x+128) w) - 128 sum(w) = sum(x w): one dpbusd per token.
    const __m512i k128 = _mm512_set1_epi8(static_cast<char>(0x80));
    for (; i + 2 <= nb; i += 2) {
      __m512i wq = Load2(b[i].qs, b[i + 1].qs);
      __m512i base = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, k128, wq));
      const __m512 dw = Scale2(H2F(b[i].d), H2F(b[i + 1].d));
      for (int c = 0; c < kCols; ++c) {
        __m512i xu = _mm512_loadu_si512(x[c].qu + 32 * i);
        __m512i dot = _mm512_dpbusd_epi32(base, xu, wq);
        acc[c] = _mm512_fmadd_ps(XScale(x[c], i, dw), _mm512_cvtepi32_ps(dot), acc[c]);
      }
    }
  }
  for (; i + 2 <= nb; i += 2) {
    __m512i wq = Load2(b[i].qs, b[i + 1].qs);
    __m512i aw = _mm512_abs_epi8(wq);
    __mmask64 neg = _mm512_movepi8_mask(wq);
    const float d0 = H2F(b[i].d), d1 = H2F(b[i + 1].d);
    const __m512 dw = Scale2(d0, d1);
    for (int c = 0; c < kCols; ++c) {
      __m512i xq = _mm512_loadu_si512(x[c].q + 32 * i);
      xq = _mm512_mask_sub_epi8(xq, neg, zero, xq);
      __m512i dot = _mm512_dpbusd_epi32(zero, aw, xq);
      acc[c] = _mm512_fmadd_ps(XScale(x[c], i, dw), _mm512_cvtepi32_ps(dot), acc[c]);
    }
  }
  for (int c = 0; c < kCols; ++c) out[c] = _mm512_reduce_add_ps(acc[c]);
  for (; i < nb; ++i) {
    for (int c = 0; c < kCols; ++c) {
      int s = 0;
      for (int j = 0; j < 32; ++j) s += b[i].qs[j] * x[c].q[32 * i + j];
      out[c] += H2F(b[i].d) * x[c].d[i] * s;
    }
  }
}

// ---- Q4_0 ----------------------------------------------------------------

template <int kCols>
void DotQ4_0Multi(int64_t n, const void* w, const QuantizedRow* x, float* out) {
  const BlockQ4_0* b = static_cast<const BlockQ4_0*>(w);
  const int64_t nb = n / 32;
  __m512 acc[kCols];
  float corr[kCols];
  for (int c = 0; c < kCols; ++c) {
    acc[c] = _mm512_setzero_ps();
    corr[c] = 0;
  }
  const __m512i zero = _mm512_setzero_si512();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    __m512i q = Nibbles2(b[i].qs, b[i + 1].qs);  // 0..15, x = d * (q - 8)
    const float d0 = H2F(b[i].d), d1 = H2F(b[i + 1].d);
    const __m512 dw = Scale2(d0, d1);
    for (int c = 0; c < kCols; ++c) {
      __m512i xq = _mm512_loadu_si512(x[c].q + 32 * i);
      __m512i dot = _mm512_dpbusd_epi32(zero, q, xq);
      acc[c] = _mm512_fmadd_ps(XScale(x[c], i, dw), _mm512_cvtepi32_ps(dot), acc[c]);
      corr[c] += d0 * x[c].s[i] + d1 * x[c].s[i + 1];
    }
  }
  for (int c = 0; c < kCols; ++c) {
    out[c] = _mm512_reduce_add_ps(acc[c]) - 8.f * corr[c];
  }
  for (; i < nb; ++i) {
    for (int c = 0; c < kCols; ++c) {
      int s = 0;
      for (int j = 0; j < 16; ++j) {
        s += ((b[i].qs[j] & 0xF) - 8) * x[c].q[32 * i + j] +
             ((b[i].qs[j] >> 4) - 8) * x[c].q[32 * i + j + 16];
      }
      out[c] += H2F(b[i].d) * x[c].d[i] * s;
    }
  }
}

// ---- Q5_0 ----------------------------------------------------------------

template <int kCols>
void DotQ5_0Multi(int64_t n, const void* w, const QuantizedRow* x, float* out) {
  const BlockQ5_0* b = static_cast<const BlockQ5_0*>(w);
  const int64_t nb = n / 32;
  __m512 acc[kCols];
  float corr[kCols];
  for (int c = 0; c < kCols; ++c) {
    acc[c] = _mm512_setzero_ps();
    corr[c] = 0;
  }
  const __m512i zero = _mm512_setzero_si512();
  const __m512i bit4 = _mm512_set1_epi8(0x10);
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    uint32_t h0, h1;
    std::memcpy(&h0, b[i].qh, 4);
    std::memcpy(&h1, b[i + 1].qh, 4);
    __mmask64 hm = static_cast<__mmask64>(h0) | static_cast<__mmask64>(h1) << 32;
    // 0..31, x = d * (q - 16)
    __m512i q = _mm512_or_si512(Nibbles2(b[i].qs, b[i + 1].qs), _mm512_maskz_mov_epi8(hm, bit4));
    const float d0 = H2F(b[i].d), d1 = H2F(b[i + 1].d);
    const __m512 dw = Scale2(d0, d1);
    for (int c = 0; c < kCols; ++c) {
      __m512i xq = _mm512_loadu_si512(x[c].q + 32 * i);
      __m512i dot = _mm512_dpbusd_epi32(zero, q, xq);
      acc[c] = _mm512_fmadd_ps(XScale(x[c], i, dw), _mm512_cvtepi32_ps(dot), acc[c]);
      corr[c] += d0 * x[c].s[i] + d1 * x[c].s[i + 1];
    }
  }
  for (int c = 0; c < kCols; ++c) {
    out[c] = _mm512_reduce_add_ps(acc[c]) - 16.f * corr[c];
  }
  for (; i < nb; ++i) {
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    for (int c = 0; c < kCols; ++c) {
      int s = 0;
      for (int j = 0; j < 16; ++j) {
        int lo = ((b[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16;
        int hi = ((b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
        s += lo * x[c].q[32 * i + j] + hi * x[c].q[32 * i + j + 16];
      }
      out[c] += H2F(b[i].d) * x[c].d[i] * s;
    }
  }
}

// ---- Q4_K ----------------------------------------------------------------

template <int kCols>
void DotQ4_KMulti(int64_t n, const void* w, const QuantizedRow* x, float* out) {
  const BlockQ4_K* b = static_cast<const BlockQ4_K*>(w);
  __m512 acc[kCols];
  float mins[kCols];
  for (int c = 0; c < kCols; ++c) {
    acc[c] = _mm512_setzero_ps();
    mins[c] = 0;
  }
  const __m512i zero = _mm512_setzero_si512();
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int64_t i = 0; i < n / 256; ++i) {
    const float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
    float sc[8], mn[8];
    for (int j = 0; j < 8; ++j) {
      uint8_t s8, m8;
      GetScaleMinK4(j, b[i].scales, &s8, &m8);
      sc[j] = d * s8;
      mn[j] = dmin * m8;
    }
    for (int ch = 0; ch < 4; ++ch) {
      __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs + 32 * ch));
      __m256i lo = _mm256_and_si256(qs, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qs, 4), m4);
      __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      const int sb = 8 * static_cast<int>(i) + 2 * ch;  // 32-block index
      const __m512 dw = Scale2(sc[2 * ch], sc[2 * ch + 1]);
      for (int c = 0; c < kCols; ++c) {
        __m512i xq = _mm512_loadu_si512(x[c].q + 32 * sb);
        __m512i dot = _mm512_dpbusd_epi32(zero, q, xq);
        acc[c] = _mm512_fmadd_ps(XScale(x[c], sb, dw), _mm512_cvtepi32_ps(dot), acc[c]);
        mins[c] += mn[2 * ch] * x[c].s[sb] + mn[2 * ch + 1] * x[c].s[sb + 1];
      }
    }
  }
  for (int c = 0; c < kCols; ++c) {
    out[c] = _mm512_reduce_add_ps(acc[c]) - mins[c];
  }
}

// ---- Q6_K ----------------------------------------------------------------

template <int kCols>
void DotQ6_KMulti(int64_t n, const void* w, const QuantizedRow* x, float* out) {
  const BlockQ6_K* b = static_cast<const BlockQ6_K*>(w);
  __m512 acc[kCols];
  for (int c = 0; c < kCols; ++c) acc[c] = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512();
  const __m512i k32 = _mm512_set1_epi8(32);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m3 = _mm256_set1_epi8(3);
  // Spreads 4 scale bytes over 4 int32 lanes each.
  const __m128i spread = _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  for (int64_t i = 0; i < n / 256; ++i) {
    const float d = H2F(b[i].d);
    const __m512 dw = _mm512_set1_ps(d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qh + 32 * h));
      __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      __m256i q0 =
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
      __m256i q1 =
          _mm256_or_si256(_mm256_and_si256(l1, m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
      __m256i q2 =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
      __m256i q3 =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
      __m512i qa = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
      __m512i qb = _mm512_inserti64x4(_mm512_castsi256_si512(q2), q3, 1);
      for (int k = 0; k < 2; ++k) {
        const __m512i q = k == 0 ? qa : qb;
        // 64 elements = 4 sub-blocks of 16 = 2 activation blocks.
        const int sub = 8 * h + 4 * k;
        int32_t s4;
        std::memcpy(&s4, b[i].scales + sub, 4);
        __m512i scv = _mm512_cvtepi8_epi32(_mm_shuffle_epi8(_mm_cvtsi32_si128(s4), spread));
        const int blk = 8 * static_cast<int>(i) + 4 * h + 2 * k;
        for (int c = 0; c < kCols; ++c) {
          __m512i xq = _mm512_loadu_si512(x[c].q + 32 * blk);
          __m512i dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, q, xq),
                                         _mm512_dpbusd_epi32(zero, k32, xq));
          dot = _mm512_mullo_epi32(dot, scv);
          acc[c] = _mm512_fmadd_ps(XScale(x[c], blk, dw), _mm512_cvtepi32_ps(dot), acc[c]);
        }
      }
    }
  }
  for (int c = 0; c < kCols; ++c) out[c] = _mm512_reduce_add_ps(acc[c]);
}

#define GREFFIER_MULTI(NAME)                                                                    \
  float NAME##Single(int64_t n, const void* w, const QuantizedRow& x) {                         \
    float out;                                                                                  \
    NAME##Multi<1>(n, w, &x, &out);                                                             \
    return out;                                                                                 \
  }                                                                                             \
  void NAME##M(int64_t n, const void* w, const QuantizedRow* x, int n_cols, float* out) {       \
    internal::ForTileWidth<kMaxCols>(n_cols, [&]<int kC>() { NAME##Multi<kC>(n, w, x, out); }); \
  }
GREFFIER_MULTI(DotQ8_0)
GREFFIER_MULTI(DotQ4_0)
GREFFIER_MULTI(DotQ5_0)
GREFFIER_MULTI(DotQ4_K)
GREFFIER_MULTI(DotQ6_K)
#undef GREFFIER_MULTI

// ---- Packed Q4_0 / Q8_0: 16 rows x up to 8 tokens per pass ----------------

// Weights as unsigned bytes (Q4_0: the nibble q, value q - 8; Q8_0: w + 128)
// so that dpbusd takes them as its unsigned operand and four activation
// bytes, broadcast, as the signed one: lane r sums 4 products of row r.
// The offset comes back as -offset * sum(x.q), the chain's initial value.
template <GgmlType kType, int kTok>
void GemmPackedTile(int64_t nb, const uint16_t* scales, const uint8_t* quants,
                    const QuantizedRow* x, float* y, int64_t ldy, __mmask16 rows) {
  constexpr bool kQ8 = kType == GgmlType::kQ8_0;
  constexpr bool kQ5 = kType == GgmlType::kQ5_0;
  constexpr int kOff = kQ8 ? 128 : kQ5 ? 16 : 8;
  constexpr int kBlockBytes = kQ8 ? 512 : kQ5 ? 320 : 256;
  // One chain of 8 dependent dpbusd per token is latency-bound when few
  // tokens run side by side; two halves keep the unit busy.
  constexpr bool kSplit = kTok <= 2;
  __m512 acc[kTok];
  // Token pointers hoisted out of the block loop, which is fully unrolled
  // over tokens so that the accumulators stay in registers.
  const int8_t* xqs[kTok];
  const float* xd[kTok];
  const int32_t* xsum[kTok];
  for (int c = 0; c < kTok; ++c) {
    acc[c] = _mm512_setzero_ps();
    xqs[c] = x[c].q;
    xd[c] = x[c].d;
    xsum[c] = x[c].qsum;
  }
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i k80 = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t i = 0; i < nb; ++i) {
    const __m512 dw =
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales + 16 * i)));
    const uint8_t* q = quants + kBlockBytes * i;
    if constexpr (kTok <= 2) {
      // Generation streams the weights once: fetch ahead of the loads.
      for (int l = 0; l < kBlockBytes; l += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(q + 16 * kBlockBytes + l), _MM_HINT_T0);
      }
    }
    __m512i wv[8];
    if constexpr (!kQ8) {
      for (int g = 0; g < 4; ++g) {
        __m512i v = _mm512_loadu_si512(q + 64 * g);
        wv[g] = _mm512_and_si512(v, m4);
        wv[g + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
      }
      if constexpr (kQ5) {
        // Bit g of each byte to bit 4; 16-bit shifts by at most 4 move no
        // other byte's bits into bit 4.
        const __m512i hb = _mm512_loadu_si512(q + 256);
        const __m512i b4 = _mm512_set1_epi8(0x10);
        wv[0] = _mm512_or_si512(wv[0], _mm512_and_si512(_mm512_slli_epi16(hb, 4), b4));
        wv[1] = _mm512_or_si512(wv[1], _mm512_and_si512(_mm512_slli_epi16(hb, 3), b4));
        wv[2] = _mm512_or_si512(wv[2], _mm512_and_si512(_mm512_slli_epi16(hb, 2), b4));
        wv[3] = _mm512_or_si512(wv[3], _mm512_and_si512(_mm512_slli_epi16(hb, 1), b4));
        wv[4] = _mm512_or_si512(wv[4], _mm512_and_si512(hb, b4));
        wv[5] = _mm512_or_si512(wv[5], _mm512_and_si512(_mm512_srli_epi16(hb, 1), b4));
        wv[6] = _mm512_or_si512(wv[6], _mm512_and_si512(_mm512_srli_epi16(hb, 2), b4));
        wv[7] = _mm512_or_si512(wv[7], _mm512_and_si512(_mm512_srli_epi16(hb, 3), b4));
      }
    } else {
      for (int g = 0; g < 8; ++g) wv[g] = _mm512_xor_si512(_mm512_loadu_si512(q + 64 * g), k80);
    }
#pragma GCC unroll 8
    for (int c = 0; c < kTok; ++c) {
      const int8_t* xq = xqs[c] + 32 * i;
      __m512i s0 = _mm512_set1_epi32(-kOff * xsum[c][i]);
      __m512i s1 = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
        int32_t x4;
        std::memcpy(&x4, xq + 4 * g, 4);
        if (kSplit && g % 2 == 1) {
          s1 = _mm512_dpbusd_epi32(s1, wv[g], _mm512_set1_epi32(x4));
        } else {
          s0 = _mm512_dpbusd_epi32(s0, wv[g], _mm512_set1_epi32(x4));
        }
      }
      if constexpr (kSplit) s0 = _mm512_add_epi32(s0, s1);
      acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(xd[c][i])), _mm512_cvtepi32_ps(s0),
                               acc[c]);
    }
  }
  for (int c = 0; c < kTok; ++c) _mm512_mask_storeu_ps(y + c * ldy, rows, acc[c]);
}

template <GgmlType kType>
void GemmPacked(int64_t n, const uint8_t* panel, const QuantizedRow* x, int n_tok, int n_rows,
                float* y, int64_t ldy) {
  const int64_t nb = n / 32;
  const uint16_t* scales = reinterpret_cast<const uint16_t*>(panel);
  const uint8_t* quants = panel + ScaleSectionBytes(nb);
  const __mmask16 rows = static_cast<__mmask16>((1u << n_rows) - 1);
  for (int t = 0; t < n_tok; t += 8) {
    const QuantizedRow* xt = x + t;
    float* yt = y + t * ldy;
    internal::ForTileWidth<8>(std::min(8, n_tok - t), [&]<int kW>() {
      GemmPackedTile<kType, kW>(nb, scales, quants, xt, yt, ldy, rows);
    });
  }
}

// Packed Q4_K: per sub-block, the same 16-row x kTok-token dpbusd tiles as
// Q4_0 (nibbles unsigned, no offset), then the sub-block's scale and min
// per row, both expanded from their bytes once per sub-block.
template <int kTok>
void GemmQ4KTile(int64_t nsb, const uint8_t* panel, const QuantizedRow* x, float* y, int64_t ldy,
                 __mmask16 rows) {
  constexpr bool kSplit = kTok <= 2;
  __m512 acc[kTok];
  const int8_t* xqs[kTok];
  const float *xd[kTok], *xs[kTok];
  for (int c = 0; c < kTok; ++c) {
    acc[c] = _mm512_setzero_ps();
    xqs[c] = x[c].q;
    xd[c] = x[c].d;
    xs[c] = x[c].s;
  }
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* h = panel + sb * kQ4KPackedBytes;
    if constexpr (kTok <= 2) {
      for (size_t l = 0; l < kQ4KPackedBytes; l += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(h + 2 * kQ4KPackedBytes + l), _MM_HINT_T0);
      }
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h)));
    const __m512 dmin =
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + 32)));
    for (int j = 0; j < 8; ++j) {
      const __m512 sc = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(
                                             reinterpret_cast<const __m128i*>(h + 64 + 16 * j)))));
      const __m512 mn = _mm512_mul_ps(
          dmin, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 192 + 16 * j)))));
      const uint8_t* q = h + 320 + 512 * (j / 2);
      __m512i wv[8];
      for (int g = 0; g < 8; ++g) {
        __m512i v = _mm512_loadu_si512(q + 64 * g);
        wv[g] = _mm512_and_si512(j % 2 ? _mm512_srli_epi16(v, 4) : v, m4);
      }
      const int64_t blk = 8 * sb + j;
#pragma GCC unroll 8
      for (int c = 0; c < kTok; ++c) {
        const int8_t* xq = xqs[c] + 32 * blk;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int g = 0; g < 8; ++g) {
          int32_t x4;
          std::memcpy(&x4, xq + 4 * g, 4);
          if (kSplit && g % 2 == 1) {
            s1 = _mm512_dpbusd_epi32(s1, wv[g], _mm512_set1_epi32(x4));
          } else {
            s0 = _mm512_dpbusd_epi32(s0, wv[g], _mm512_set1_epi32(x4));
          }
        }
        if constexpr (kSplit) s0 = _mm512_add_epi32(s0, s1);
        acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(sc, _mm512_set1_ps(xd[c][blk])),
                                 _mm512_cvtepi32_ps(s0), acc[c]);
        acc[c] = _mm512_fnmadd_ps(mn, _mm512_set1_ps(xs[c][blk]), acc[c]);
      }
    }
  }
  for (int c = 0; c < kTok; ++c) _mm512_mask_storeu_ps(y + c * ldy, rows, acc[c]);
}

void GemmPackedQ4K(int64_t n, const uint8_t* panel, const QuantizedRow* x, int n_tok, int n_rows,
                   float* y, int64_t ldy) {
  const int64_t nsb = n / 256;
  const __mmask16 rows = static_cast<__mmask16>((1u << n_rows) - 1);
  for (int t = 0; t < n_tok; t += 8) {
    const QuantizedRow* xt = x + t;
    float* yt = y + t * ldy;
    internal::ForTileWidth<8>(std::min(8, n_tok - t),
                              [&]<int kW>() { GemmQ4KTile<kW>(nsb, panel, xt, yt, ldy, rows); });
  }
}

// Packed Q6_K: 6-bit values rebuilt from a nibble and a 2-bit pair, as
// unsigned bytes; the offset 32 comes back through each half block's
// activation sum (qsum16), and the two 16-element halves (separate scales)
// run as two dpbusd chains.
template <int kTok>
void GemmQ6KTile(int64_t nsb, const uint8_t* panel, const QuantizedRow* x, float* y, int64_t ldy,
                 __mmask16 rows) {
  __m512 acc[kTok];
  const int8_t* xqs[kTok];
  const float* xd[kTok];
  const int32_t* xs16[kTok];
  for (int c = 0; c < kTok; ++c) {
    acc[c] = _mm512_setzero_ps();
    xqs[c] = x[c].q;
    xd[c] = x[c].d;
    xs16[c] = x[c].qsum16;
  }
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i m30 = _mm512_set1_epi8(0x30);
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* h = panel + sb * kQ6KPackedBytes;
    if constexpr (kTok <= 2) {
      for (size_t l = 0; l < kQ6KPackedBytes; l += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(h + 2 * kQ6KPackedBytes + l), _MM_HINT_T0);
      }
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h)));
    for (int j = 0; j < 8; ++j) {
      auto scale = [&](int sub) {
        return _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(
                                    reinterpret_cast<const __m128i*>(h + 32 + 16 * sub)))));
      };
      const __m512 sa = scale(2 * j), sb2 = scale(2 * j + 1);
      const uint8_t* q = h + 320 + 384 * j;
      const __m512i h0 = _mm512_loadu_si512(q + 256);
      const __m512i h1 = _mm512_loadu_si512(q + 320);
      __m512i wv[8];
      for (int g = 0; g < 4; ++g) {
        __m512i v = _mm512_loadu_si512(q + 64 * g);
        wv[g] = _mm512_and_si512(v, m4);
        wv[g + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
      }
      // Bits 2k..2k+1 of each byte to bits 4..5 (16-bit shifts by at most 4
      // bring no other byte's bits there).
      auto high = [&](__m512i hv, int k) {
        __m512i t = k == 3 ? _mm512_srli_epi16(hv, 2) : _mm512_slli_epi16(hv, 4 - 2 * k);
        return _mm512_and_si512(t, m30);
      };
      for (int k = 0; k < 4; ++k) {
        wv[k] = _mm512_or_si512(wv[k], high(h0, k));
        wv[k + 4] = _mm512_or_si512(wv[k + 4], high(h1, k));
      }
      const int64_t blk = 8 * sb + j;
#pragma GCC unroll 8
      for (int c = 0; c < kTok; ++c) {
        const int8_t* xq = xqs[c] + 32 * blk;
        __m512i s0 = _mm512_set1_epi32(-32 * xs16[c][2 * blk]);
        __m512i s1 = _mm512_set1_epi32(-32 * xs16[c][2 * blk + 1]);
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
          int32_t a4, b4;
          std::memcpy(&a4, xq + 4 * g, 4);
          std::memcpy(&b4, xq + 16 + 4 * g, 4);
          s0 = _mm512_dpbusd_epi32(s0, wv[g], _mm512_set1_epi32(a4));
          s1 = _mm512_dpbusd_epi32(s1, wv[g + 4], _mm512_set1_epi32(b4));
        }
        const __m512 f =
            _mm512_fmadd_ps(sa, _mm512_cvtepi32_ps(s0), _mm512_mul_ps(sb2, _mm512_cvtepi32_ps(s1)));
        acc[c] = _mm512_fmadd_ps(f, _mm512_set1_ps(xd[c][blk]), acc[c]);
      }
    }
  }
  for (int c = 0; c < kTok; ++c) _mm512_mask_storeu_ps(y + c * ldy, rows, acc[c]);
}

void GemmPackedQ6K(int64_t n, const uint8_t* panel, const QuantizedRow* x, int n_tok, int n_rows,
                   float* y, int64_t ldy) {
  const int64_t nsb = n / 256;
  const __mmask16 rows = static_cast<__mmask16>((1u << n_rows) - 1);
  for (int t = 0; t < n_tok; t += 8) {
    const QuantizedRow* xt = x + t;
    float* yt = y + t * ldy;
    internal::ForTileWidth<8>(std::min(8, n_tok - t),
                              [&]<int kW>() { GemmQ6KTile<kW>(nsb, panel, xt, yt, ldy, rows); });
  }
}

// ---- F32 -----------------------------------------------------------------

float DotF32(int64_t n, const void* w, const float* x) {
  const float* a = static_cast<const float*>(w);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(x + i + 16), acc1);
  }
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(x + i), acc0);
  }
  if (i < n) {
    __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, x + i), acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// Weights of type F32 (kHalf false) or F16 (kHalf true).
template <bool kHalf, int kCols>
void DotFloatMulti(int64_t n, const void* w, const float* const* x, float* out) {
  __m512 acc[kCols];
  for (int c = 0; c < kCols; ++c) acc[c] = _mm512_setzero_ps();
  int64_t i = 0;
  auto load_w = [&](int64_t at, __mmask16 m) {
    if constexpr (kHalf) {
      const uint16_t* h = static_cast<const uint16_t*>(w) + at;
      return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, h));
    } else {
      return _mm512_maskz_loadu_ps(m, static_cast<const float*>(w) + at);
    }
  };
  for (; i + 16 <= n; i += 16) {
    __m512 wv = load_w(i, 0xFFFF);
    for (int c = 0; c < kCols; ++c) {
      acc[c] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x[c] + i), acc[c]);
    }
  }
  if (i < n) {
    __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 wv = load_w(i, m);
    for (int c = 0; c < kCols; ++c) {
      acc[c] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x[c] + i), acc[c]);
    }
  }
  for (int c = 0; c < kCols; ++c) out[c] = _mm512_reduce_add_ps(acc[c]);
}

template <bool kHalf>
void DotFloatM(int64_t n, const void* w, const float* const* x, int n_cols, float* out) {
  internal::ForTileWidth<4>(n_cols, [&]<int kC>() { DotFloatMulti<kHalf, kC>(n, w, x, out); });
}

float DotF16(int64_t n, const void* w, const float* x) {
  float out;
  DotFloatMulti<true, 1>(n, w, &x, &out);
  return out;
}

void Axpy(int64_t n, float a, const float* x, float* y) {
  const __m512 av = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  }
  if (i < n) {
    __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(
        y + i, m,
        _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

// ---- Attention -------------------------------------------------------------

inline __mmask16 TailMask(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}

// 16 positions per vector: keys are stored transposed, so each key element
// is one load shared by kQ heads, and no horizontal sums are needed.
template <int kQ>
void ScoresTile(int hd, int n_pos, const float* kt, int64_t ldk, const float* q, float scale,
                float* s, int64_t lds) {
  for (int p0 = 0; p0 < n_pos; p0 += 16) {
    const __mmask16 m = TailMask(n_pos - p0);
    __m512 acc[kQ];
    for (int g = 0; g < kQ; ++g) acc[g] = _mm512_setzero_ps();
    for (int i = 0; i < hd; ++i) {
      const __m512 k = _mm512_maskz_loadu_ps(m, kt + i * ldk + p0);
      for (int g = 0; g < kQ; ++g)
        acc[g] = _mm512_fmadd_ps(_mm512_set1_ps(q[g * hd + i]), k, acc[g]);
    }
    const __m512 sv = _mm512_set1_ps(scale);
    for (int g = 0; g < kQ; ++g)
      _mm512_mask_storeu_ps(s + g * lds + p0, m, _mm512_mul_ps(acc[g], sv));
  }
}

void AttnScores(int hd, int n_pos, const float* kt, int64_t ldk, const float* q, int n_q,
                float scale, float* s, int64_t lds) {
  for (int g0 = 0; g0 < n_q; g0 += 8) {
    const float* qg = q + g0 * hd;
    float* sg = s + g0 * lds;
    internal::ForTileWidth<8>(std::min(8, n_q - g0), [&]<int kW>() {
      ScoresTile<kW>(hd, n_pos, kt, ldk, qg, scale, sg, lds);
    });
  }
}

// e^x: x = n ln2 + r with |r| <= ln2 / 2, e^r by its degree-6 Taylor
// polynomial (relative error below 2e-7), times 2^n by scalef (underflows
// to 0 for very negative x; large x is clamped to stay finite).
inline __m512 Exp(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.f)), _mm512_set1_ps(88.f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
  __m512 p = _mm512_set1_ps(1.f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}

void Softmax(int n, float* x) {
  __m512 mv = _mm512_set1_ps(-INFINITY);
  for (int i = 0; i < n; i += 16) {
    mv = _mm512_max_ps(mv, _mm512_mask_loadu_ps(mv, TailMask(n - i), x + i));
  }
  const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
  __m512 sum = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    __m512 e = Exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), max));
    e = _mm512_maskz_mov_ps(m, e);
    sum = _mm512_add_ps(sum, e);
    _mm512_mask_storeu_ps(x + i, m, e);
  }
  const __m512 inv = _mm512_set1_ps(1.f / _mm512_reduce_add_ps(sum));
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
  }
}

void SiluMul(int64_t n, float* g, const float* u) {
  const __m512 one = _mm512_set1_ps(1.f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(static_cast<int>(std::min<int64_t>(16, n - i)));
    const __m512 gv = _mm512_maskz_loadu_ps(m, g + i);
    const __m512 sig =
        _mm512_div_ps(one, _mm512_add_ps(one, Exp(_mm512_sub_ps(_mm512_setzero_ps(), gv))));
    _mm512_mask_storeu_ps(g + i, m,
                          _mm512_mul_ps(_mm512_mul_ps(gv, sig), _mm512_maskz_loadu_ps(m, u + i)));
  }
}

// kQ heads x 64 output dims in registers across every position.
template <int kQ>
void ValuesTile(int hd, int n_pos, const float* v, int64_t ldv, const float* w, int64_t ldw,
                float* out) {
  for (int i0 = 0; i0 < hd; i0 += 64) {
    __mmask16 m[4];
    for (int c = 0; c < 4; ++c) m[c] = TailMask(hd - i0 - 16 * c > 0 ? hd - i0 - 16 * c : 0);
    __m512 acc[kQ][4];
    for (int g = 0; g < kQ; ++g) {
      for (int c = 0; c < 4; ++c) acc[g][c] = _mm512_setzero_ps();
    }
    for (int p = 0; p < n_pos; ++p) {
      const float* vp = v + p * ldv + i0;
      __m512 vv[4];
      for (int c = 0; c < 4; ++c) vv[c] = _mm512_maskz_loadu_ps(m[c], vp + 16 * c);
      for (int g = 0; g < kQ; ++g) {
        const __m512 wg = _mm512_set1_ps(w[g * ldw + p]);
        for (int c = 0; c < 4; ++c) acc[g][c] = _mm512_fmadd_ps(wg, vv[c], acc[g][c]);
      }
    }
    for (int g = 0; g < kQ; ++g) {
      for (int c = 0; c < 4; ++c) {
        _mm512_mask_storeu_ps(out + g * hd + i0 + 16 * c, m[c], acc[g][c]);
      }
    }
  }
}

void AttnValues(int hd, int n_pos, const float* v, int64_t ldv, const float* w, int64_t ldw,
                int n_q, float* out) {
  for (int g0 = 0; g0 < n_q; g0 += 4) {
    const float* wg = w + g0 * ldw;
    float* og = out + g0 * hd;
    internal::ForTileWidth<4>(std::min(4, n_q - g0),
                              [&]<int kW>() { ValuesTile<kW>(hd, n_pos, v, ldv, wg, ldw, og); });
  }
}

int Code(GgmlType t) { return static_cast<int>(t); }

}  // namespace

void FillAvx512Kernels(KernelSet* k) {
  k->level = SimdLevel::kAvx512;
  k->dot_q[Code(GgmlType::kQ8_0)] = DotQ8_0Single;
  k->dot_q_multi[Code(GgmlType::kQ8_0)] = DotQ8_0M;
  k->dot_q[Code(GgmlType::kQ4_0)] = DotQ4_0Single;
  k->dot_q_multi[Code(GgmlType::kQ4_0)] = DotQ4_0M;
  k->dot_q[Code(GgmlType::kQ5_0)] = DotQ5_0Single;
  k->dot_q_multi[Code(GgmlType::kQ5_0)] = DotQ5_0M;
  k->dot_q[Code(GgmlType::kQ4_K)] = DotQ4_KSingle;
  k->dot_q_multi[Code(GgmlType::kQ4_K)] = DotQ4_KM;
  k->dot_q[Code(GgmlType::kQ6_K)] = DotQ6_KSingle;
  k->dot_q_multi[Code(GgmlType::kQ6_K)] = DotQ6_KM;
  k->gemm_packed[Code(GgmlType::kQ4_0)] = GemmPacked<GgmlType::kQ4_0>;
  k->gemm_packed[Code(GgmlType::kQ5_0)] = GemmPacked<GgmlType::kQ5_0>;
  k->gemm_packed[Code(GgmlType::kQ8_0)] = GemmPacked<GgmlType::kQ8_0>;
  k->gemm_packed[Code(GgmlType::kQ4_K)] = GemmPackedQ4K;
  k->gemm_packed[Code(GgmlType::kQ6_K)] = GemmPackedQ6K;
  k->dot_f[Code(GgmlType::kF32)] = DotF32;
  k->dot_f[Code(GgmlType::kF16)] = DotF16;
  k->dot_f_multi[Code(GgmlType::kF32)] = DotFloatM<false>;
  k->dot_f_multi[Code(GgmlType::kF16)] = DotFloatM<true>;
  k->axpy = Axpy;
  k->attn_scores = AttnScores;
  k->softmax = Softmax;
  k->attn_values = AttnValues;
  k->silu_mul = SiluMul;
}

}  // namespace greffier::generate::internal
