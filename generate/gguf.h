#ifndef GREFFIER_GENERATE_GGUF_H_
#define GREFFIER_GENERATE_GGUF_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace greffier::generate {

// Metadata value types of the GGUF format.
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// Name of a metadata type ("uint32", "array", ...), or "unknown(N)".
std::string GgufTypeName(GgufType type);

// Tensor element types of ggml (the numeric values are the on-disk codes).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
};

// Storage layout of a ggml type: `block_bytes` bytes hold `block_elems`
// consecutive elements of a row.
struct GgmlTypeInfo {
  std::string_view name;
  uint32_t block_elems = 0;
  uint32_t block_bytes = 0;
};

// Layout of `type`, or nullopt for a code this reader does not know.
std::optional<GgmlTypeInfo> GetGgmlTypeInfo(GgmlType type);
// "q4_K", "f16", ..., or "unknown(N)".
std::string GgmlTypeName(GgmlType type);

// One metadata value. Points into the file's bytes; valid while the GgufFile
// lives. Bounds were checked when the file was opened.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  // For arrays: element type and count.
  GgufType array_type = GgufType::kUint8;
  uint64_t array_count = 0;
  // Raw little-endian payload (for strings: the bytes, without length; for
  // arrays: the elements as stored).
  const uint8_t* data = nullptr;
  uint64_t size = 0;
};

struct GgufTensorInfo {
  std::string name;
  // ne[0] is the contiguous (innermost) dimension; unused dims are 1.
  uint32_t n_dims = 0;
  uint64_t ne[4] = {1, 1, 1, 1};
  GgmlType type = GgmlType::kF32;
  // Offset from the start of the data section.
  uint64_t offset = 0;
  uint64_t n_elements = 0;
  uint64_t size_bytes = 0;
};

// A GGUF file (v2 or v3), memory-mapped, with zero-copy access to tensors.
// Every structure is validated by Open: keys and tensor descriptors lie
// within the file, sizes do not overflow, tensor data lies within the data
// section and is aligned. Immutable after Open; safe to share between threads.
class GgufFile {
 public:
  // Maps and validates `path`. Errors name the file, the key or tensor, and
  // the reason.
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Same, from bytes held in memory (copied); `name` is used in errors.
  static absl::StatusOr<std::unique_ptr<GgufFile>> OpenFromMemory(
      std::string_view bytes, const std::string& name = "<memory>");

  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }

  // Metadata keys in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kvs_; }
  // The value of `key`, or nullptr.
  const GgufValue* Find(std::string_view key) const;

  // Typed getters: NotFound when absent, InvalidArgument when the stored type
  // does not fit. Integer getters accept any integer type whose value fits.
  absl::StatusOr<std::string> GetString(std::string_view key) const;
  absl::StatusOr<uint64_t> GetUint(std::string_view key) const;
  absl::StatusOr<int64_t> GetInt(std::string_view key) const;
  // Accepts float32, float64 and integer values.
  absl::StatusOr<float> GetFloat(std::string_view key) const;
  absl::StatusOr<bool> GetBool(std::string_view key) const;
  absl::StatusOr<std::vector<std::string>> GetStringArray(std::string_view key) const;
  absl::StatusOr<std::vector<float>> GetFloatArray(std::string_view key) const;
  // Any integer element type whose values fit in int32.
  absl::StatusOr<std::vector<int32_t>> GetIntArray(std::string_view key) const;

  // Absent keys give `fallback`; present keys of the wrong type are errors.
  absl::StatusOr<uint64_t> GetUintOr(std::string_view key, uint64_t fallback) const;
  absl::StatusOr<float> GetFloatOr(std::string_view key, float fallback) const;
  absl::StatusOr<std::string> GetStringOr(std::string_view key, std::string_view fallback) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;
  // Start of the tensor's bytes (info.size_bytes long), aligned to
  // alignment(); valid while the file lives.
  const uint8_t* TensorData(const GgufTensorInfo& info) const {
    return data_ + data_offset_ + info.offset;
  }

  // Total mapped size in bytes.
  uint64_t file_size() const { return size_; }

 private:
  GgufFile() = default;
  absl::Status Parse();
  absl::Status KeyError(std::string_view key, std::string_view why) const;

  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  void* mapping_ = nullptr;  // munmap on destruction when set
  std::unique_ptr<uint8_t[], void (*)(uint8_t*)> owned_{nullptr, nullptr};
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_GGUF_H_
