#include "generate/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <new>

#include "absl/status/status.h"
#include "generate/str_util.h"

namespace greffier::generate {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
// Sanity limits: far above any real model, low enough to refuse absurd counts
// before allocating for them.
constexpr uint64_t kMaxStringLen = 1ull << 30;
constexpr uint64_t kMaxTensors = 1ull << 20;
constexpr uint64_t kMaxKvs = 1ull << 20;

void FreeAligned(uint8_t* p) { ::operator delete[](p, std::align_val_t(64)); }

// Sequential little-endian reader over [data, data+size) with bounds checks.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  bool Read(void* out, uint64_t n) {
    if (n > remaining()) return false;
    std::memcpy(out, data_ + pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(uint64_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  template <typename T>
  bool Get(T* out) {
    return Read(out, sizeof(T));
  }
  const uint8_t* here() const { return data_ + pos_; }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

// Byte size of a scalar metadata type, 0 for string/array/unknown.
uint64_t ScalarSize(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    default:
      return 0;
  }
}

bool IsInteger(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kUint64:
    case GgufType::kInt64:
      return true;
    default:
      return false;
  }
}

// Reads one integer element of type `t` at `p`; unsigned 64-bit values above
// INT64_MAX are flagged through `*big`.
int64_t ReadIntAt(const uint8_t* p, GgufType t, bool* big) {
  *big = false;
  switch (t) {
    case GgufType::kUint8:
      return p[0];
    case GgufType::kInt8:
      return static_cast<int8_t>(p[0]);
    case GgufType::kUint16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case GgufType::kInt16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case GgufType::kUint32: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case GgufType::kInt32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case GgufType::kUint64: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        *big = true;
      }
      return static_cast<int64_t>(v);
    }
    case GgufType::kInt64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    default:
      return 0;
  }
}

bool MulOverflow(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

}  // namespace

std::string GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
      return "uint8";
    case GgufType::kInt8:
      return "int8";
    case GgufType::kUint16:
      return "uint16";
    case GgufType::kInt16:
      return "int16";
    case GgufType::kUint32:
      return "uint32";
    case GgufType::kInt32:
      return "int32";
    case GgufType::kFloat32:
      return "float32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kUint64:
      return "uint64";
    case GgufType::kInt64:
      return "int64";
    case GgufType::kFloat64:
      return "float64";
  }
  return Cat("unknown(", static_cast<uint32_t>(type), ")");
}

std::optional<GgmlTypeInfo> GetGgmlTypeInfo(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return GgmlTypeInfo{"f32", 1, 4};
    case GgmlType::kF16:
      return GgmlTypeInfo{"f16", 1, 2};
    case GgmlType::kQ4_0:
      return GgmlTypeInfo{"q4_0", 32, 18};
    case GgmlType::kQ4_1:
      return GgmlTypeInfo{"q4_1", 32, 20};
    case GgmlType::kQ5_0:
      return GgmlTypeInfo{"q5_0", 32, 22};
    case GgmlType::kQ5_1:
      return GgmlTypeInfo{"q5_1", 32, 24};
    case GgmlType::kQ8_0:
      return GgmlTypeInfo{"q8_0", 32, 34};
    case GgmlType::kQ8_1:
      return GgmlTypeInfo{"q8_1", 32, 36};
    case GgmlType::kQ2_K:
      return GgmlTypeInfo{"q2_K", 256, 84};
    case GgmlType::kQ3_K:
      return GgmlTypeInfo{"q3_K", 256, 110};
    case GgmlType::kQ4_K:
      return GgmlTypeInfo{"q4_K", 256, 144};
    case GgmlType::kQ5_K:
      return GgmlTypeInfo{"q5_K", 256, 176};
    case GgmlType::kQ6_K:
      return GgmlTypeInfo{"q6_K", 256, 210};
    case GgmlType::kQ8_K:
      return GgmlTypeInfo{"q8_K", 256, 292};
    case GgmlType::kIQ2_XXS:
      return GgmlTypeInfo{"iq2_xxs", 256, 66};
    case GgmlType::kIQ2_XS:
      return GgmlTypeInfo{"iq2_xs", 256, 74};
    case GgmlType::kIQ3_XXS:
      return GgmlTypeInfo{"iq3_xxs", 256, 98};
    case GgmlType::kIQ1_S:
      return GgmlTypeInfo{"iq1_s", 256, 50};
    case GgmlType::kIQ4_NL:
      return GgmlTypeInfo{"iq4_nl", 32, 18};
    case GgmlType::kIQ3_S:
      return GgmlTypeInfo{"iq3_s", 256, 110};
    case GgmlType::kIQ2_S:
      return GgmlTypeInfo{"iq2_s", 256, 82};
    case GgmlType::kIQ4_XS:
      return GgmlTypeInfo{"iq4_xs", 256, 136};
    case GgmlType::kI8:
      return GgmlTypeInfo{"i8", 1, 1};
    case GgmlType::kI16:
      return GgmlTypeInfo{"i16", 1, 2};
    case GgmlType::kI32:
      return GgmlTypeInfo{"i32", 1, 4};
    case GgmlType::kI64:
      return GgmlTypeInfo{"i64", 1, 8};
    case GgmlType::kF64:
      return GgmlTypeInfo{"f64", 1, 8};
    case GgmlType::kIQ1_M:
      return GgmlTypeInfo{"iq1_m", 256, 56};
    case GgmlType::kBF16:
      return GgmlTypeInfo{"bf16", 1, 2};
    case GgmlType::kTQ1_0:
      return GgmlTypeInfo{"tq1_0", 256, 54};
    case GgmlType::kTQ2_0:
      return GgmlTypeInfo{"tq2_0", 256, 66};
  }
  return std::nullopt;
}

std::string GgmlTypeName(GgmlType type) {
  auto info = GetGgmlTypeInfo(type);
  if (info) return std::string(info->name);
  return Cat("unknown(", static_cast<uint32_t>(type), ")");
}

GgufFile::~GgufFile() {
  if (mapping_ != nullptr) munmap(mapping_, size_);
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(Cat("GGUF file ", path, ": cannot open: ", strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return absl::InternalError(Cat("GGUF file ", path, ": fstat failed: ", strerror(e)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(Cat("GGUF file ", path, ": not a regular file"));
  }
  auto file = std::unique_ptr<GgufFile>(new GgufFile());
  file->path_ = path;
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (file->size_ > 0) {
    void* m = mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return absl::InternalError(Cat("GGUF file ", path, ": mmap failed: ", strerror(e)));
    }
    file->mapping_ = m;
    file->data_ = static_cast<const uint8_t*>(m);
  }
  ::close(fd);
  absl::Status s = file->Parse();
  if (!s.ok()) return s;
  return file;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::OpenFromMemory(std::string_view bytes,
                                                                   const std::string& name) {
  auto file = std::unique_ptr<GgufFile>(new GgufFile());
  file->path_ = name;
  file->size_ = bytes.size();
  // 64-byte aligned copy so tensor data is as aligned as in a mapped file.
  uint8_t* p = static_cast<uint8_t*>(::operator new[](bytes.size() + 1, std::align_val_t(64)));
  std::memcpy(p, bytes.data(), bytes.size());
  file->owned_ = std::unique_ptr<uint8_t[], void (*)(uint8_t*)>(p, FreeAligned);
  file->data_ = p;
  absl::Status s = file->Parse();
  if (!s.ok()) return s;
  return file;
}

absl::Status GgufFile::KeyError(std::string_view key, std::string_view why) const {
  return absl::InvalidArgumentError(Cat("GGUF file ", path_, ": key '", key, "': ", why));
}

absl::Status GgufFile::Parse() {
  auto err = [&](std::string_view why) {
    return absl::InvalidArgumentError(Cat("GGUF file ", path_, ": ", why));
  };
  Cursor c(data_, size_);
  uint32_t magic = 0;
  if (!c.Get(&magic)) return err("truncated: shorter than the 4-byte magic");
  if (magic != kGgufMagic) return err("not a GGUF file (wrong magic)");
  if (!c.Get(&version_)) return err("truncated in header (version)");
  if (version_ != 2 && version_ != 3) {
    return err(Cat("unsupported GGUF version ", version_, " (supported: 2 and 3)"));
  }
  uint64_t n_tensors = 0, n_kv = 0;
  if (!c.Get(&n_tensors) || !c.Get(&n_kv)) {
    return err("truncated in header (counts)");
  }
  if (n_tensors > kMaxTensors) {
    return err(Cat("absurd tensor count ", n_tensors));
  }
  if (n_kv > kMaxKvs) return err(Cat("absurd metadata count ", n_kv));

  auto read_string = [&](std::string_view what, std::string_view* out) -> absl::Status {
    uint64_t len = 0;
    if (!c.Get(&len)) return err(Cat("truncated in ", what));
    if (len > kMaxStringLen || len > c.remaining()) {
      return err(Cat("truncated or absurd string length ", len, " in ", what));
    }
    *out = std::string_view(reinterpret_cast<const char*>(c.here()), len);
    c.Skip(len);
    return absl::OkStatus();
  };

  kvs_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string_view key;
    absl::Status s = read_string(Cat("metadata key #", i), &key);
    if (!s.ok()) return s;
    uint32_t type_raw = 0;
    if (!c.Get(&type_raw)) return KeyError(key, "truncated before value type");
    GgufValue v;
    v.type = static_cast<GgufType>(type_raw);
    if (v.type == GgufType::kString) {
      std::string_view sv;
      s = read_string(Cat("value of key '", key, "'"), &sv);
      if (!s.ok()) return s;
      v.data = reinterpret_cast<const uint8_t*>(sv.data());
      v.size = sv.size();
    } else if (v.type == GgufType::kArray) {
      uint32_t et = 0;
      if (!c.Get(&et) || !c.Get(&v.array_count)) {
        return KeyError(key, "truncated in array header");
      }
      v.array_type = static_cast<GgufType>(et);
      v.data = c.here();
      uint64_t start = c.pos();
      if (v.array_type == GgufType::kString) {
        for (uint64_t j = 0; j < v.array_count; ++j) {
          uint64_t len = 0;
          if (!c.Get(&len) || len > c.remaining()) {
            return KeyError(key, Cat("truncated at string element ", j, " of ", v.array_count));
          }
          c.Skip(len);
        }
      } else {
        uint64_t es = ScalarSize(v.array_type);
        if (es == 0) {
          return KeyError(key, Cat("unsupported array element type ", GgufTypeName(v.array_type)));
        }
        uint64_t bytes = 0;
        if (MulOverflow(es, v.array_count, &bytes) || bytes > c.remaining()) {
          return KeyError(key, Cat("array of ", v.array_count, " ", GgufTypeName(v.array_type),
                                   " runs past the end of the file"));
        }
        c.Skip(bytes);
      }
      v.size = c.pos() - start;
    } else {
      uint64_t es = ScalarSize(v.type);
      if (es == 0) {
        return KeyError(key, Cat("unknown value type ", type_raw));
      }
      v.data = c.here();
      v.size = es;
      if (!c.Skip(es)) return KeyError(key, "truncated value");
    }
    kvs_.emplace_back(std::string(key), v);
  }

  if (const GgufValue* a = Find("general.alignment")) {
    bool big = false;
    if (!IsInteger(a->type)) {
      return KeyError("general.alignment", "not an integer");
    }
    int64_t al = ReadIntAt(a->data, a->type, &big);
    if (big || al <= 0 || (al & (al - 1)) != 0 || al > (1 << 20)) {
      return KeyError("general.alignment",
                      Cat("invalid alignment ", al, " (must be a power of two)"));
    }
    alignment_ = static_cast<uint64_t>(al);
  }

  tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    std::string_view name;
    absl::Status s = read_string(Cat("name of tensor #", i), &name);
    if (!s.ok()) return s;
    auto terr = [&](std::string_view why) {
      return absl::InvalidArgumentError(Cat("GGUF file ", path_, ": tensor '", name, "': ", why));
    };
    GgufTensorInfo t;
    t.name = std::string(name);
    if (!c.Get(&t.n_dims)) return terr("truncated (dimension count)");
    if (t.n_dims == 0 || t.n_dims > 4) {
      return terr(Cat("invalid dimension count ", t.n_dims));
    }
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      if (!c.Get(&t.ne[d])) return terr("truncated (dimensions)");
    }
    uint32_t type_raw = 0;
    if (!c.Get(&type_raw) || !c.Get(&t.offset)) {
      return terr("truncated (type/offset)");
    }
    t.type = static_cast<GgmlType>(type_raw);
    auto info = GetGgmlTypeInfo(t.type);
    if (!info) {
      return terr(Cat("unknown tensor type ", type_raw));
    }
    uint64_t n = 1;
    for (int d = 0; d < 4; ++d) {
      if (t.ne[d] == 0) return terr("has a zero dimension");
      if (MulOverflow(n, t.ne[d], &n) || n > (1ull << 48)) {
        return terr("absurd size (element count overflows)");
      }
    }
    t.n_elements = n;
    if (t.ne[0] % info->block_elems != 0) {
      return terr(Cat("row length ", t.ne[0], " is not a multiple of the block size ",
                      info->block_elems, " of type ", info->name));
    }
    if (MulOverflow(n / info->block_elems, info->block_bytes, &t.size_bytes)) {
      return terr("absurd size (byte count overflows)");
    }
    if (t.offset % alignment_ != 0) {
      return terr(Cat("data offset ", t.offset, " is not aligned to ", alignment_));
    }
    tensors_.push_back(std::move(t));
  }

  uint64_t pos = c.pos();
  data_offset_ = (pos + alignment_ - 1) / alignment_ * alignment_;
  uint64_t data_size = size_ >= data_offset_ ? size_ - data_offset_ : 0;
  if (n_tensors > 0 && data_offset_ > size_) {
    return err("truncated: the data section is missing");
  }
  for (const GgufTensorInfo& t : tensors_) {
    if (t.offset > data_size || t.size_bytes > data_size - t.offset) {
      return absl::InvalidArgumentError(Cat("GGUF file ", path_, ": tensor '", t.name, "': data [",
                                            t.offset, ", +", t.size_bytes,
                                            ") runs past the end of the data section (", data_size,
                                            " bytes; file truncated or corrupt)"));
    }
  }
  return absl::OkStatus();
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  for (const auto& kv : kvs_) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

absl::StatusOr<std::string> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(Cat("GGUF file ", path_, ": key '", key, "' absent"));
  }
  if (v->type != GgufType::kString) {
    return KeyError(key, Cat("expected a string, found ", GgufTypeName(v->type)));
  }
  return std::string(reinterpret_cast<const char*>(v->data), v->size);
}

absl::StatusOr<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(Cat("GGUF file ", path_, ": key '", key, "' absent"));
  }
  if (!IsInteger(v->type)) {
    return KeyError(key, Cat("expected an integer, found ", GgufTypeName(v->type)));
  }
  bool big = false;
  int64_t x = ReadIntAt(v->data, v->type, &big);
  if (big) return KeyError(key, "value does not fit in int64");
  return x;
}

absl::StatusOr<uint64_t> GgufFile::GetUint(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(Cat("GGUF file ", path_, ": key '", key, "' absent"));
  }
  if (!IsInteger(v->type)) {
    return KeyError(key, Cat("expected an integer, found ", GgufTypeName(v->type)));
  }
  if (v->type == GgufType::kUint64) {
    uint64_t x;
    std::memcpy(&x, v->data, 8);
    return x;
  }
  bool big = false;
  int64_t x = ReadIntAt(v->data, v->type, &big);
  if (x < 0) {
    return KeyError(key, Cat("negative value ", x, " where a count was expected"));
  }
  return static_cast<uint64_t>(x);
}

absl::StatusOr<float> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(Cat("GGUF file ", path_, ": key '", key, "' absent"));
  }
  if (v->type == GgufType::kFloat32) {
    float f;
    std::memcpy(&f, v->data, 4);
    return f;
  }
  if (v->type == GgufType::kFloat64) {
    double d;
    std::memcpy(&d, v->data, 8);
    return static_cast<float>(d);
  }
  if (IsInteger(v->type)) {
    bool big = false;
    int64_t x = ReadIntAt(v->data, v->type, &big);
    return big ? static_cast<float>(static_cast<uint64_t>(x)) : static_cast<float>(x);
  }
  return KeyError(key, Cat("expected a number, found ", GgufTypeName(v->type)));
}

absl::StatusOr<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(Cat("GGUF file ", path_, ": key '", key, "' absent"));
  }
  if (v->type != GgufType::kBool) {
    return KeyError(key, Cat("expected a bool, found ", GgufTypeName(v->type)));
  }
  return v->data[0] != 0;
}

absl::StatusOr<std::vector<std::string>> GgufFile::GetStringArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(Cat("GGUF file ", path_, ": key '", key, "' absent"));
  }
  if (v->type != GgufType::kArray || v->array_type != GgufType::kString) {
    return KeyError(key, "expected an array of strings");
  }
  std::vector<std::string> out;
  out.reserve(v->array_count);
  Cursor c(v->data, v->size);  // bounds were validated in Parse
  for (uint64_t i = 0; i < v->array_count; ++i) {
    uint64_t len = 0;
    c.Get(&len);
    out.emplace_back(reinterpret_cast<const char*>(c.here()), len);
    c.Skip(len);
  }
  return out;
}

absl::StatusOr<std::vector<float>> GgufFile::GetFloatArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(Cat("GGUF file ", path_, ": key '", key, "' absent"));
  }
  if (v->type != GgufType::kArray ||
      (v->array_type != GgufType::kFloat32 && v->array_type != GgufType::kFloat64)) {
    return KeyError(key, "expected an array of floats");
  }
  std::vector<float> out(v->array_count);
  for (uint64_t i = 0; i < v->array_count; ++i) {
    if (v->array_type == GgufType::kFloat32) {
      std::memcpy(&out[i], v->data + 4 * i, 4);
    } else {
      double d;
      std::memcpy(&d, v->data + 8 * i, 8);
      out[i] = static_cast<float>(d);
    }
  }
  return out;
}

absl::StatusOr<std::vector<int32_t>> GgufFile::GetIntArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(Cat("GGUF file ", path_, ": key '", key, "' absent"));
  }
  if (v->type != GgufType::kArray || !IsInteger(v->array_type)) {
    return KeyError(key, "expected an array of integers");
  }
  uint64_t es = ScalarSize(v->array_type);
  std::vector<int32_t> out(v->array_count);
  for (uint64_t i = 0; i < v->array_count; ++i) {
    bool big = false;
    int64_t x = ReadIntAt(v->data + es * i, v->array_type, &big);
    if (big || x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) {
      return KeyError(key, Cat("element ", i, " does not fit int32"));
    }
    out[i] = static_cast<int32_t>(x);
  }
  return out;
}

absl::StatusOr<uint64_t> GgufFile::GetUintOr(std::string_view key, uint64_t fallback) const {
  if (Find(key) == nullptr) return fallback;
  return GetUint(key);
}

absl::StatusOr<float> GgufFile::GetFloatOr(std::string_view key, float fallback) const {
  if (Find(key) == nullptr) return fallback;
  return GetFloat(key);
}

absl::StatusOr<std::string> GgufFile::GetStringOr(std::string_view key,
                                                  std::string_view fallback) const {
  if (Find(key) == nullptr) return std::string(fallback);
  return GetString(key);
}

}  // namespace greffier::generate
