#ifndef GREFFIER_GENERATE_UNICODE_H_
#define GREFFIER_GENERATE_UNICODE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace greffier::generate {

// One UTF-8 sequence decoded from a byte string.
struct Utf8Char {
  char32_t cp = 0;   // U+FFFD when !valid
  uint32_t len = 1;  // bytes consumed; 1 for an invalid byte
  bool valid = false;
};

// Decodes the sequence starting at s[i] (i < s.size()). Overlong forms,
// surrogates, values past U+10FFFF and truncated sequences are invalid and
// consume exactly one byte, so every byte string splits into sequences.
Utf8Char DecodeUtf8(std::string_view s, size_t i);

// Appends the UTF-8 form of `cp` (U+FFFD for surrogates and out-of-range).
void AppendUtf8(char32_t cp, std::string* out);

// Length that a sequence starting with `lead` announces: 1 to 4, or 0 for a
// byte that cannot start a sequence.
inline uint32_t Utf8LengthFromLead(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// Number of bytes at the end of `s` that form an incomplete (but so far
// valid) UTF-8 sequence, which more bytes could complete. 0 to 3.
size_t IncompleteUtf8Suffix(std::string_view s);

// Character classes used by the pre-tokenizers, from ICU's Unicode data.
enum CodepointFlag : uint32_t {
  kCpLetter = 1u << 0,          // \p{L}
  kCpNumber = 1u << 1,          // \p{N}
  kCpWhitespace = 1u << 2,      // \s (White_Space property)
  kCpPunctuation = 1u << 3,     // \p{P}
  kCpNonspacingMark = 1u << 4,  // Mn
  kCpControl = 1u << 5,         // Cc, Cf, Co, Cs, Cn (BERT's "control")
  kCpCjk = 1u << 6,             // CJK ideographs that BERT isolates
};
uint32_t CodepointFlags(char32_t cp);

// Full Unicode lower-casing (root locale). Invalid bytes become U+FFFD.
std::string ToLowerUtf8(std::string_view s);
// Canonical normalisation. Invalid bytes become U+FFFD.
std::string NormalizeNfc(std::string_view s);
std::string NormalizeNfd(std::string_view s);
// True when `s` is valid UTF-8 and already NFC (a fast check).
bool IsNfc(std::string_view s);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_UNICODE_H_
