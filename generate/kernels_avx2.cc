// AVX2 + FMA + F16C kernels; this file is compiled with -mavx2 -mfma -mf16c
// and only called after a runtime CPU check.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "generate/fp16.h"
#include "generate/kernels.h"
#include "generate/quant.h"

namespace greffier::generate::internal {
namespace {

inline float Hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float H2F(uint16_t h) { return _cvtsh_ss(h); }

// Sum of u8 x s8 products, as 8 int32 lanes.
inline __m256i DotU8S8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Sum of s8 x s8 products, as 8 int32 lanes.
inline __m256i DotS8S8(__m256i a, __m256i b) {
  return DotU8S8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

// 16 packed nibble bytes -> 32 bytes: low nibbles then high nibbles.
inline __m256i Nibbles(const uint8_t* qs) {
  __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes of 0x10 where the bit is set.
inline __m256i BitsToBytes(uint32_t bits) {
  const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                          0x0202020202020202, 0x0303030303030303);
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  const __m256i mask = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe);
  v = _mm256_or_si256(v, mask);
  v = _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
  return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

float DotQ8_0(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(w);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / 32; ++i) {
    __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs));
    __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q + 32 * i));
    __m256 p = _mm256_cvtepi32_ps(DotS8S8(wq, xq));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(H2F(b[i].d) * x.d[i]), p, acc);
  }
  return Hsum(acc);
}

// Several tokens per pass over the weight row (prompt processing).
template <int kCols>
void DotQ8_0Multi(int64_t n, const void* w, const QuantizedRow* x, float* out) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(w);
  __m256 acc[kCols];
  for (int c = 0; c < kCols; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / 32; ++i) {
    __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs));
    __m256i aw = _mm256_sign_epi8(wq, wq);
    const float d = H2F(b[i].d);
    for (int c = 0; c < kCols; ++c) {
      __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c].q + 32 * i));
      __m256 p = _mm256_cvtepi32_ps(DotU8S8(aw, _mm256_sign_epi8(xq, wq)));
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d * x[c].d[i]), p, acc[c]);
    }
  }
  for (int c = 0; c < kCols; ++c) out[c] = Hsum(acc[c]);
}

template <int kCols>
void DotQ4_0Multi(int64_t n, const void* w, const QuantizedRow* x, float* out) {
  const BlockQ4_0* b = static_cast<const BlockQ4_0*>(w);
  __m256 acc[kCols];
  float corr[kCols];
  for (int c = 0; c < kCols; ++c) {
    acc[c] = _mm256_setzero_ps();
    corr[c] = 0;
  }
  for (int64_t i = 0; i < n / 32; ++i) {
    __m256i q = Nibbles(b[i].qs);
    const float d = H2F(b[i].d);
    for (int c = 0; c < kCols; ++c) {
      __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c].q + 32 * i));
      __m256 p = _mm256_cvtepi32_ps(DotU8S8(q, xq));
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d * x[c].d[i]), p, acc[c]);
      corr[c] += d * x[c].s[i];
    }
  }
  for (int c = 0; c < kCols; ++c) out[c] = Hsum(acc[c]) - 8.f * corr[c];
}

#define GREFFIER_MULTI(NAME)                                                                    \
  void NAME##M(int64_t n, const void* w, const QuantizedRow* x, int n_cols, float* out) {       \
    internal::ForTileWidth<kMaxCols>(n_cols, [&]<int kC>() { NAME##Multi<kC>(n, w, x, out); }); \
  }
GREFFIER_MULTI(DotQ8_0)
GREFFIER_MULTI(DotQ4_0)
#undef GREFFIER_MULTI

float DotQ4_0(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ4_0* b = static_cast<const BlockQ4_0*>(w);
  __m256 acc = _mm256_setzero_ps();
  float corr = 0;
  for (int64_t i = 0; i < n / 32; ++i) {
    __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q + 32 * i));
    __m256 p = _mm256_cvtepi32_ps(DotU8S8(Nibbles(b[i].qs), xq));
    float d = H2F(b[i].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d * x.d[i]), p, acc);
    corr += d * x.s[i];
  }
  return Hsum(acc) - 8.f * corr;
}

float DotQ4_1(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ4_1* b = static_cast<const BlockQ4_1*>(w);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  for (int64_t i = 0; i < n / 32; ++i) {
    __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q + 32 * i));
    __m256 p = _mm256_cvtepi32_ps(DotU8S8(Nibbles(b[i].qs), xq));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(H2F(b[i].d) * x.d[i]), p, acc);
    mins += H2F(b[i].m) * x.s[i];
  }
  return Hsum(acc) + mins;
}

template <typename Block, bool kHasMin>
float DotQ5(int64_t n, const void* w, const QuantizedRow& x) {
  const Block* b = static_cast<const Block*>(w);
  __m256 acc = _mm256_setzero_ps();
  float corr = 0;
  for (int64_t i = 0; i < n / 32; ++i) {
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    __m256i q = _mm256_or_si256(Nibbles(b[i].qs), BitsToBytes(qh));
    __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q + 32 * i));
    __m256 p = _mm256_cvtepi32_ps(DotU8S8(q, xq));
    float d = H2F(b[i].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d * x.d[i]), p, acc);
    if constexpr (kHasMin) {
      corr += H2F(b[i].m) * x.s[i];
    } else {
      corr -= 16.f * d * x.s[i];
    }
  }
  return Hsum(acc) + corr;
}

float DotQ4_K(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ4_K* b = static_cast<const BlockQ4_K*>(w);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int64_t i = 0; i < n / 256; ++i) {
    float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
    const int8_t* q = x.q + 256 * i;
    const float* xd = x.d + 8 * i;
    const float* xs = x.s + 8 * i;
    for (int c = 0; c < 4; ++c) {
      __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs + 32 * c));
      __m256i lo = _mm256_and_si256(qs, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qs, 4), m4);
      __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * c));
      __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * c + 32));
      uint8_t sc0, m0, sc1, m1;
      GetScaleMinK4(2 * c, b[i].scales, &sc0, &m0);
      GetScaleMinK4(2 * c + 1, b[i].scales, &sc1, &m1);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc0 * xd[2 * c]),
                            _mm256_cvtepi32_ps(DotU8S8(lo, x0)), acc);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc1 * xd[2 * c + 1]),
                            _mm256_cvtepi32_ps(DotU8S8(hi, x1)), acc);
      mins += dmin * (m0 * xs[2 * c] + m1 * xs[2 * c + 1]);
    }
  }
  return Hsum(acc) - mins;
}

float DotQ5_K(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ5_K* b = static_cast<const BlockQ5_K*>(w);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n / 256; ++i) {
    float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
    const int8_t* q = x.q + 256 * i;
    const float* xd = x.d + 8 * i;
    const float* xs = x.s + 8 * i;
    __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qh));
    for (int c = 0; c < 4; ++c) {
      __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs + 32 * c));
      __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one);
      __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one);
      __m256i lo = _mm256_or_si256(_mm256_and_si256(qs, m4), _mm256_slli_epi16(h0, 4));
      __m256i hi =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qs, 4), m4), _mm256_slli_epi16(h1, 4));
      __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * c));
      __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * c + 32));
      uint8_t sc0, m0, sc1, m1;
      GetScaleMinK4(2 * c, b[i].scales, &sc0, &m0);
      GetScaleMinK4(2 * c + 1, b[i].scales, &sc1, &m1);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc0 * xd[2 * c]),
                            _mm256_cvtepi32_ps(DotU8S8(lo, x0)), acc);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc1 * xd[2 * c + 1]),
                            _mm256_cvtepi32_ps(DotU8S8(hi, x1)), acc);
      mins += dmin * (m0 * xs[2 * c] + m1 * xs[2 * c + 1]);
    }
  }
  return Hsum(acc) - mins;
}

float DotQ6_K(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ6_K* b = static_cast<const BlockQ6_K*>(w);
  __m256 acc = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i k32 = _mm256_set1_epi8(32);
  for (int64_t i = 0; i < n / 256; ++i) {
    const float d = H2F(b[i].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qh + 32 * h));
      __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      __m256i q[4];
      q[0] =
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
      for (int j = 0; j < 4; ++j) {
        const int blk = 4 * h + j;  // 32-element block within the super-block
        __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q + 256 * i + 32 * blk));
        __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(q[j], xq), _mm256_maddubs_epi16(k32, xq));
        const int8_t* sc = b[i].scales + 2 * blk;
        __m256i scv = _mm256_set_m128i(_mm_set1_epi16(sc[1]), _mm_set1_epi16(sc[0]));
        __m256i s32 = _mm256_madd_epi16(p, scv);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d * x.d[8 * i + blk]), _mm256_cvtepi32_ps(s32), acc);
      }
    }
  }
  return Hsum(acc);
}

float DotF32(int64_t n, const void* w, const float* x) {
  const float* a = static_cast<const float*>(w);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(x + i), acc0);
  }
  float s = Hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += a[i] * x[i];
  return s;
}

float DotF16(int64_t n, const void* w, const float* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + 8)));
    acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), acc1);
  }
  float s = Hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += HalfToFloat(a[i]) * x[i];
  return s;
}

float DotBF16(int64_t n, const void* w, const float* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    __m256 wf = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    acc = _mm256_fmadd_ps(wf, _mm256_loadu_ps(x + i), acc);
  }
  float s = Hsum(acc);
  for (; i < n; ++i) s += Bf16ToFloat(a[i]) * x[i];
  return s;
}

// Bit-identical to the scalar version: same scale, round-to-nearest-even.
void QuantizeActs(int64_t n, const float* x, int8_t* q, float* d, float* s) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* xb = x + 32 * b;
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(xb + 8 * j);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v[j]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float amax_s = _mm_cvtss_f32(m);
    const float db = amax_s / 127.f;
    const float id = db != 0 ? 127.f / amax_s : 0.f;
    __m256 idv = _mm256_set1_ps(id);
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v[0], idv));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v[1], idv));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v[2], idv));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v[3], idv));
    __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
    __m256i p01 = _mm256_packs_epi32(i0, i1);
    __m256i p23 = _mm256_packs_epi32(i2, i3);
    __m256i p = _mm256_packs_epi16(p01, p23);
    // Undo the lane interleaving of the packs.
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 32 * b), p);
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s4 = _mm_hadd_epi32(s4, s4);
    s4 = _mm_hadd_epi32(s4, s4);
    d[b] = db;
    s[b] = db * static_cast<float>(_mm_cvtsi128_si32(s4));
  }
}

// ---- Packed Q4_0 / Q8_0: 8 rows (half a panel) x up to 4 tokens ----------

// Lane r of a 256-bit register holds 4 weights of row r; activations are
// broadcast 4 bytes at a time. Q4_0/Q5_0: values 0..15 / 0..31 (offset 8 /
// 16) are the unsigned operand of maddubs; Q4_0's 8 groups of pair sums
// fit int16 (8 * 2 * 15 * 127 < 32768), so one madd per block widens them.
// Q8_0: signed weights, by the sign trick one group at a time.
template <GgmlType kType, int kTok>
void GemmPackedHalf(int64_t nb, const uint16_t* scales, const uint8_t* quants,
                    const QuantizedRow* x, float* out) {
  constexpr bool kQ4 = kType != GgmlType::kQ8_0;  // 4-bit nibbles (Q4_0, Q5_0)
  constexpr bool kQ5 = kType == GgmlType::kQ5_0;
  constexpr int kBlockBytes = kType == GgmlType::kQ4_0 ? 256 : kQ5 ? 320 : 512;
  __m256 acc[kTok];
  for (int c = 0; c < kTok; ++c) acc[c] = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < nb; ++i) {
    const __m256 dw =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 16 * i)));
    const uint8_t* q = quants + kBlockBytes * i;
    if constexpr (kTok == 1) {
      // Generation streams the weights once: fetch ahead of the loads.
      for (int l = 0; l < kBlockBytes; l += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(q + 16 * kBlockBytes + l), _MM_HINT_T0);
      }
    }
    __m256i wv[8];
    for (int g = 0; g < (kQ4 ? 4 : 8); ++g) {
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * g));
      if constexpr (kQ4) {
        wv[g] = _mm256_and_si256(v, m4);
        wv[g + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      } else {
        wv[g] = v;
      }
    }
    if constexpr (kQ5) {
      // Bit g of each byte to bit 4 (see the AVX-512 kernel).
      const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 256));
      const __m256i b4 = _mm256_set1_epi8(0x10);
      wv[0] = _mm256_or_si256(wv[0], _mm256_and_si256(_mm256_slli_epi16(hb, 4), b4));
      wv[1] = _mm256_or_si256(wv[1], _mm256_and_si256(_mm256_slli_epi16(hb, 3), b4));
      wv[2] = _mm256_or_si256(wv[2], _mm256_and_si256(_mm256_slli_epi16(hb, 2), b4));
      wv[3] = _mm256_or_si256(wv[3], _mm256_and_si256(_mm256_slli_epi16(hb, 1), b4));
      wv[4] = _mm256_or_si256(wv[4], _mm256_and_si256(hb, b4));
      wv[5] = _mm256_or_si256(wv[5], _mm256_and_si256(_mm256_srli_epi16(hb, 1), b4));
      wv[6] = _mm256_or_si256(wv[6], _mm256_and_si256(_mm256_srli_epi16(hb, 2), b4));
      wv[7] = _mm256_or_si256(wv[7], _mm256_and_si256(_mm256_srli_epi16(hb, 3), b4));
    }
    for (int c = 0; c < kTok; ++c) {
      const int8_t* xq = x[c].q + 32 * i;
      __m256i s;
      if constexpr (kQ4) {
        // Q5_0 values reach 31: widen every 4 groups (4 * 2 * 31 * 127 < 32768).
        constexpr int kWiden = kQ5 ? 4 : 8;
        s = _mm256_set1_epi32((kQ5 ? -16 : -8) * x[c].qsum[i]);
        for (int g0 = 0; g0 < 8; g0 += kWiden) {
          __m256i p16 = _mm256_setzero_si256();
          for (int g = g0; g < g0 + kWiden; ++g) {
            int32_t x4;
            std::memcpy(&x4, xq + 4 * g, 4);
            p16 = _mm256_add_epi16(p16, _mm256_maddubs_epi16(wv[g], _mm256_set1_epi32(x4)));
          }
          s = _mm256_add_epi32(s, _mm256_madd_epi16(p16, ones));
        }
      } else {
        s = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g) {
          int32_t x4;
          std::memcpy(&x4, xq + 4 * g, 4);
          s = _mm256_add_epi32(s, DotS8S8(wv[g], _mm256_set1_epi32(x4)));
        }
      }
      acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x[c].d[i])), _mm256_cvtepi32_ps(s),
                               acc[c]);
    }
  }
  for (int c = 0; c < kTok; ++c) _mm256_storeu_ps(out + 8 * c, acc[c]);
}

template <GgmlType kType>
void GemmPacked(int64_t n, const uint8_t* panel, const QuantizedRow* x, int n_tok, int n_rows,
                float* y, int64_t ldy) {
  const int64_t nb = n / 32;
  const uint16_t* scales = reinterpret_cast<const uint16_t*>(panel);
  const uint8_t* quants = panel + ScaleSectionBytes(nb);
  float out[4 * 8];
  for (int h = 0; h < 2 && 8 * h < n_rows; ++h) {
    const int rows = std::min(8, n_rows - 8 * h);
    for (int t = 0; t < n_tok; t += 4) {
      const int nc = std::min(4, n_tok - t);
      // Half h: the upper 8 lanes' scales and bytes.
      const uint16_t* sh = scales + 8 * h;
      const uint8_t* qh = quants + 32 * h;
      internal::ForTileWidth<4>(
          nc, [&]<int kW>() { GemmPackedHalf<kType, kW>(nb, sh, qh, x + t, out); });
      for (int c = 0; c < nc; ++c) {
        std::memcpy(y + (t + c) * ldy + 8 * h, out + 8 * c, rows * sizeof(float));
      }
    }
  }
}

void Axpy(int64_t n, float a, const float* x, float* y) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

// ---- Attention (scores and value sums; softmax stays scalar) --------------

// Lane mask for the first n (< 8) of 8 floats.
inline __m256i TailMask8(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

template <int kQ>
void ScoresTile(int hd, int n_pos, const float* kt, int64_t ldk, const float* q, float scale,
                float* s, int64_t lds) {
  for (int p0 = 0; p0 < n_pos; p0 += 8) {
    const bool full = n_pos - p0 >= 8;
    const __m256i m = TailMask8(n_pos - p0);
    __m256 acc[kQ];
    for (int g = 0; g < kQ; ++g) acc[g] = _mm256_setzero_ps();
    for (int i = 0; i < hd; ++i) {
      const float* kp = kt + i * ldk + p0;
      const __m256 k = full ? _mm256_loadu_ps(kp) : _mm256_maskload_ps(kp, m);
      for (int g = 0; g < kQ; ++g)
        acc[g] = _mm256_fmadd_ps(_mm256_set1_ps(q[g * hd + i]), k, acc[g]);
    }
    const __m256 sv = _mm256_set1_ps(scale);
    for (int g = 0; g < kQ; ++g) {
      const __m256 r = _mm256_mul_ps(acc[g], sv);
      if (full) {
        _mm256_storeu_ps(s + g * lds + p0, r);
      } else {
        _mm256_maskstore_ps(s + g * lds + p0, m, r);
      }
    }
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

// kQ heads x 16 output dims in registers across every position.
template <int kQ>
void ValuesTile(int hd, int n_pos, const float* v, int64_t ldv, const float* w, int64_t ldw,
                float* out) {
  for (int i0 = 0; i0 < hd; i0 += 16) {
    const __m256i m0 = TailMask8(hd - i0), m1 = TailMask8(hd - i0 - 8);
    const bool full = hd - i0 >= 16;
    __m256 acc[kQ][2];
    for (int g = 0; g < kQ; ++g) acc[g][0] = acc[g][1] = _mm256_setzero_ps();
    for (int p = 0; p < n_pos; ++p) {
      const float* vp = v + p * ldv + i0;
      const __m256 v0 = full ? _mm256_loadu_ps(vp) : _mm256_maskload_ps(vp, m0);
      const __m256 v1 = full ? _mm256_loadu_ps(vp + 8) : _mm256_maskload_ps(vp + 8, m1);
      for (int g = 0; g < kQ; ++g) {
        const __m256 wg = _mm256_set1_ps(w[g * ldw + p]);
        acc[g][0] = _mm256_fmadd_ps(wg, v0, acc[g][0]);
        acc[g][1] = _mm256_fmadd_ps(wg, v1, acc[g][1]);
      }
    }
    for (int g = 0; g < kQ; ++g) {
      float* o = out + g * hd + i0;
      if (full) {
        _mm256_storeu_ps(o, acc[g][0]);
        _mm256_storeu_ps(o + 8, acc[g][1]);
      } else {
        _mm256_maskstore_ps(o, m0, acc[g][0]);
        _mm256_maskstore_ps(o + 8, m1, acc[g][1]);
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

void FillAvx2Kernels(KernelSet* k) {
  k->level = SimdLevel::kAvx2;
  k->dot_q[Code(GgmlType::kQ8_0)] = DotQ8_0;
  k->dot_q[Code(GgmlType::kQ4_0)] = DotQ4_0;
  k->dot_q_multi[Code(GgmlType::kQ8_0)] = DotQ8_0M;
  k->dot_q_multi[Code(GgmlType::kQ4_0)] = DotQ4_0M;
  k->dot_q[Code(GgmlType::kQ4_1)] = DotQ4_1;
  k->dot_q[Code(GgmlType::kQ5_0)] = DotQ5<BlockQ5_0, false>;
  k->dot_q[Code(GgmlType::kQ5_1)] = DotQ5<BlockQ5_1, true>;
  k->dot_q[Code(GgmlType::kQ4_K)] = DotQ4_K;
  k->dot_q[Code(GgmlType::kQ5_K)] = DotQ5_K;
  k->dot_q[Code(GgmlType::kQ6_K)] = DotQ6_K;
  k->dot_f[Code(GgmlType::kF32)] = DotF32;
  k->dot_f[Code(GgmlType::kF16)] = DotF16;
  k->dot_f[Code(GgmlType::kBF16)] = DotBF16;
  k->gemm_packed[Code(GgmlType::kQ4_0)] = GemmPacked<GgmlType::kQ4_0>;
  k->gemm_packed[Code(GgmlType::kQ5_0)] = GemmPacked<GgmlType::kQ5_0>;
  k->gemm_packed[Code(GgmlType::kQ8_0)] = GemmPacked<GgmlType::kQ8_0>;
  // No AVX2 version: the scalar one would be slower than the unpacked kernels.
  k->gemm_packed[Code(GgmlType::kQ4_K)] = nullptr;
  k->gemm_packed[Code(GgmlType::kQ6_K)] = nullptr;
  k->quantize_acts = QuantizeActs;
  k->axpy = Axpy;
  k->attn_scores = AttnScores;
  k->attn_values = AttnValues;
}

}  // namespace greffier::generate::internal
