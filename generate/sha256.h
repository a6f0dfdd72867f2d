#ifndef GREFFIER_GENERATE_SHA256_H_
#define GREFFIER_GENERATE_SHA256_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace greffier::generate {

// Incremental SHA-256 (FIPS 180-4), for identifying model files in audit
// logs. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  // Lower-case hex digest; the object must not be updated afterwards.
  std::string HexDigest();

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// Hex SHA-256 of a file's contents; errors name the file.
absl::StatusOr<std::string> Sha256File(const std::string& path);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_SHA256_H_
