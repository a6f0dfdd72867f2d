#include "generate/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "generate/fp16.h"
#include "generate/str_util.h"

namespace greffier::generate {
namespace {

int NearestInt(float x) { return static_cast<int>(std::lrintf(x)); }

// ---- Dequantization ------------------------------------------------------

void DeqQ4_0(const BlockQ4_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    float d = HalfToFloat(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * ((b[i].qs[j] & 0xF) - 8);
      y[j + 16] = d * ((b[i].qs[j] >> 4) - 8);
    }
  }
}

void DeqQ4_1(const BlockQ4_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    float d = HalfToFloat(b[i].d), m = HalfToFloat(b[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * (b[i].qs[j] & 0xF) + m;
      y[j + 16] = d * (b[i].qs[j] >> 4) + m;
    }
  }
}

void DeqQ5_0(const BlockQ5_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    float d = HalfToFloat(b[i].d);
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    for (int j = 0; j < 16; ++j) {
      int lo = (b[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      int hi = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[j] = d * (lo - 16);
      y[j + 16] = d * (hi - 16);
    }
  }
}

void DeqQ5_1(const BlockQ5_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    float d = HalfToFloat(b[i].d), m = HalfToFloat(b[i].m);
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    for (int j = 0; j < 16; ++j) {
      int lo = (b[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      int hi = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[j] = d * lo + m;
      y[j + 16] = d * hi + m;
    }
  }
}

void DeqQ8_0(const BlockQ8_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    float d = HalfToFloat(b[i].d);
    for (int j = 0; j < 32; ++j) y[j] = d * b[i].qs[j];
  }
}

void DeqQ4_K(const BlockQ4_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    float d = HalfToFloat(b[i].d), dmin = HalfToFloat(b[i].dmin);
    const uint8_t* q = b[i].qs;
    for (int c = 0; c < 4; ++c, q += 32, y += 64) {
      uint8_t sc, m;
      GetScaleMinK4(2 * c, b[i].scales, &sc, &m);
      float d1 = d * sc, m1 = dmin * m;
      GetScaleMinK4(2 * c + 1, b[i].scales, &sc, &m);
      float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) y[l] = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) y[32 + l] = d2 * (q[l] >> 4) - m2;
    }
  }
}

void DeqQ5_K(const BlockQ5_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    float d = HalfToFloat(b[i].d), dmin = HalfToFloat(b[i].dmin);
    const uint8_t* q = b[i].qs;
    for (int c = 0; c < 4; ++c, q += 32, y += 64) {
      uint8_t sc, m;
      GetScaleMinK4(2 * c, b[i].scales, &sc, &m);
      float d1 = d * sc, m1 = dmin * m;
      GetScaleMinK4(2 * c + 1, b[i].scales, &sc, &m);
      float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) {
        int h1 = (b[i].qh[l] >> (2 * c)) & 1;
        int h2 = (b[i].qh[l] >> (2 * c + 1)) & 1;
        y[l] = d1 * ((q[l] & 0xF) | (h1 << 4)) - m1;
        y[32 + l] = d2 * ((q[l] >> 4) | (h2 << 4)) - m2;
      }
    }
  }
}

void DeqQ6_K(const BlockQ6_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    float d = HalfToFloat(b[i].d);
    for (int n = 0; n < 2; ++n, y += 128) {
      const uint8_t* ql = b[i].ql + 64 * n;
      const uint8_t* qh = b[i].qh + 32 * n;
      const int8_t* sc = b[i].scales + 8 * n;
      for (int l = 0; l < 32; ++l) {
        int is = l / 16;
        int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

// ---- Quantization --------------------------------------------------------

void QuantQ8_0(const float* x, BlockQ8_0* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    float d = amax / 127.f;
    b[i].d = FloatToHalf(d);
    float id = d != 0 ? 1.f / d : 0.f;
    for (int j = 0; j < 32; ++j) {
      b[i].qs[j] = static_cast<int8_t>(std::clamp(NearestInt(x[j] * id), -127, 127));
    }
  }
}

// Symmetric 4/5-bit: the value of largest magnitude maps to -2^(bits-1).
template <typename Block, int kLevels>
void QuantSym(const float* x, Block* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    constexpr int kHalf = kLevels / 2;
    float d = max / -kHalf;
    b[i].d = FloatToHalf(d);
    float id = d != 0 ? 1.f / d : 0.f;
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      int q0 = std::clamp(NearestInt(x[j] * id) + kHalf, 0, kLevels - 1);
      int q1 = std::clamp(NearestInt(x[j + 16] * id) + kHalf, 0, kLevels - 1);
      b[i].qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= static_cast<uint32_t>(q0 >> 4) << j;
      qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
    }
    if constexpr (kLevels == 32) std::memcpy(b[i].qh, &qh, 4);
  }
}

// Asymmetric 4/5-bit: x = d*q + m.
template <typename Block, int kLevels>
void QuantAsym(const float* x, Block* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    float mn = x[0], mx = x[0];
    for (int j = 1; j < 32; ++j) {
      mn = std::min(mn, x[j]);
      mx = std::max(mx, x[j]);
    }
    float d = (mx - mn) / (kLevels - 1);
    b[i].d = FloatToHalf(d);
    b[i].m = FloatToHalf(mn);
    float id = d != 0 ? 1.f / d : 0.f;
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      int q0 = std::clamp(NearestInt((x[j] - mn) * id), 0, kLevels - 1);
      int q1 = std::clamp(NearestInt((x[j + 16] - mn) * id), 0, kLevels - 1);
      b[i].qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= static_cast<uint32_t>(q0 >> 4) << j;
      qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
    }
    if constexpr (kLevels == 32) std::memcpy(b[i].qh, &qh, 4);
  }
}

void SetScaleMinK4(int j, uint8_t sc, uint8_t m, uint8_t* q) {
  if (j < 4) {
    q[j] = (q[j] & 0xC0) | sc;
    q[j + 4] = (q[j + 4] & 0xC0) | m;
  } else {
    q[j + 4] = static_cast<uint8_t>((sc & 0xF) | ((m & 0xF) << 4));
    q[j - 4] = static_cast<uint8_t>((q[j - 4] & 0x3F) | ((sc >> 4) << 6));
    q[j] = static_cast<uint8_t>((q[j] & 0x3F) | ((m >> 4) << 6));
  }
}

// Q4_K / Q5_K: per 32-element sub-block, x ~ d*sc*q - dmin*m.
template <int kLevels>
void QuantKAsym(const float* x, uint16_t* d_out, uint16_t* dmin_out, uint8_t* scales,
                uint8_t* q /* 256 values */) {
  float sub_scale[8], sub_min[8];
  for (int s = 0; s < 8; ++s) {
    const float* xs = x + 32 * s;
    float mn = 0, mx = xs[0];
    for (int j = 0; j < 32; ++j) {
      mn = std::min(mn, xs[j]);
      mx = std::max(mx, xs[j]);
    }
    sub_scale[s] = (mx - mn) / (kLevels - 1);
    sub_min[s] = -mn;
  }
  float max_scale = *std::max_element(sub_scale, sub_scale + 8);
  float max_min = *std::max_element(sub_min, sub_min + 8);
  float d = max_scale / 63.f, dmin = max_min / 63.f;
  *d_out = FloatToHalf(d);
  *dmin_out = FloatToHalf(dmin);
  d = HalfToFloat(*d_out);
  dmin = HalfToFloat(*dmin_out);
  std::memset(scales, 0, 12);
  for (int s = 0; s < 8; ++s) {
    int sc = d != 0 ? std::clamp(NearestInt(sub_scale[s] / d), 0, 63) : 0;
    int m = dmin != 0 ? std::clamp(NearestInt(sub_min[s] / dmin), 0, 63) : 0;
    SetScaleMinK4(s, static_cast<uint8_t>(sc), static_cast<uint8_t>(m), scales);
    float de = d * sc, me = dmin * m;
    float ide = de != 0 ? 1.f / de : 0.f;
    for (int j = 0; j < 32; ++j) {
      q[32 * s + j] =
          static_cast<uint8_t>(std::clamp(NearestInt((x[32 * s + j] + me) * ide), 0, kLevels - 1));
    }
  }
}

void QuantQ4_K(const float* x, BlockQ4_K* b, int64_t nb) {
  uint8_t q[256];
  for (int64_t i = 0; i < nb; ++i, x += 256) {
    QuantKAsym<16>(x, &b[i].d, &b[i].dmin, b[i].scales, q);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        b[i].qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
      }
    }
  }
}

void QuantQ5_K(const float* x, BlockQ5_K* b, int64_t nb) {
  uint8_t q[256];
  for (int64_t i = 0; i < nb; ++i, x += 256) {
    QuantKAsym<32>(x, &b[i].d, &b[i].dmin, b[i].scales, q);
    std::memset(b[i].qh, 0, 32);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
        b[i].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        b[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

void QuantQ6_K(const float* x, BlockQ6_K* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 256) {
    float sub[16];
    float max_abs_scale = 0;
    for (int s = 0; s < 16; ++s) {
      float amax = 0, max = 0;
      for (int j = 0; j < 16; ++j) {
        float v = x[16 * s + j];
        if (std::fabs(v) > amax) {
          amax = std::fabs(v);
          max = v;
        }
      }
      sub[s] = max / -32.f;
      max_abs_scale = std::max(max_abs_scale, std::fabs(sub[s]));
    }
    float d = max_abs_scale / 127.f;
    b[i].d = FloatToHalf(d);
    d = HalfToFloat(b[i].d);
    uint8_t q[256];
    for (int s = 0; s < 16; ++s) {
      int sc = d != 0 ? std::clamp(NearestInt(sub[s] / d), -128, 127) : 0;
      b[i].scales[s] = static_cast<int8_t>(sc);
      float de = d * sc;
      float ide = de != 0 ? 1.f / de : 0.f;
      for (int j = 0; j < 16; ++j) {
        q[16 * s + j] =
            static_cast<uint8_t>(std::clamp(NearestInt(x[16 * s + j] * ide), -32, 31) + 32);
      }
    }
    for (int n = 0; n < 2; ++n) {
      uint8_t* ql = b[i].ql + 64 * n;
      uint8_t* qh = b[i].qh + 32 * n;
      const uint8_t* qq = q + 128 * n;
      for (int l = 0; l < 32; ++l) {
        int q1 = qq[l], q2 = qq[l + 32], q3 = qq[l + 64], q4 = qq[l + 96];
        ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) |
                                     ((q4 >> 4) << 6));
      }
    }
  }
}

}  // namespace

bool IsSupportedType(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}

absl::Status CheckSupportedType(GgmlType type, std::string_view tensor_name) {
  if (IsSupportedType(type)) return absl::OkStatus();
  return absl::UnimplementedError(
      Cat("tensor '", tensor_name, "' has type ", GgmlTypeName(type),
          ", which this runtime does not support (supported: f32, f16, bf16, "
          "q4_0, q4_1, q5_0, q5_1, q8_0, q4_K, q5_K, q6_K)"));
}

int BlockElems(GgmlType type) {
  auto info = GetGgmlTypeInfo(type);
  return info ? static_cast<int>(info->block_elems) : 1;
}

size_t RowBytes(GgmlType type, int64_t n) {
  auto info = GetGgmlTypeInfo(type);
  if (!info) return 0;
  return static_cast<size_t>(n / info->block_elems) * info->block_bytes;
}

void DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n) {
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case GgmlType::kF16: {
      const uint16_t* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = HalfToFloat(h[i]);
      return;
    }
    case GgmlType::kBF16: {
      const uint16_t* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToFloat(h[i]);
      return;
    }
    case GgmlType::kQ4_0:
      return DeqQ4_0(static_cast<const BlockQ4_0*>(src), dst, n / 32);
    case GgmlType::kQ4_1:
      return DeqQ4_1(static_cast<const BlockQ4_1*>(src), dst, n / 32);
    case GgmlType::kQ5_0:
      return DeqQ5_0(static_cast<const BlockQ5_0*>(src), dst, n / 32);
    case GgmlType::kQ5_1:
      return DeqQ5_1(static_cast<const BlockQ5_1*>(src), dst, n / 32);
    case GgmlType::kQ8_0:
      return DeqQ8_0(static_cast<const BlockQ8_0*>(src), dst, n / 32);
    case GgmlType::kQ4_K:
      return DeqQ4_K(static_cast<const BlockQ4_K*>(src), dst, n / 256);
    case GgmlType::kQ5_K:
      return DeqQ5_K(static_cast<const BlockQ5_K*>(src), dst, n / 256);
    case GgmlType::kQ6_K:
      return DeqQ6_K(static_cast<const BlockQ6_K*>(src), dst, n / 256);
    default:
      std::fill(dst, dst + n, 0.f);
  }
}

absl::StatusOr<std::string> QuantizeRows(GgmlType type, const float* src, int64_t n_rows,
                                         int64_t row_len) {
  absl::Status s = CheckSupportedType(type, "<quantize>");
  if (!s.ok()) return s;
  int be = BlockElems(type);
  if (row_len % be != 0) {
    return absl::InvalidArgumentError(Cat("row length ", row_len, " is not a multiple of ", be,
                                          " (type ", GgmlTypeName(type), ")"));
  }
  size_t rb = RowBytes(type, row_len);
  std::string out(rb * n_rows, '\0');
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* x = src + r * row_len;
    void* dst = out.data() + r * rb;
    int64_t nb = row_len / be;
    switch (type) {
      case GgmlType::kF32:
        std::memcpy(dst, x, row_len * 4);
        break;
      case GgmlType::kF16: {
        uint16_t* h = static_cast<uint16_t*>(dst);
        for (int64_t i = 0; i < row_len; ++i) h[i] = FloatToHalf(x[i]);
        break;
      }
      case GgmlType::kBF16: {
        uint16_t* h = static_cast<uint16_t*>(dst);
        for (int64_t i = 0; i < row_len; ++i) h[i] = FloatToBf16(x[i]);
        break;
      }
      case GgmlType::kQ4_0:
        QuantSym<BlockQ4_0, 16>(x, static_cast<BlockQ4_0*>(dst), nb);
        break;
      case GgmlType::kQ5_0:
        QuantSym<BlockQ5_0, 32>(x, static_cast<BlockQ5_0*>(dst), nb);
        break;
      case GgmlType::kQ4_1:
        QuantAsym<BlockQ4_1, 16>(x, static_cast<BlockQ4_1*>(dst), nb);
        break;
      case GgmlType::kQ5_1:
        QuantAsym<BlockQ5_1, 32>(x, static_cast<BlockQ5_1*>(dst), nb);
        break;
      case GgmlType::kQ8_0:
        QuantQ8_0(x, static_cast<BlockQ8_0*>(dst), nb);
        break;
      case GgmlType::kQ4_K:
        QuantQ4_K(x, static_cast<BlockQ4_K*>(dst), nb);
        break;
      case GgmlType::kQ5_K:
        QuantQ5_K(x, static_cast<BlockQ5_K*>(dst), nb);
        break;
      case GgmlType::kQ6_K:
        QuantQ6_K(x, static_cast<BlockQ6_K*>(dst), nb);
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace greffier::generate
