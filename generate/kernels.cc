#include "generate/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "generate/fp16.h"
#include "generate/quant.h"

namespace greffier::generate {
namespace {

int Dot32(const int8_t* a, const int8_t* b) {
  int s = 0;
  for (int j = 0; j < 32; ++j) s += a[j] * b[j];
  return s;
}

float DotQ8_0(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n / 32; ++i) {
    sum += HalfToFloat(b[i].d) * x.d[i] * Dot32(b[i].qs, x.q + 32 * i);
  }
  return sum;
}

float DotQ4_0(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ4_0* b = static_cast<const BlockQ4_0*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n / 32; ++i) {
    const int8_t* q = x.q + 32 * i;
    int s = 0;
    for (int j = 0; j < 16; ++j) {
      s += ((b[i].qs[j] & 0xF) - 8) * q[j] + ((b[i].qs[j] >> 4) - 8) * q[j + 16];
    }
    sum += HalfToFloat(b[i].d) * x.d[i] * s;
  }
  return sum;
}

float DotQ4_1(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ4_1* b = static_cast<const BlockQ4_1*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n / 32; ++i) {
    const int8_t* q = x.q + 32 * i;
    int s = 0;
    for (int j = 0; j < 16; ++j) {
      s += (b[i].qs[j] & 0xF) * q[j] + (b[i].qs[j] >> 4) * q[j + 16];
    }
    sum += HalfToFloat(b[i].d) * x.d[i] * s + HalfToFloat(b[i].m) * x.s[i];
  }
  return sum;
}

template <typename Block, bool kHasMin>
float DotQ5(int64_t n, const void* w, const QuantizedRow& x) {
  const Block* b = static_cast<const Block*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n / 32; ++i) {
    const int8_t* q = x.q + 32 * i;
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    int s = 0;
    for (int j = 0; j < 16; ++j) {
      int lo = (b[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      int hi = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      if constexpr (!kHasMin) {
        lo -= 16;
        hi -= 16;
      }
      s += lo * q[j] + hi * q[j + 16];
    }
    float v = HalfToFloat(b[i].d) * x.d[i] * s;
    if constexpr (kHasMin) v += HalfToFloat(b[i].m) * x.s[i];
    sum += v;
  }
  return sum;
}

float DotQ4_K(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ4_K* b = static_cast<const BlockQ4_K*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n / 256; ++i) {
    float d = HalfToFloat(b[i].d), dmin = HalfToFloat(b[i].dmin);
    const int8_t* q = x.q + 256 * i;
    const float* xd = x.d + 8 * i;
    const float* xs = x.s + 8 * i;
    for (int c = 0; c < 4; ++c) {
      const uint8_t* qs = b[i].qs + 32 * c;
      int s1 = 0, s2 = 0;
      for (int l = 0; l < 32; ++l) {
        s1 += (qs[l] & 0xF) * q[64 * c + l];
        s2 += (qs[l] >> 4) * q[64 * c + 32 + l];
      }
      uint8_t sc, m;
      GetScaleMinK4(2 * c, b[i].scales, &sc, &m);
      sum += d * sc * xd[2 * c] * s1 - dmin * m * xs[2 * c];
      GetScaleMinK4(2 * c + 1, b[i].scales, &sc, &m);
      sum += d * sc * xd[2 * c + 1] * s2 - dmin * m * xs[2 * c + 1];
    }
  }
  return sum;
}

float DotQ5_K(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ5_K* b = static_cast<const BlockQ5_K*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n / 256; ++i) {
    float d = HalfToFloat(b[i].d), dmin = HalfToFloat(b[i].dmin);
    const int8_t* q = x.q + 256 * i;
    const float* xd = x.d + 8 * i;
    const float* xs = x.s + 8 * i;
    for (int c = 0; c < 4; ++c) {
      const uint8_t* qs = b[i].qs + 32 * c;
      int s1 = 0, s2 = 0;
      for (int l = 0; l < 32; ++l) {
        int h1 = (b[i].qh[l] >> (2 * c)) & 1;
        int h2 = (b[i].qh[l] >> (2 * c + 1)) & 1;
        s1 += ((qs[l] & 0xF) | (h1 << 4)) * q[64 * c + l];
        s2 += ((qs[l] >> 4) | (h2 << 4)) * q[64 * c + 32 + l];
      }
      uint8_t sc, m;
      GetScaleMinK4(2 * c, b[i].scales, &sc, &m);
      sum += d * sc * xd[2 * c] * s1 - dmin * m * xs[2 * c];
      GetScaleMinK4(2 * c + 1, b[i].scales, &sc, &m);
      sum += d * sc * xd[2 * c + 1] * s2 - dmin * m * xs[2 * c + 1];
    }
  }
  return sum;
}

float DotQ6_K(int64_t n, const void* w, const QuantizedRow& x) {
  const BlockQ6_K* b = static_cast<const BlockQ6_K*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n / 256; ++i) {
    float d = HalfToFloat(b[i].d);
    const int8_t* q = x.q + 256 * i;
    const float* xd = x.d + 8 * i;
    // Unpack to 256 signed values, then 16-element sub-block dots.
    int8_t v[256];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      int8_t* y = v + 128 * h;
      for (int l = 0; l < 32; ++l) {
        y[l] = static_cast<int8_t>(((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
        y[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        y[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        y[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    for (int s = 0; s < 8; ++s) {
      int s0 = 0, s1 = 0;
      for (int j = 0; j < 16; ++j) {
        s0 += v[32 * s + j] * q[32 * s + j];
        s1 += v[32 * s + 16 + j] * q[32 * s + 16 + j];
      }
      sum += d * xd[s] * (b[i].scales[2 * s] * s0 + b[i].scales[2 * s + 1] * s1);
    }
  }
  return sum;
}

float DotF32(int64_t n, const void* w, const float* x) {
  const float* a = static_cast<const float*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * x[i];
  return sum;
}

float DotF16(int64_t n, const void* w, const float* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += HalfToFloat(a[i]) * x[i];
  return sum;
}

float DotBF16(int64_t n, const void* w, const float* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += Bf16ToFloat(a[i]) * x[i];
  return sum;
}

void QuantizeActs(int64_t n, const float* x, int8_t* q, float* d, float* s) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* xb = x + 32 * b;
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
    float db = amax / 127.f;
    float id = db != 0 ? 127.f / amax : 0.f;
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      int v = static_cast<int>(std::lrintf(xb[j] * id));
      q[32 * b + j] = static_cast<int8_t>(v);
      sum += v;
    }
    d[b] = db;
    s[b] = db * sum;
  }
}

void Axpy(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void AttnScores(int hd, int n_pos, const float* kt, int64_t ldk, const float* q, int n_q,
                float scale, float* s, int64_t lds) {
  for (int g = 0; g < n_q; ++g) {
    float* sg = s + g * lds;
    std::fill(sg, sg + n_pos, 0.f);
    for (int i = 0; i < hd; ++i) {
      const float qi = q[g * hd + i];
      const float* k = kt + i * ldk;
      for (int p = 0; p < n_pos; ++p) sg[p] += qi * k[p];
    }
    for (int p = 0; p < n_pos; ++p) sg[p] *= scale;
  }
}

void Softmax(int n, float* x) {
  float max = -INFINITY;
  for (int i = 0; i < n; ++i) max = std::max(max, x[i]);
  float sum = 0;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = 1.f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void AttnValues(int hd, int n_pos, const float* v, int64_t ldv, const float* w, int64_t ldw,
                int n_q, float* out) {
  for (int g = 0; g < n_q; ++g) {
    float* o = out + g * hd;
    std::fill(o, o + hd, 0.f);
    for (int p = 0; p < n_pos; ++p) {
      const float wp = w[g * ldw + p];
      for (int i = 0; i < hd; ++i) o[i] += wp * v[p * ldv + i];
    }
  }
}

void SiluMul(int64_t n, float* g, const float* u) {
  for (int64_t i = 0; i < n; ++i) g[i] = g[i] / (1.f + std::exp(-g[i])) * u[i];
}

using internal::kQ4KPackedBytes;
using internal::kQ6KPackedBytes;

void GemmPackedQ6K(int64_t n, const uint8_t* panel, const QuantizedRow* x, int n_tok, int n_rows,
                   float* y, int64_t ldy) {
  for (int t = 0; t < n_tok; ++t) {
    for (int r = 0; r < n_rows; ++r) {
      float sum = 0;
      for (int64_t sb = 0; sb < n / 256; ++sb) {
        const uint8_t* h = panel + sb * kQ6KPackedBytes;
        uint16_t d;
        std::memcpy(&d, h + 2 * r, 2);
        for (int j = 0; j < 8; ++j) {
          const int64_t blk = 8 * sb + j;
          const uint8_t* q = h + 320 + 384 * j + 4 * r;
          int s[2] = {0, 0};
          for (int e = 0; e < 32; ++e) {
            const int g = e / 4;
            const uint8_t byte = q[64 * (g % 4) + e % 4];
            const int lo = g < 4 ? byte & 0xF : byte >> 4;
            const int hi = (q[256 + 64 * (g / 4) + e % 4] >> (2 * (g % 4))) & 3;
            s[e / 16] += ((lo | hi << 4) - 32) * x[t].q[32 * blk + e];
          }
          const auto* sc = reinterpret_cast<const int8_t*>(h + 32);
          sum += HalfToFloat(d) * x[t].d[blk] *
                 (sc[16 * (2 * j) + r] * s[0] + sc[16 * (2 * j + 1) + r] * s[1]);
        }
      }
      y[t * ldy + r] = sum;
    }
  }
}
using internal::ScaleSectionBytes;

void GemmPackedQ4K(int64_t n, const uint8_t* panel, const QuantizedRow* x, int n_tok, int n_rows,
                   float* y, int64_t ldy) {
  for (int t = 0; t < n_tok; ++t) {
    for (int r = 0; r < n_rows; ++r) {
      float sum = 0;
      for (int64_t sb = 0; sb < n / 256; ++sb) {
        const uint8_t* h = panel + sb * kQ4KPackedBytes;
        uint16_t d, dmin;
        std::memcpy(&d, h + 2 * r, 2);
        std::memcpy(&dmin, h + 32 + 2 * r, 2);
        for (int j = 0; j < 8; ++j) {
          const int64_t blk = 8 * sb + j;
          const uint8_t* q = h + 320 + 512 * (j / 2) + 4 * r;
          int s = 0;
          for (int e = 0; e < 32; ++e) {
            const uint8_t byte = q[64 * (e / 4) + e % 4];
            s += (j % 2 ? byte >> 4 : byte & 0xF) * x[t].q[32 * blk + e];
          }
          sum += HalfToFloat(d) * h[64 + 16 * j + r] * x[t].d[blk] * s -
                 HalfToFloat(dmin) * h[192 + 16 * j + r] * x[t].s[blk];
        }
      }
      y[t * ldy + r] = sum;
    }
  }
}

// Bytes of one block's quants in a panel.
int PackedBlockBytes(GgmlType type) {
  return type == GgmlType::kQ4_0 ? 256 : type == GgmlType::kQ5_0 ? 320 : 512;
}

// Element e (0..31) of row r in block i of a packed panel.
template <GgmlType kType>
int PackedElem(const uint8_t* quants, int64_t i, int r, int e) {
  if constexpr (kType == GgmlType::kQ8_0) {
    return static_cast<int8_t>(quants[512 * i + 64 * (e / 4) + 4 * r + e % 4]);
  } else {
    constexpr int kBytes = kType == GgmlType::kQ4_0 ? 256 : 320;
    const uint8_t* q = quants + kBytes * i + 4 * r + e % 4;
    const uint8_t byte = q[64 * ((e % 16) / 4)];
    const int nib = e < 16 ? byte & 0xF : byte >> 4;
    if constexpr (kType == GgmlType::kQ4_0) return nib - 8;
    return (nib | ((q[256] >> (e / 4)) & 1) << 4) - 16;
  }
}

template <GgmlType kType>
void GemmPacked(int64_t n, const uint8_t* panel, const QuantizedRow* x, int n_tok, int n_rows,
                float* y, int64_t ldy) {
  const int64_t nb = n / 32;
  const uint16_t* scales = reinterpret_cast<const uint16_t*>(panel);
  const uint8_t* quants = panel + ScaleSectionBytes(nb);
  for (int t = 0; t < n_tok; ++t) {
    for (int r = 0; r < n_rows; ++r) {
      float sum = 0;
      for (int64_t i = 0; i < nb; ++i) {
        int s = 0;
        for (int e = 0; e < 32; ++e) {
          s += PackedElem<kType>(quants, i, r, e) * x[t].q[32 * i + e];
        }
        sum += HalfToFloat(scales[kPackRows * i + r]) * x[t].d[i] * s;
      }
      y[t * ldy + r] = sum;
    }
  }
}

int Code(GgmlType t) { return static_cast<int>(t); }

bool HasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
}
bool HasAvx512() {
  return HasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
}

struct AllKernels {
  KernelSet scalar, avx2, avx512;
  bool has_avx2 = false, has_avx512 = false;
  const KernelSet* best = nullptr;
  AllKernels() {
    internal::FillScalarKernels(&scalar);
    has_avx2 = HasAvx2();
    has_avx512 = HasAvx512();
    avx2 = scalar;
    avx2.level = SimdLevel::kAvx2;
    if (has_avx2) internal::FillAvx2Kernels(&avx2);
    avx512 = avx2;
    avx512.level = SimdLevel::kAvx512;
    if (has_avx512) internal::FillAvx512Kernels(&avx512);
    best = has_avx512 ? &avx512 : has_avx2 ? &avx2 : &scalar;
    if (const char* env = std::getenv("GREFFIER_SIMD")) {
      std::string_view e(env);
      if (e == "scalar") best = &scalar;
      if (e == "avx2" && has_avx2) best = &avx2;
    }
  }
};

const AllKernels& All() {
  static const AllKernels* all = new AllKernels();
  return *all;
}

}  // namespace

std::string_view SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar:
      return "scalar";
    case SimdLevel::kAvx2:
      return "avx2";
    case SimdLevel::kAvx512:
      return "avx512-vnni";
  }
  return "?";
}

bool HasPackedLayout(GgmlType type) {
  return type == GgmlType::kQ4_0 || type == GgmlType::kQ5_0 || type == GgmlType::kQ8_0 ||
         type == GgmlType::kQ4_K || type == GgmlType::kQ6_K;
}

size_t PackedPanelBytes(GgmlType type, int64_t cols) {
  if (type == GgmlType::kQ4_K) return static_cast<size_t>(cols / 256) * kQ4KPackedBytes;
  if (type == GgmlType::kQ6_K) return static_cast<size_t>(cols / 256) * kQ6KPackedBytes;
  const int64_t nb = cols / 32;
  return ScaleSectionBytes(nb) + static_cast<size_t>(nb) * PackedBlockBytes(type);
}

void PackRows(GgmlType type, const uint8_t* src, size_t row_bytes, int64_t rows, int64_t cols,
              uint8_t* dst) {
  const int64_t nb = cols / 32;
  const size_t panel_bytes = PackedPanelBytes(type, cols);
  const int64_t n_panels = (rows + kPackRows - 1) / kPackRows;
  const int qb = PackedBlockBytes(type);
  std::memset(dst, 0, panel_bytes * n_panels);
  if (type == GgmlType::kQ6_K) {
    for (int64_t p = 0; p < n_panels; ++p) {
      for (int r = 0; r < kPackRows && p * kPackRows + r < rows; ++r) {
        const auto* b = reinterpret_cast<const BlockQ6_K*>(src + (p * kPackRows + r) * row_bytes);
        for (int64_t sb = 0; sb < cols / 256; ++sb) {
          uint8_t* h = dst + p * panel_bytes + sb * kQ6KPackedBytes;
          std::memcpy(h + 2 * r, &b[sb].d, 2);
          for (int s = 0; s < 16; ++s) {
            h[32 + 16 * s + r] = static_cast<uint8_t>(b[sb].scales[s]);
          }
          // The super-block's 256 values (0..63), as in DotQ6_K.
          uint8_t v[256];
          for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = b[sb].ql + 64 * half;
            const uint8_t* qh = b[sb].qh + 32 * half;
            uint8_t* o = v + 128 * half;
            for (int l = 0; l < 32; ++l) {
              o[l] = (ql[l] & 0xF) | (qh[l] & 3) << 4;
              o[l + 32] = (ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4;
              o[l + 64] = (ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4;
              o[l + 96] = (ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4;
            }
          }
          for (int j = 0; j < 8; ++j) {
            uint8_t* q = h + 320 + 384 * j + 4 * r;
            for (int e = 0; e < 32; ++e) {
              const int g = e / 4;
              const uint8_t val = v[32 * j + e];
              q[64 * (g % 4) + e % 4] |= g < 4 ? (val & 0xF) : (val & 0xF) << 4;
              q[256 + 64 * (g / 4) + e % 4] |= (val >> 4) << (2 * (g % 4));
            }
          }
        }
      }
    }
    return;
  }
  if (type == GgmlType::kQ4_K) {
    for (int64_t p = 0; p < n_panels; ++p) {
      for (int r = 0; r < kPackRows && p * kPackRows + r < rows; ++r) {
        const auto* b = reinterpret_cast<const BlockQ4_K*>(src + (p * kPackRows + r) * row_bytes);
        for (int64_t sb = 0; sb < cols / 256; ++sb) {
          uint8_t* h = dst + p * panel_bytes + sb * kQ4KPackedBytes;
          std::memcpy(h + 2 * r, &b[sb].d, 2);
          std::memcpy(h + 32 + 2 * r, &b[sb].dmin, 2);
          for (int j = 0; j < 8; ++j) {
            GetScaleMinK4(j, b[sb].scales, h + 64 + 16 * j + r, h + 192 + 16 * j + r);
          }
          for (int ch = 0; ch < 4; ++ch) {
            for (int g = 0; g < 8; ++g) {
              std::memcpy(h + 320 + 512 * ch + 64 * g + 4 * r, b[sb].qs + 32 * ch + 4 * g, 4);
            }
          }
        }
      }
    }
    return;
  }
  for (int64_t p = 0; p < n_panels; ++p) {
    uint8_t* panel = dst + p * panel_bytes;
    uint8_t* quants = panel + ScaleSectionBytes(nb);
    for (int r = 0; r < kPackRows && p * kPackRows + r < rows; ++r) {
      const uint8_t* row = src + (p * kPackRows + r) * row_bytes;
      for (int64_t i = 0; i < nb; ++i) {
        uint8_t* q = quants + qb * i + 4 * r;
        uint16_t d;
        if (type == GgmlType::kQ4_0) {
          const BlockQ4_0& b = reinterpret_cast<const BlockQ4_0*>(row)[i];
          d = b.d;
          for (int g = 0; g < 4; ++g) std::memcpy(q + 64 * g, b.qs + 4 * g, 4);
        } else if (type == GgmlType::kQ5_0) {
          const BlockQ5_0& b = reinterpret_cast<const BlockQ5_0*>(row)[i];
          d = b.d;
          for (int g = 0; g < 4; ++g) std::memcpy(q + 64 * g, b.qs + 4 * g, 4);
          uint32_t qh;
          std::memcpy(&qh, b.qh, 4);
          // Byte e, bit g: the 5th bit of element 4g + e.
          for (int e = 0; e < 4; ++e) {
            uint8_t bits = 0;
            for (int g = 0; g < 8; ++g) bits |= ((qh >> (4 * g + e)) & 1) << g;
            q[256 + e] = bits;
          }
        } else {
          const BlockQ8_0& b = reinterpret_cast<const BlockQ8_0*>(row)[i];
          d = b.d;
          for (int g = 0; g < 8; ++g) std::memcpy(q + 64 * g, b.qs + 4 * g, 4);
        }
        std::memcpy(panel + 2 * (kPackRows * i + r), &d, 2);
      }
    }
  }
}

bool UsesQuantizedActs(GgmlType type) {
  return type != GgmlType::kF32 && type != GgmlType::kF16 && type != GgmlType::kBF16;
}

const KernelSet& BestKernels() { return *All().best; }

const KernelSet* KernelsFor(SimdLevel level) {
  const AllKernels& a = All();
  switch (level) {
    case SimdLevel::kScalar:
      return &a.scalar;
    case SimdLevel::kAvx2:
      return a.has_avx2 ? &a.avx2 : nullptr;
    case SimdLevel::kAvx512:
      return a.has_avx512 ? &a.avx512 : nullptr;
  }
  return nullptr;
}

namespace internal {
void FillScalarKernels(KernelSet* k) {
  k->level = SimdLevel::kScalar;
  k->dot_q[Code(GgmlType::kQ8_0)] = DotQ8_0;
  k->dot_q[Code(GgmlType::kQ4_0)] = DotQ4_0;
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
  k->gemm_packed[Code(GgmlType::kQ4_K)] = GemmPackedQ4K;
  k->gemm_packed[Code(GgmlType::kQ6_K)] = GemmPackedQ6K;
  k->quantize_acts = QuantizeActs;
  k->axpy = Axpy;
  k->attn_scores = AttnScores;
  k->softmax = Softmax;
  k->attn_values = AttnValues;
  k->silu_mul = SiluMul;
}
}  // namespace internal

}  // namespace greffier::generate
