#ifndef GREFFIER_GENERATE_WEIGHT_MATRIX_H_
#define GREFFIER_GENERATE_WEIGHT_MATRIX_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "generate/gguf.h"

namespace greffier::generate {

// A weight matrix in the mapped file: `rows` rows of `cols` elements
// (cols is GGUF ne[0]); row r starts at data + r * row_bytes.
struct WeightMatrix {
  std::string name;
  GgmlType type = GgmlType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  const uint8_t* data = nullptr;
  const uint8_t* Row(int64_t r) const { return data + r * row_bytes; }
  // The same weights repacked for the matrix kernels (see PackRows in
  // kernels.h), or nullptr; panel p starts at packed + p * panel_bytes.
  const uint8_t* packed = nullptr;
  size_t panel_bytes = 0;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_WEIGHT_MATRIX_H_
