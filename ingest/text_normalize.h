#ifndef GREFFIER_INGEST_TEXT_NORMALIZE_H_
#define GREFFIER_INGEST_TEXT_NORMALIZE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace greffier::ingest {

// Cleans extracted text: invalid UTF-8 replaced, NFC, ligatures expanded (ﬁ → fi),
// CR/LF and form feeds unified, trailing spaces trimmed, runs of blank lines collapsed
// to one (a paragraph break).
std::string NormalizeText(std::string_view text);

// Number of Unicode code points in valid UTF-8.
size_t CodePointCount(std::string_view utf8);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_TEXT_NORMALIZE_H_
