#ifndef GREFFIER_GENERATE_KERNELS_H_
#define GREFFIER_GENERATE_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "generate/gguf.h"

namespace greffier::generate {

// Activations quantized for integer dot products with quantized weights:
// blocks of 32 int8 values q with a float scale d (x ~ d*q) and s = d*sum(q).
// Every quantized weight type has sub-blocks aligned to 32, so one format
// serves them all.
struct QuantizedRow {
  const int8_t* q = nullptr;
  const float* d = nullptr;
  const float* s = nullptr;
  // Optional: each block's d repeated 8 times, so that SIMD kernels load
  // per-lane scales instead of building them. May be nullptr.
  const float* d8 = nullptr;
  // Optional: q + 128 as unsigned bytes (lets VNNI kernels skip the sign
  // trick). Within one multi-token call, all rows have it or none.
  const uint8_t* qu = nullptr;
  // Optional: sum of each block's q. Required by the packed-weight kernels.
  const int32_t* qsum = nullptr;
  // Optional: sums of each 16-element half block's q (2 per block).
  // Required by the packed Q6_K kernels.
  const int32_t* qsum16 = nullptr;
};

// Instruction set of a kernel set.
enum class SimdLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
std::string_view SimdLevelName(SimdLevel level);

// Dot product of one weight row (`n` elements of a quantized type) with
// quantized activations.
using DotQFn = float (*)(int64_t n, const void* w, const QuantizedRow& x);
// Dot product of one weight row of a float type (f32/f16/bf16) with floats.
using DotFFn = float (*)(int64_t n, const void* w, const float* x);
// out[c] = dot(w, x[c]) for c < n_cols (at most kMaxCols): one pass over
// the weight row serves several tokens (prompt processing).
using DotQMultiFn = void (*)(int64_t n, const void* w, const QuantizedRow* x, int n_cols,
                             float* out);
inline constexpr int kMaxCols = 4;
// out[c] = dot(w, x[c]) for float weight types, several tokens per pass.
using DotFMultiFn = void (*)(int64_t n, const void* w, const float* const* x, int n_cols,
                             float* out);
// y += a * x over n floats.
using AxpyFn = void (*)(int64_t n, float a, const float* x, float* y);
// Quantizes `n` floats (n % 32 == 0) into q/d/s.
using QuantizeActsFn = void (*)(int64_t n, const float* x, int8_t* q, float* d, float* s);

// Packed weights: a matrix repacked at load time into panels of kPackRows
// rows, so that the matrix kernels dot many rows with many tokens per pass
// and turn int32 sums into floats once per block and tile, not per row.
// Within a panel: the rows' fp16 block scales, block by block (16 per
// block; the section padded to a multiple of 64 bytes), then per 32-element
// block the quants as 32-bit lanes, lane r holding 4 elements of row r:
// Q8_0: 8 lane groups (64 bytes each), group g = elements 4g..4g+3;
// Q4_0: 4 lane groups, group g = elements 4g..4g+3 in the low nibbles and
// 16+4g..16+4g+3 in the high nibbles.
// Q5_0: as Q4_0, plus one 64-byte lane group of 5th bits: bit g of byte e
// in lane r is the 5th bit of element 4g + e of row r.
// Q4_K: per 256-element super-block (kQ4KPackedBytes): fp16 d[16],
// fp16 dmin[16], 6-bit scales sc[8][16] and mins m[8][16] as bytes (sub-block
// j, row r at 16 * j + r), then 4 chunks of 8 lane groups: chunk c, group g
// holds the row's qs[32c + 4g .. +3], i.e. elements 4g.. of sub-block 2c in
// the low nibbles and of sub-block 2c+1 in the high nibbles.
// Q6_K: per super-block (kQ6KPackedBytes): fp16 d[16], 8-bit scales
// sc[16][16] (sub-block of 16 s, row r at 16 * s + r), padding to 320 bytes,
// then per 32-element block 384 bytes: the low 4 bits as Q4_0's 4 lane
// groups, and 2 lane groups of high 2-bit pairs: in group h, bits 2k..2k+1
// of byte e are those of element 4 * (4h + k) + e.
// Rows past the matrix end are zero.
inline constexpr int kPackRows = 16;
// True for types with a packed layout.
bool HasPackedLayout(GgmlType type);
// Bytes of one panel of `cols` elements per row (cols % 32 == 0).
size_t PackedPanelBytes(GgmlType type, int64_t cols);
// Packs `rows` rows of `cols` elements (row r at src + r * row_bytes) into
// ceil(rows / kPackRows) panels at dst.
void PackRows(GgmlType type, const uint8_t* src, size_t row_bytes, int64_t rows, int64_t cols,
              uint8_t* dst);
// y[t * ldy + r] = dot(row r of one panel, x[t]) for r < n_rows
// (<= kPackRows) and t < n_tok; every x[t] must have qsum (and qsum16 for
// Q6_K).
using GemmPackedFn = void (*)(int64_t n, const uint8_t* panel, const QuantizedRow* x, int n_tok,
                              int n_rows, float* y, int64_t ldy);

// Attention scores of n_q query heads (q: n_q rows of hd floats) against
// n_pos keys stored transposed (key element i of position p at
// kt[i * ldk + p]): s[g * lds + p] = scale * dot(q_g, k_p).
using AttnScoresFn = void (*)(int hd, int n_pos, const float* kt, int64_t ldk, const float* q,
                              int n_q, float scale, float* s, int64_t lds);
// In place: x = softmax(x) over n floats.
using SoftmaxFn = void (*)(int n, float* x);
// Weighted sums of value rows (v_p at v + p * ldv):
// out[g * hd + i] = sum_p w[g * ldw + p] * v_p[i] for g < n_q.
using AttnValuesFn = void (*)(int hd, int n_pos, const float* v, int64_t ldv, const float* w,
                              int64_t ldw, int n_q, float* out);

// In place: g[i] = silu(g[i]) * u[i] (the gated feed-forward activation).
using SiluMulFn = void (*)(int64_t n, float* g, const float* u);

// Kernel table for one instruction set. Entries are nullptr for types the set
// does not accelerate; KernelsFor fills those from the scalar set.
struct KernelSet {
  SimdLevel level = SimdLevel::kScalar;
  DotQFn dot_q[32] = {};  // indexed by GgmlType code (< 32)
  DotFFn dot_f[32] = {};
  // Optional multi-token variants; nullptr falls back to dot_q per token.
  DotQMultiFn dot_q_multi[32] = {};
  DotFMultiFn dot_f_multi[32] = {};
  // Matrix kernels over packed weights. nullptr: none in this set (the
  // decoder then reads the unpacked rows; Model packs only for BestKernels).
  GemmPackedFn gemm_packed[32] = {};
  QuantizeActsFn quantize_acts = nullptr;
  AxpyFn axpy = nullptr;
  AttnScoresFn attn_scores = nullptr;
  SoftmaxFn softmax = nullptr;
  AttnValuesFn attn_values = nullptr;
  SiluMulFn silu_mul = nullptr;
};

// True for types whose dot products use quantized activations.
bool UsesQuantizedActs(GgmlType type);

// The best kernel set this CPU supports (AVX-512 with VNNI, AVX2+FMA+F16C,
// or scalar). Overridable with env GREFFIER_SIMD=scalar|avx2|avx512.
const KernelSet& BestKernels();
// The kernel set for `level`, or nullptr when this CPU lacks it.
const KernelSet* KernelsFor(SimdLevel level);

namespace internal {

// Calls fn.template operator()<W>() with W = w, for 1 <= w <= kMax: tile kernels unrolled over
// a compile-time number of tokens (or heads), with the width of the last tile known only at run
// time.
template <int kMax, typename Fn>
inline void ForTileWidth(int w, Fn&& fn) {
  if constexpr (kMax > 1) {
    if (w < kMax) return ForTileWidth<kMax - 1>(w, fn);
  }
  fn.template operator()<kMax>();
}
inline constexpr size_t kQ4KPackedBytes = 320 + 4 * 512;
inline constexpr size_t kQ6KPackedBytes = 320 + 8 * 384;
// Bytes of a panel's scale section for `nb` blocks per row.
inline size_t ScaleSectionBytes(int64_t nb) {
  return (static_cast<size_t>(nb) * 2 * kPackRows + 63) & ~size_t{63};
}
// Filled by the per-ISA translation units.
void FillScalarKernels(KernelSet* k);
void FillAvx2Kernels(KernelSet* k);
void FillAvx512Kernels(KernelSet* k);
}  // namespace internal

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_KERNELS_H_
