#ifndef GREFFIER_SERVICE_JSON_WRITER_H_
#define GREFFIER_SERVICE_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace greffier::service {

// Builds canonical JSON text (keys in the order written, no spaces, UTF-8 kept as is,
// control characters escaped). Used for audit record bodies, whose bytes are hashed, so the
// output for the same calls must never change. Not thread-safe.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray(std::string_view key = {});
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view key, std::string_view value);
  JsonWriter& Int(std::string_view key, int64_t value);
  JsonWriter& Uint(std::string_view key, uint64_t value);
  JsonWriter& Double(std::string_view key, double value);
  JsonWriter& Bool(std::string_view key, bool value);
  // Array elements.
  JsonWriter& StringValue(std::string_view value);
  JsonWriter& IntValue(int64_t value);
  JsonWriter& BeginObjectValue() { return BeginObject(); }
  const std::string& str() const { return out_; }

 private:
  void Separator();
  void Quote(std::string_view s);
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_JSON_WRITER_H_
