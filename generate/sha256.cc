#include "generate/sha256.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "generate/str_util.h"

namespace greffier::generate {
namespace {

// Round constants: the first 32 fractional bits of the cube roots of the
// first 64 primes; initial state: same for the square roots of the first 8.
struct Constants {
  uint32_t k[64];
  uint32_t h0[8];
  Constants() {
    int primes[64];
    int n = 0;
    for (int c = 2; n < 64; ++c) {
      bool prime = true;
      for (int d = 2; d * d <= c; ++d) {
        if (c % d == 0) prime = false;
      }
      if (prime) primes[n++] = c;
    }
    for (int i = 0; i < 64; ++i) k[i] = Frac32(std::cbrt(static_cast<long double>(primes[i])));
    for (int i = 0; i < 8; ++i) h0[i] = Frac32(std::sqrt(static_cast<long double>(primes[i])));
  }
  static uint32_t Frac32(long double x) {
    long double f = x - std::floor(x);
    return static_cast<uint32_t>(std::floor(std::ldexp(f, 32)));
  }
};

const Constants& K() {
  static const Constants* c = new Constants();
  return *c;
}

inline uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

}  // namespace

Sha256::Sha256() { std::memcpy(h_, K().h0, sizeof h_); }

void Sha256::Block(const uint8_t* p) {
  const uint32_t* k = K().k;
  uint32_t w[64];
  for (int i = 0; i < 16; ++i) {
    w[i] = static_cast<uint32_t>(p[4 * i]) << 24 | static_cast<uint32_t>(p[4 * i + 1]) << 16 |
           static_cast<uint32_t>(p[4 * i + 2]) << 8 | p[4 * i + 3];
  }
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t s1 = Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = h + s1 + ch + k[i] + w[i];
    uint32_t s0 = Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
  h_[5] += f;
  h_[6] += g;
  h_[7] += h;
}

void Sha256::Update(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  total_ += n;
  if (buf_len_ > 0) {
    size_t take = std::min(n, 64 - buf_len_);
    std::memcpy(buf_ + buf_len_, p, take);
    buf_len_ += take;
    p += take;
    n -= take;
    if (buf_len_ == 64) {
      Block(buf_);
      buf_len_ = 0;
    }
  }
  while (n >= 64) {
    Block(p);
    p += 64;
    n -= 64;
  }
  std::memcpy(buf_, p, n);
  buf_len_ += n;
}

std::string Sha256::HexDigest() {
  const uint64_t bits = total_ * 8;
  uint8_t pad[72] = {0x80};
  size_t pad_len = (buf_len_ < 56 ? 56 : 120) - buf_len_;
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  Update(pad, pad_len);
  Update(len, 8);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint32_t v : h_) {
    for (int s = 28; s >= 0; s -= 4) out += kHex[(v >> s) & 0xF];
  }
  return out;
}

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    return absl::NotFoundError(Cat("cannot open ", path, ": ", std::strerror(errno)));
  }
  Sha256 h;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
    h.Update(buf.data(), n);
  }
  if (std::ferror(f.get())) {
    return absl::InternalError(Cat("read error on ", path));
  }
  return h.HexDigest();
}

}  // namespace greffier::generate
