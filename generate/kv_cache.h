#ifndef GREFFIER_GENERATE_KV_CACHE_H_
#define GREFFIER_GENERATE_KV_CACHE_H_

#include <cstdint>
#include <vector>

namespace greffier::generate {

// Keys and values of every layer for up to `capacity` positions, float32
// (exact attention; the models we target fit comfortably). Layout per layer:
// keys transposed, [kv_dim][capacity] (the score kernels read 16 positions
// of one key element per load), values [position][kv_dim]. Not thread-safe.
class KvCache {
 public:
  void Init(int n_layer, int kv_dim, int capacity) {
    n_layer_ = n_layer;
    kv_dim_ = kv_dim;
    capacity_ = capacity;
    length_ = 0;
    k_.assign(static_cast<size_t>(n_layer) * capacity * kv_dim, 0.f);
    v_.assign(static_cast<size_t>(n_layer) * capacity * kv_dim, 0.f);
  }
  int capacity() const { return capacity_; }
  int length() const { return length_; }
  void set_length(int n) { length_ = n; }
  void Truncate(int pos) {
    if (pos < length_) length_ = pos < 0 ? 0 : pos;
  }
  // Element `dim` of the keys of every position: capacity() floats.
  float* KT(int layer, int dim) {
    return k_.data() + (static_cast<size_t>(layer) * kv_dim_ + dim) * capacity_;
  }
  // Stores the key (kv_dim floats) of position `pos`.
  void SetK(int layer, int pos, const float* k) {
    float* base = KT(layer, 0) + pos;
    for (int d = 0; d < kv_dim_; ++d) base[static_cast<size_t>(d) * capacity_] = k[d];
  }
  float* V(int layer, int pos) {
    return v_.data() + (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_;
  }

 private:
  int n_layer_ = 0, kv_dim_ = 0, capacity_ = 0, length_ = 0;
  std::vector<float> k_, v_;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_KV_CACHE_H_
