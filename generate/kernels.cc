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
  k->quantize_acts = QuantizeActs;
  k->axpy = Axpy;
}
}  // namespace internal

}  // namespace greffier::generate
