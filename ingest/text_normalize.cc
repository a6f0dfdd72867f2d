#include "ingest/text_normalize.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

namespace greffier::ingest {
namespace {

std::string ExpandLigatures(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    // U+FB00..U+FB06 are EF AC 80..86 in UTF-8.
    if (i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xEF &&
        static_cast<unsigned char>(s[i + 1]) == 0xAC) {
      static const char* kLig[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};
      unsigned char c = static_cast<unsigned char>(s[i + 2]);
      if (c >= 0x80 && c <= 0x86) {
        out += kLig[c - 0x80];
        i += 3;
        continue;
      }
    }
    out.push_back(s[i++]);
  }
  return out;
}

}  // namespace

std::string NormalizeText(std::string_view text) {
  // fromUTF8 replaces invalid sequences with U+FFFD.
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  std::string utf8;
  if (U_SUCCESS(status)) {
    icu::UnicodeString normalized = nfc->normalize(u, status);
    if (U_SUCCESS(status)) u = normalized;
  }
  u.toUTF8String(utf8);
  utf8 = ExpandLigatures(utf8);

  std::string out;
  out.reserve(utf8.size());
  std::string line;
  int blank_run = 0;
  auto flush_line = [&]() {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty()) {
      ++blank_run;
    } else {
      if (!out.empty()) out += blank_run > 0 ? "\n\n" : "\n";
      out += line;
      blank_run = 0;
    }
    line.clear();
  };
  for (size_t i = 0; i < utf8.size(); ++i) {
    char c = utf8[i];
    if (c == '\r') {
      if (i + 1 < utf8.size() && utf8[i + 1] == '\n') ++i;
      flush_line();
    } else if (c == '\n' || c == '\f') {
      flush_line();
    } else {
      line.push_back(c == '\t' ? ' ' : c);
    }
  }
  flush_line();
  return out;
}

size_t CodePointCount(std::string_view utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace greffier::ingest
