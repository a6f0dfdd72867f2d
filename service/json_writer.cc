#include "service/json_writer.h"

#include <cmath>
#include <cstdio>

namespace greffier::service {

void JsonWriter::Separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

void JsonWriter::Quote(std::string_view s) {
  out_.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out_ += buf;
        } else {
          out_.push_back(static_cast<char>(c));
        }
    }
  }
  out_.push_back('"');
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  Separator();
  Quote(key);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::BeginObject() {
  Separator();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::BeginArray(std::string_view key) {
  if (!key.empty()) Key(key);
  Separator();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view key, std::string_view value) {
  Key(key);
  return StringValue(value);
}

JsonWriter& JsonWriter::StringValue(std::string_view value) {
  Separator();
  Quote(value);
  return *this;
}

JsonWriter& JsonWriter::Int(std::string_view key, int64_t value) {
  Key(key);
  return IntValue(value);
}

JsonWriter& JsonWriter::IntValue(int64_t value) {
  Separator();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::Uint(std::string_view key, uint64_t value) {
  Key(key);
  Separator();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::Double(std::string_view key, double value) {
  Key(key);
  Separator();
  if (!std::isfinite(value)) {
    out_ += "null";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", value);
    out_ += buf;
  }
  return *this;
}

JsonWriter& JsonWriter::Bool(std::string_view key, bool value) {
  Key(key);
  Separator();
  out_ += value ? "true" : "false";
  return *this;
}

}  // namespace greffier::service
