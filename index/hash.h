#ifndef GREFFIER_INDEX_HASH_H_
#define GREFFIER_INDEX_HASH_H_

#include <string>
#include <string_view>

namespace greffier::index {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Incremental SHA-256 for data that arrives in chunks. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string HexDigest();  // finalises; call once

 private:
  void* ctx_;
};

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_HASH_H_
