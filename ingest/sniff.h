#ifndef GREFFIER_INGEST_SNIFF_H_
#define GREFFIER_INGEST_SNIFF_H_

#include <string_view>

namespace greffier::ingest {

enum class ContentType { kPdf, kText, kMarkdown, kUnsupported };

// Detects the type from the bytes (never from the name; the name only separates Markdown
// from plain text once the bytes are known to be UTF-8 text).
ContentType SniffContent(std::string_view bytes, std::string_view file_name);

const char* MimeType(ContentType type);

// A short description of what the bytes look like, for "unsupported type" errors.
const char* DescribeUnsupported(std::string_view bytes);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_SNIFF_H_
