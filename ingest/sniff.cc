#include "ingest/sniff.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace greffier::ingest {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Valid UTF-8 with no NUL and few control characters.
bool LooksLikeText(std::string_view bytes) {
  size_t controls = 0;
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      if (c == 0) return false;
      if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') ++controls;
      ++i;
      continue;
    }
    int len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(bytes[i + k]) >> 6) != 0x2) return false;
    }
    i += len;
  }
  return controls * 100 <= n;
}

}  // namespace

ContentType SniffContent(std::string_view bytes, std::string_view file_name) {
  // PDF files may carry a little junk before the header; readers accept it within 1 KiB.
  if (bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos) return ContentType::kPdf;
  if (bytes.empty() || !LooksLikeText(bytes)) return ContentType::kUnsupported;
  std::string lower(file_name);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower.ends_with(".md") || lower.ends_with(".markdown")) return ContentType::kMarkdown;
  return ContentType::kText;
}

const char* MimeType(ContentType type) {
  switch (type) {
    case ContentType::kPdf:
      return "application/pdf";
    case ContentType::kText:
      return "text/plain";
    case ContentType::kMarkdown:
      return "text/markdown";
    case ContentType::kUnsupported:
      break;
  }
  return "application/octet-stream";
}

const char* DescribeUnsupported(std::string_view b) {
  if (b.empty()) return "empty file";
  if (StartsWith(b, "PK\x03\x04")) return "a zip archive or office document";
  if (StartsWith(b, "\x89PNG")) return "a PNG image";
  if (StartsWith(b, "\xFF\xD8\xFF")) return "a JPEG image";
  if (StartsWith(b, "II*") || StartsWith(b, "MM\x00*")) return "a TIFF image";
  if (StartsWith(b, "\x1F\x8B")) return "gzip-compressed data";
  if (StartsWith(b, "\xD0\xCF\x11\xE0")) return "a legacy Microsoft Office document";
  if (StartsWith(b, "{\\rtf")) return "an RTF document";
  if (StartsWith(b,
                 "\x7F"
                 "ELF"))
    return "an executable";
  return "binary data that is neither PDF nor UTF-8 text";
}

}  // namespace greffier::ingest
