#ifndef GREFFIER_GENERATE_GGUF_WRITER_H_
#define GREFFIER_GENERATE_GGUF_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "generate/gguf.h"

namespace greffier::generate {

// Builds a GGUF file (v3 by default): metadata in insertion order, then
// tensor descriptors, then the aligned tensor data. Tensor bytes are either
// given up front or produced on demand while writing, so multi-gigabyte
// models never sit in memory whole. Not thread-safe.
class GgufWriter {
 public:
  // `version`: 2 or 3. `alignment`: power of two; written as
  // general.alignment when it differs from 32.
  explicit GgufWriter(uint32_t version = 3, uint64_t alignment = 32);

  void SetString(std::string_view key, std::string_view value);
  void SetUint32(std::string_view key, uint32_t value);
  void SetUint64(std::string_view key, uint64_t value);
  void SetInt32(std::string_view key, int32_t value);
  void SetFloat32(std::string_view key, float value);
  void SetBool(std::string_view key, bool value);
  void SetStringArray(std::string_view key, const std::vector<std::string>& values);
  void SetFloatArray(std::string_view key, const std::vector<float>& values);
  void SetInt32Array(std::string_view key, const std::vector<int32_t>& values);

  // `ne` lists dimensions innermost first (ggml order). `data` must hold
  // exactly the tensor's byte size for `type`.
  absl::Status AddTensor(std::string_view name, GgmlType type, std::vector<uint64_t> ne,
                         std::string data);
  // Same, with the bytes produced by `producer` during Write/Serialize.
  absl::Status AddTensorLazy(std::string_view name, GgmlType type, std::vector<uint64_t> ne,
                             std::function<std::string()> producer);

  // The whole file in memory (for tests and small models).
  absl::StatusOr<std::string> Serialize() const;
  // Streams the file to `path`.
  absl::Status WriteFile(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> ne;
    uint64_t size = 0;
    uint64_t offset = 0;
    std::string data;
    std::function<std::string()> producer;
  };
  absl::Status Write(const std::function<absl::Status(std::string_view)>& sink) const;
  void AddKv(std::string_view key, GgufType type, std::string payload);

  uint32_t version_;
  uint64_t alignment_;
  uint64_t n_kv_ = 0;
  std::string kv_bytes_;
  std::vector<Tensor> tensors_;
  uint64_t data_size_ = 0;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_GGUF_WRITER_H_
