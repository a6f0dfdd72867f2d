#include "generate/hashing_embedder.h"

#include <cmath>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "unicode/uchar.h"
#include "unicode/utf8.h"

namespace greffier::generate {
namespace {

// FNV-1a, 64-bit: stable across platforms and builds (the vectors are persisted).
uint64_t Fnv1a(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// Base letter of common Latin accented letters (after lower-casing).
UChar32 StripAccent(UChar32 c) {
  if (c < 0xC0 || c > 0x17F) return c;
  static const char* kLatin1 = "aaaaaaaceeeeiiiidnooooo/ouuuuyty";  // U+00E0..U+00FF
  if (c >= 0xE0 && c <= 0xFF) {
    char b = kLatin1[c - 0xE0];
    return b == '/' ? c : b;
  }
  switch (c) {
    case 0x153:
      return 'o';  // œ (its 'e' is lost; rare enough)
    case 0x101:
    case 0x103:
    case 0x105:
      return 'a';
    case 0x107:
    case 0x109:
    case 0x10B:
    case 0x10D:
      return 'c';
    case 0x113:
    case 0x115:
    case 0x117:
    case 0x119:
    case 0x11B:
      return 'e';
    case 0x12B:
    case 0x12D:
    case 0x12F:
    case 0x131:
      return 'i';
    case 0x14D:
    case 0x14F:
    case 0x151:
      return 'o';
    case 0x16B:
    case 0x16D:
    case 0x16F:
    case 0x171:
    case 0x173:
      return 'u';
    default:
      return c;
  }
}

}  // namespace

std::vector<std::string> FoldWords(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  while (i < n) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c >= 0 && (u_isalnum(c))) {
      c = StripAccent(u_tolower(c));
      char buf[4];
      int32_t len = 0;
      UBool err = false;
      U8_APPEND(reinterpret_cast<uint8_t*>(buf), len, 4, c, err);
      if (!err) cur.append(buf, len);
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

HashingEmbedder::HashingEmbedder(const HashingEmbedderOptions& options) : options_(options) {
  if (options_.dimension <= 0) options_.dimension = 256;
  if (options_.char_ngram <= 0) options_.char_ngram = 4;
}

std::string HashingEmbedder::Identity() const {
  return absl::StrCat("hashing-v1-d", options_.dimension, "-n", options_.char_ngram);
}

absl::StatusOr<std::vector<float>> HashingEmbedder::Embed(std::string_view text, bool) const {
  std::vector<std::string> words = FoldWords(text);
  std::unordered_map<uint64_t, float> counts;
  auto add = [&](std::string_view feature, uint64_t seed, float weight) {
    counts[Fnv1a(feature, seed)] += weight;
  };
  for (size_t w = 0; w < words.size(); ++w) {
    const std::string& word = words[w];
    if (word.size() <= 2) continue;  // mostly articles and elided forms
    add(word, 1, 1.0f);
    if (w + 1 < words.size() && words[w + 1].size() > 2) {
      add(absl::StrCat(word, " ", words[w + 1]), 2, 0.5f);
    }
    std::string padded = absl::StrCat("<", word, ">");
    const size_t n = static_cast<size_t>(options_.char_ngram);
    if (padded.size() > n) {
      for (size_t i = 0; i + n <= padded.size(); ++i) add(padded.substr(i, n), 3, 0.25f);
    }
  }
  std::vector<float> v(options_.dimension, 0.0f);
  for (const auto& [h, c] : counts) {
    float weight = 1.0f + std::log(c > 1.0f ? c : 1.0f);
    float sign = (h >> 63) ? -1.0f : 1.0f;
    v[h % static_cast<uint64_t>(options_.dimension)] += sign * weight * (c < 1.0f ? c : 1.0f);
  }
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm > 0) {
    float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v) x *= inv;
  }
  return v;
}

}  // namespace greffier::generate
