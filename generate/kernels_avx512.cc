// AVX-512 (F, BW, VL, DQ, VNNI) kernels; this file is compiled with the
// matching -m flags and only called after a runtime CPU check. Two 32-element
// blocks share one 512-bit register; VNNI's dpbusd does the u8 x s8 sums.
// GCC 12's AVX-512 headers initialise "undefined" vectors from themselves,
// which -Wuninitialized flags inside inlined intrinsics; nothing of ours.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

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

float DotQ8_0(int64_t n, const void* w, const QuantizedRow& x) {
  float out;
  DotQ8_0Multi<1>(n, w, &x, &out);
  return out;
}

void DotQ8_0M(int64_t n, const void* w, const QuantizedRow* x, int n_cols, float* out) {
  switch (n_cols) {
    case 4:
      return DotQ8_0Multi<4>(n, w, x, out);
    case 3:
      return DotQ8_0Multi<3>(n, w, x, out);
    case 2:
      return DotQ8_0Multi<2>(n, w, x, out);
    default:
      return DotQ8_0Multi<1>(n, w, x, out);
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

float DotQ4_0(int64_t n, const void* w, const QuantizedRow& x) {
  float out;
  DotQ4_0Multi<1>(n, w, &x, &out);
  return out;
}

void DotQ4_0M(int64_t n, const void* w, const QuantizedRow* x, int n_cols, float* out) {
  switch (n_cols) {
    case 4:
      return DotQ4_0Multi<4>(n, w, x, out);
    case 3:
      return DotQ4_0Multi<3>(n, w, x, out);
    case 2:
      return DotQ4_0Multi<2>(n, w, x, out);
    default:
      return DotQ4_0Multi<1>(n, w, x, out);
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

#define GREFFIER_MULTI(NAME)                                                              \
  float NAME##Single(int64_t n, const void* w, const QuantizedRow& x) {                   \
    float out;                                                                            \
    NAME##Multi<1>(n, w, &x, &out);                                                       \
    return out;                                                                           \
  }                                                                                       \
  void NAME##M(int64_t n, const void* w, const QuantizedRow* x, int n_cols, float* out) { \
    switch (n_cols) {                                                                     \
      case 4:                                                                             \
        return NAME##Multi<4>(n, w, x, out);                                              \
      case 3:                                                                             \
        return NAME##Multi<3>(n, w, x, out);                                              \
      case 2:                                                                             \
        return NAME##Multi<2>(n, w, x, out);                                              \
      default:                                                                            \
        return NAME##Multi<1>(n, w, x, out);                                              \
    }                                                                                     \
  }
GREFFIER_MULTI(DotQ5_0)
GREFFIER_MULTI(DotQ4_K)
GREFFIER_MULTI(DotQ6_K)
#undef GREFFIER_MULTI

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
  switch (n_cols) {
    case 4:
      return DotFloatMulti<kHalf, 4>(n, w, x, out);
    case 3:
      return DotFloatMulti<kHalf, 3>(n, w, x, out);
    case 2:
      return DotFloatMulti<kHalf, 2>(n, w, x, out);
    default:
      return DotFloatMulti<kHalf, 1>(n, w, x, out);
  }
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

int Code(GgmlType t) { return static_cast<int>(t); }

}  // namespace

void FillAvx512Kernels(KernelSet* k) {
  k->level = SimdLevel::kAvx512;
  k->dot_q[Code(GgmlType::kQ8_0)] = DotQ8_0;
  k->dot_q_multi[Code(GgmlType::kQ8_0)] = DotQ8_0M;
  k->dot_q[Code(GgmlType::kQ4_0)] = DotQ4_0;
  k->dot_q_multi[Code(GgmlType::kQ4_0)] = DotQ4_0M;
  k->dot_q[Code(GgmlType::kQ5_0)] = DotQ5_0Single;
  k->dot_q_multi[Code(GgmlType::kQ5_0)] = DotQ5_0M;
  k->dot_q[Code(GgmlType::kQ4_K)] = DotQ4_KSingle;
  k->dot_q_multi[Code(GgmlType::kQ4_K)] = DotQ4_KM;
  k->dot_q[Code(GgmlType::kQ6_K)] = DotQ6_KSingle;
  k->dot_q_multi[Code(GgmlType::kQ6_K)] = DotQ6_KM;
  k->dot_f[Code(GgmlType::kF32)] = DotF32;
  k->dot_f[Code(GgmlType::kF16)] = DotF16;
  k->dot_f_multi[Code(GgmlType::kF32)] = DotFloatM<false>;
  k->dot_f_multi[Code(GgmlType::kF16)] = DotFloatM<true>;
  k->axpy = Axpy;
}

}  // namespace greffier::generate::internal
