#ifndef GREFFIER_GENERATE_QUANT_H_
#define GREFFIER_GENERATE_QUANT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "generate/gguf.h"

namespace greffier::generate {

// Block layouts of the ggml quantized types, byte-exact with the files that
// common quantizers write. Scales are IEEE half floats.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];  // element j: low nibble of qs[j]; element j+16: high nibble
};
struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[16];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // bit j: 5th bit of element j
  uint8_t qs[16];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
// Super-blocks of 256 elements: 8 sub-blocks of 32 with 6-bit scales/mins.
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
// 16 sub-blocks of 16 with 8-bit scales; values 6-bit, offset 32.
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

// Scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block.
inline void GetScaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// True when this runtime can compute with tensors of `type`.
bool IsSupportedType(GgmlType type);
// OK, or InvalidArgument naming the tensor and the type.
absl::Status CheckSupportedType(GgmlType type, std::string_view tensor_name);
// Bytes of a row of `n` elements (n a multiple of the block size).
size_t RowBytes(GgmlType type, int64_t n);
// Block size in elements (1 for float types).
int BlockElems(GgmlType type);

// Converts `n` elements (a multiple of the block size) of `type` to floats.
// `type` must be supported.
void DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n);
// Quantizes `n_rows` rows of `row_len` floats into `type`. Row length must be
// a multiple of the type's block size.
absl::StatusOr<std::string> QuantizeRows(GgmlType type, const float* src, int64_t n_rows,
                                         int64_t row_len);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_QUANT_H_
