#include "index/codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace greffier::index {

Encoder::Encoder(std::string_view magic, uint8_t version) {
  out_.append(magic);
  PutU8(version);
}

void Encoder::PutVarint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void Encoder::PutFixed32(uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void Encoder::PutFixed64(uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void Encoder::PutFloat(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  PutFixed32(bits);
}

void Encoder::PutString(std::string_view s) {
  PutVarint(s.size());
  out_.append(s);
}

absl::StatusOr<Decoder> Decoder::Open(std::string_view data, std::string_view magic,
                                      uint8_t max_version, std::string_view what) {
  if (data.size() < magic.size() + 1 || data.substr(0, magic.size()) != magic) {
    return absl::DataLossError(
        absl::StrCat(std::string(what), ": bad magic (not a ", std::string(magic), " record)"));
  }
  uint8_t version = static_cast<uint8_t>(data[magic.size()]);
  if (version == 0 || version > max_version) {
    return absl::DataLossError(absl::StrCat(std::string(what), ": unsupported version ",
                                            static_cast<int>(version), " (this build reads up to ",
                                            static_cast<int>(max_version), ")"));
  }
  return Decoder(data, magic.size() + 1, version, what);
}

absl::Status Decoder::Truncated() const {
  return absl::DataLossError(absl::StrCat(what_, ": truncated record at byte ", pos_));
}

absl::StatusOr<uint8_t> Decoder::GetU8() {
  if (pos_ >= data_.size()) return Truncated();
  return static_cast<uint8_t>(data_[pos_++]);
}

absl::StatusOr<uint64_t> Decoder::GetVarint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) return Truncated();
    uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return absl::DataLossError(absl::StrCat(what_, ": varint too long at byte ", pos_));
}

absl::StatusOr<uint32_t> Decoder::GetFixed32() {
  if (data_.size() - pos_ < 4) return Truncated();
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_++])) << (8 * i);
  return v;
}

absl::StatusOr<uint64_t> Decoder::GetFixed64() {
  if (data_.size() - pos_ < 8) return Truncated();
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_++])) << (8 * i);
  return v;
}

absl::StatusOr<float> Decoder::GetFloat() {
  absl::StatusOr<uint32_t> bits = GetFixed32();
  if (!bits.ok()) return bits.status();
  float v;
  std::memcpy(&v, &*bits, sizeof(v));
  return v;
}

absl::StatusOr<std::string> Decoder::GetString() {
  absl::StatusOr<uint64_t> n = GetVarint();
  if (!n.ok()) return n.status();
  if (*n > data_.size() - pos_) return Truncated();
  std::string s(data_.substr(pos_, *n));
  pos_ += *n;
  return s;
}

std::string EncodeId(uint64_t id) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((id >> (8 * (7 - i))) & 0xff);
  return out;
}

absl::StatusOr<uint64_t> DecodeId(std::string_view key) {
  if (key.size() != 8) {
    return absl::DataLossError(absl::StrCat("id key has ", key.size(), " bytes, expected 8"));
  }
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | static_cast<uint8_t>(key[i]);
  return id;
}

}  // namespace greffier::index
