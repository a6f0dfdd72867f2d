#ifndef GREFFIER_INDEX_CODEC_H_
#define GREFFIER_INDEX_CODEC_H_

// Binary encoding of persisted records: every value starts with a 4-byte magic and a
// one-byte version, and every read is bounds-checked so that a corrupt value is an error,
// never a crash.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace greffier::index {

// Appends fields to a byte string. Not thread-safe.
class Encoder {
 public:
  Encoder(std::string_view magic, uint8_t version);
  void PutU8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void PutVarint(uint64_t v);
  void PutFixed32(uint32_t v);
  void PutFixed64(uint64_t v);
  void PutFloat(float v);
  void PutString(std::string_view s);
  std::string Finish() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads fields back; each getter fails with DataLoss on truncation. Not thread-safe.
class Decoder {
 public:
  // Fails unless `data` starts with `magic` and a version in [1, max_version].
  static absl::StatusOr<Decoder> Open(std::string_view data, std::string_view magic,
                                      uint8_t max_version, std::string_view what);
  uint8_t version() const { return version_; }
  absl::StatusOr<uint8_t> GetU8();
  absl::StatusOr<uint64_t> GetVarint();
  absl::StatusOr<uint32_t> GetFixed32();
  absl::StatusOr<uint64_t> GetFixed64();
  absl::StatusOr<float> GetFloat();
  absl::StatusOr<std::string> GetString();
  bool done() const { return pos_ == data_.size(); }

 private:
  Decoder(std::string_view data, size_t pos, uint8_t version, std::string_view what)
      : data_(data), pos_(pos), version_(version), what_(what) {}
  absl::Status Truncated() const;

  std::string_view data_;
  size_t pos_;
  uint8_t version_;
  std::string what_;
};

// Big-endian fixed-width ids so that RocksDB's bytewise order is numeric order.
std::string EncodeId(uint64_t id);
absl::StatusOr<uint64_t> DecodeId(std::string_view key);

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_CODEC_H_
