#include "generate/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "generate/str_util.h"

namespace greffier::generate {
namespace {

template <typename T>
void Append(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

void AppendString(std::string* out, std::string_view s) {
  Append<uint64_t>(out, s.size());
  out->append(s);
}

}  // namespace

GgufWriter::GgufWriter(uint32_t version, uint64_t alignment)
    : version_(version), alignment_(alignment) {
  if (alignment_ != 32) SetUint32("general.alignment", alignment_);
}

void GgufWriter::AddKv(std::string_view key, GgufType type, std::string payload) {
  AppendString(&kv_bytes_, key);
  Append<uint32_t>(&kv_bytes_, static_cast<uint32_t>(type));
  kv_bytes_ += payload;
  ++n_kv_;
}

void GgufWriter::SetString(std::string_view key, std::string_view value) {
  std::string p;
  AppendString(&p, value);
  AddKv(key, GgufType::kString, std::move(p));
}
void GgufWriter::SetUint32(std::string_view key, uint32_t value) {
  std::string p;
  Append(&p, value);
  AddKv(key, GgufType::kUint32, std::move(p));
}
void GgufWriter::SetUint64(std::string_view key, uint64_t value) {
  std::string p;
  Append(&p, value);
  AddKv(key, GgufType::kUint64, std::move(p));
}
void GgufWriter::SetInt32(std::string_view key, int32_t value) {
  std::string p;
  Append(&p, value);
  AddKv(key, GgufType::kInt32, std::move(p));
}
void GgufWriter::SetFloat32(std::string_view key, float value) {
  std::string p;
  Append(&p, value);
  AddKv(key, GgufType::kFloat32, std::move(p));
}
void GgufWriter::SetBool(std::string_view key, bool value) {
  std::string p;
  Append<uint8_t>(&p, value ? 1 : 0);
  AddKv(key, GgufType::kBool, std::move(p));
}
void GgufWriter::SetStringArray(std::string_view key, const std::vector<std::string>& values) {
  std::string p;
  Append<uint32_t>(&p, static_cast<uint32_t>(GgufType::kString));
  Append<uint64_t>(&p, values.size());
  for (const auto& v : values) AppendString(&p, v);
  AddKv(key, GgufType::kArray, std::move(p));
}
void GgufWriter::SetFloatArray(std::string_view key, const std::vector<float>& values) {
  std::string p;
  Append<uint32_t>(&p, static_cast<uint32_t>(GgufType::kFloat32));
  Append<uint64_t>(&p, values.size());
  for (float v : values) Append(&p, v);
  AddKv(key, GgufType::kArray, std::move(p));
}
void GgufWriter::SetInt32Array(std::string_view key, const std::vector<int32_t>& values) {
  std::string p;
  Append<uint32_t>(&p, static_cast<uint32_t>(GgufType::kInt32));
  Append<uint64_t>(&p, values.size());
  for (int32_t v : values) Append(&p, v);
  AddKv(key, GgufType::kArray, std::move(p));
}

absl::Status GgufWriter::AddTensorLazy(std::string_view name, GgmlType type,
                                       std::vector<uint64_t> ne,
                                       std::function<std::string()> producer) {
  auto info = GetGgmlTypeInfo(type);
  if (!info) {
    return absl::InvalidArgumentError(
        Cat("tensor '", name, "': unknown type ", static_cast<uint32_t>(type)));
  }
  if (ne.empty() || ne.size() > 4) {
    return absl::InvalidArgumentError(Cat("tensor '", name, "': needs 1 to 4 dimensions"));
  }
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;
  if (n == 0 || ne[0] % info->block_elems != 0) {
    return absl::InvalidArgumentError(Cat("tensor '", name, "': row length ", ne[0],
                                          " is not a multiple of the block size of ", info->name));
  }
  Tensor t;
  t.name = std::string(name);
  t.type = type;
  t.ne = std::move(ne);
  t.size = n / info->block_elems * info->block_bytes;
  t.offset = data_size_;
  t.producer = std::move(producer);
  data_size_ += (t.size + alignment_ - 1) / alignment_ * alignment_;
  tensors_.push_back(std::move(t));
  return absl::OkStatus();
}

absl::Status GgufWriter::AddTensor(std::string_view name, GgmlType type, std::vector<uint64_t> ne,
                                   std::string data) {
  absl::Status s = AddTensorLazy(name, type, std::move(ne), nullptr);
  if (!s.ok()) return s;
  Tensor& t = tensors_.back();
  if (data.size() != t.size) {
    std::string n = t.name;
    uint64_t want = t.size;
    data_size_ = t.offset;
    tensors_.pop_back();
    return absl::InvalidArgumentError(
        Cat("tensor '", n, "': ", data.size(), " bytes given, ", want, " needed"));
  }
  t.data = std::move(data);
  return absl::OkStatus();
}

absl::Status GgufWriter::Write(const std::function<absl::Status(std::string_view)>& sink) const {
  std::string head;
  Append<uint32_t>(&head, 0x46554747);
  Append<uint32_t>(&head, version_);
  Append<uint64_t>(&head, tensors_.size());
  Append<uint64_t>(&head, n_kv_);
  head += kv_bytes_;
  for (const Tensor& t : tensors_) {
    AppendString(&head, t.name);
    Append<uint32_t>(&head, static_cast<uint32_t>(t.ne.size()));
    for (uint64_t d : t.ne) Append<uint64_t>(&head, d);
    Append<uint32_t>(&head, static_cast<uint32_t>(t.type));
    Append<uint64_t>(&head, t.offset);
  }
  head.resize((head.size() + alignment_ - 1) / alignment_ * alignment_, '\0');
  absl::Status s = sink(head);
  if (!s.ok()) return s;
  for (const Tensor& t : tensors_) {
    std::string produced;
    std::string_view bytes = t.data;
    if (t.producer) {
      produced = t.producer();
      bytes = produced;
    }
    if (bytes.size() != t.size) {
      return absl::InternalError(
          Cat("tensor '", t.name, "': ", bytes.size(), " bytes produced, ", t.size, " needed"));
    }
    s = sink(bytes);
    if (!s.ok()) return s;
    uint64_t pad = (t.size + alignment_ - 1) / alignment_ * alignment_ - t.size;
    if (pad > 0) {
      s = sink(std::string(pad, '\0'));
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GgufWriter::Serialize() const {
  std::string out;
  absl::Status s = Write([&](std::string_view b) {
    out.append(b);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status GgufWriter::WriteFile(const std::string& path) const {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) {
    return absl::InternalError(Cat("cannot create ", path, ": ", std::strerror(errno)));
  }
  absl::Status s = Write([&](std::string_view b) {
    if (std::fwrite(b.data(), 1, b.size(), f.get()) != b.size()) {
      return absl::InternalError(Cat("write to ", path, " failed"));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (std::fclose(f.release()) != 0) {
    return absl::InternalError(Cat("closing ", path, " failed"));
  }
  return absl::OkStatus();
}

}  // namespace greffier::generate
