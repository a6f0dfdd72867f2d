#ifndef GREFFIER_INGEST_EXTRACTED_H_
#define GREFFIER_INGEST_EXTRACTED_H_

#include <string>
#include <vector>

#include "index/records.h"

namespace greffier::ingest {

// The text of one page, as extracted.
struct ExtractedPage {
  std::string text;  // UTF-8, NFC; paragraphs separated by blank lines
  index::PageSource source = index::PageSource::kUnknown;
  float ocr_confidence = 0;
  std::string error;
};

// What extraction found in a document.
struct ExtractedDocument {
  std::string mime_type;
  std::string title;  // from the file's metadata or first heading; may be empty
  std::vector<ExtractedPage> pages;
};

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_EXTRACTED_H_
