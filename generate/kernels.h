#ifndef GREFFIER_GENERATE_KERNELS_H_
#define GREFFIER_GENERATE_KERNELS_H_

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

// Kernel table for one instruction set. Entries are nullptr for types the set
// does not accelerate; KernelsFor fills those from the scalar set.
struct KernelSet {
  SimdLevel level = SimdLevel::kScalar;
  DotQFn dot_q[32] = {};  // indexed by GgmlType code (< 32)
  DotFFn dot_f[32] = {};
  // Optional multi-token variants; nullptr falls back to dot_q per token.
  DotQMultiFn dot_q_multi[32] = {};
  DotFMultiFn dot_f_multi[32] = {};
  QuantizeActsFn quantize_acts = nullptr;
  AxpyFn axpy = nullptr;
};

// True for types whose dot products use quantized activations.
bool UsesQuantizedActs(GgmlType type);

// The best kernel set this CPU supports (AVX-512 with VNNI, AVX2+FMA+F16C,
// or scalar). Overridable with env GREFFIER_SIMD=scalar|avx2|avx512.
const KernelSet& BestKernels();
// The kernel set for `level`, or nullptr when this CPU lacks it.
const KernelSet* KernelsFor(SimdLevel level);

namespace internal {
// Filled by the per-ISA translation units.
void FillScalarKernels(KernelSet* k);
void FillAvx2Kernels(KernelSet* k);
void FillAvx512Kernels(KernelSet* k);
}  // namespace internal

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_KERNELS_H_
