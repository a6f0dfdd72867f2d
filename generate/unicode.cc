#include "generate/unicode.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <array>
#include <memory>

namespace greffier::generate {

Utf8Char DecodeUtf8(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  const uint8_t b0 = p[i];
  Utf8Char bad{0xFFFD, 1, false};
  if (b0 < 0x80) return {b0, 1, true};
  const uint32_t len = Utf8LengthFromLead(b0);
  if (len == 0 || i + len > n) return bad;
  char32_t cp = 0;
  if (len == 2) {
    cp = b0 & 0x1F;
  } else if (len == 3) {
    cp = b0 & 0x0F;
  } else {
    cp = b0 & 0x07;
  }
  for (uint32_t k = 1; k < len; ++k) {
    const uint8_t b = p[i + k];
    if ((b & 0xC0) != 0x80) return bad;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF.
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) ||
      cp > 0x10FFFF) {
    return bad;
  }
  return {cp, len, true};
}

void AppendUtf8(char32_t cp, std::string* out) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t IncompleteUtf8Suffix(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const uint8_t b = p[n - back];
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking
    const uint32_t len = Utf8LengthFromLead(b);
    if (len <= back) return 0;  // complete, or not a lead byte at all
    // The bytes present must not already be invalid (e.g. E0 80 is overlong).
    if (back >= 2) {
      const uint8_t b1 = p[n - back + 1];
      if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 > 0x9F) || (b == 0xF0 && b1 < 0x90) ||
          (b == 0xF4 && b1 > 0x8F)) {
        return 0;
      }
    }
    return back;
  }
  return 0;
}

namespace {

uint32_t ComputeFlags(char32_t cp) {
  uint32_t f = 0;
  const int8_t type = u_charType(static_cast<UChar32>(cp));
  switch (type) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      f |= kCpLetter;
      break;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      f |= kCpNumber;
      break;
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      f |= kCpPunctuation;
      break;
    case U_NON_SPACING_MARK:
      f |= kCpNonspacingMark;
      break;
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
    case U_UNASSIGNED:
      f |= kCpControl;
      break;
    default:
      break;
  }
  if (u_isUWhiteSpace(static_cast<UChar32>(cp))) f |= kCpWhitespace;
  if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
      (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F)) {
    f |= kCpCjk;
  }
  return f;
}

// The Basic Multilingual Plane, looked up in a table built once.
const std::array<uint8_t, 0x10000>& BmpTable() {
  static const auto* table = [] {
    auto* t = new std::array<uint8_t, 0x10000>();
    for (char32_t cp = 0; cp < 0x10000; ++cp) {
      (*t)[cp] = static_cast<uint8_t>(ComputeFlags(cp));
    }
    return t;
  }();
  return *table;
}

icu::UnicodeString ToIcu(std::string_view s) {
  return icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
}

std::string FromIcu(const icu::UnicodeString& u) {
  std::string out;
  u.toUTF8String(out);
  return out;
}

std::string Normalize(std::string_view s, bool nfc) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* norm =
      nfc ? icu::Normalizer2::getNFCInstance(err) : icu::Normalizer2::getNFDInstance(err);
  if (U_FAILURE(err) || norm == nullptr) return std::string(s);
  icu::UnicodeString out = norm->normalize(ToIcu(s), err);
  if (U_FAILURE(err)) return std::string(s);
  return FromIcu(out);
}

}  // namespace

uint32_t CodepointFlags(char32_t cp) {
  if (cp < 0x10000) return BmpTable()[cp];
  if (cp > 0x10FFFF) return 0;
  return ComputeFlags(cp);
}

std::string ToLowerUtf8(std::string_view s) {
  bool ascii = true;
  for (char c : s) ascii &= static_cast<uint8_t>(c) < 0x80;
  if (ascii) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  icu::UnicodeString u = ToIcu(s);
  u.toLower(icu::Locale::getRoot());
  return FromIcu(u);
}

std::string NormalizeNfc(std::string_view s) { return Normalize(s, true); }
std::string NormalizeNfd(std::string_view s) { return Normalize(s, false); }

bool IsNfc(std::string_view s) {
  bool ascii = true;
  for (char c : s) ascii &= static_cast<uint8_t>(c) < 0x80;
  if (ascii) return true;
  for (size_t i = 0; i < s.size();) {
    Utf8Char c = DecodeUtf8(s, i);
    if (!c.valid) return false;
    i += c.len;
  }
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* norm = icu::Normalizer2::getNFCInstance(err);
  if (U_FAILURE(err) || norm == nullptr) return true;
  const bool ok = norm->isNormalized(ToIcu(s), err);
  return U_FAILURE(err) ? true : ok;
}

}  // namespace greffier::generate
