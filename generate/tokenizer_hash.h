#ifndef GREFFIER_GENERATE_TOKENIZER_HASH_H_
#define GREFFIER_GENERATE_TOKENIZER_HASH_H_

// Small open-addressing hash tables for the tokenizers' hot lookups (token
// text to id, merge pair to rank). Built once, then read-only: concurrent
// Find calls are safe; Insert is not.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace greffier::generate::internal {

inline uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xFF51AFD7ED558CCDull);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 31;
  }
  uint64_t tail = 0;
  if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  h *= 0x165667B19E3779F9ull;
  return h ^ (h >> 32);
}

inline uint64_t HashU64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  return x ^ (x >> 33);
}

// Byte string -> non-negative int32. Keys are views: their bytes must outlive
// the map.
class StringIdMap {
 public:
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    size_ = 0;
  }
  // Keeps the first id inserted for a key.
  void Insert(std::string_view key, int32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    size_t i = HashBytes(key) & mask_;
    while (slots_[i].id >= 0) {
      if (slots_[i].key == key) return;
      i = (i + 1) & mask_;
    }
    slots_[i] = {key, id};
    ++size_;
  }
  // The id of `key`, or -1.
  int32_t Find(std::string_view key) const {
    if (slots_.empty()) return -1;
    size_t i = HashBytes(key) & mask_;
    while (slots_[i].id >= 0) {
      if (slots_[i].key == key) return slots_[i].id;
      i = (i + 1) & mask_;
    }
    return -1;
  }
  size_t size() const { return size_; }

 private:
  struct Slot {
    std::string_view key;
    int32_t id = -1;
  };
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    Reserve(old.empty() ? 16 : old.size());
    for (const Slot& s : old) {
      if (s.id >= 0) Insert(s.key, s.id);
    }
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// (left id, right id) -> (rank, merged id), for byte-level BPE merges.
class MergeMap {
 public:
  struct Merge {
    int32_t rank = -1;
    int32_t merged = -1;
  };
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  // Keeps the first (lowest-rank) merge of a pair. Reserve first.
  void Insert(int32_t left, int32_t right, Merge m) {
    const uint64_t key = Key(left, right);
    size_t i = HashU64(key) & mask_;
    while (slots_[i].value.rank >= 0) {
      if (slots_[i].key == key) return;
      i = (i + 1) & mask_;
    }
    slots_[i] = {key, m};
  }
  // rank < 0 when the pair does not merge.
  Merge Find(int32_t left, int32_t right) const {
    if (slots_.empty()) return {};
    const uint64_t key = Key(left, right);
    size_t i = HashU64(key) & mask_;
    while (slots_[i].value.rank >= 0) {
      if (slots_[i].key == key) return slots_[i].value;
      i = (i + 1) & mask_;
    }
    return {};
  }

 private:
  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  struct Slot {
    uint64_t key = 0;
    Merge value;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace greffier::generate::internal

#endif  // GREFFIER_GENERATE_TOKENIZER_HASH_H_
