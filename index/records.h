#ifndef GREFFIER_INDEX_RECORDS_H_
#define GREFFIER_INDEX_RECORDS_H_

// The persisted records of the index and their encodings (magic + version, bounds-checked).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace greffier::index {

// How a page's text was obtained (mirrors the API's PageSource).
enum class PageSource : uint8_t { kUnknown = 0, kTextLayer = 1, kOcr = 2, kEmpty = 3, kFailed = 4 };

struct PageInfo {
  PageSource source = PageSource::kUnknown;
  uint32_t char_count = 0;
  float ocr_confidence = 0;  // 0..100, OCR pages only
  std::string error;         // failed pages only
};

struct DocumentRecord {
  uint64_t id = 0;
  std::string source_path;   // where the document came from (file name or path)
  std::string content_hash;  // hex SHA-256 of the bytes
  std::string mime_type;
  std::string title;
  std::string collection;
  std::string document_type;
  std::string date;  // YYYY-MM-DD or empty
  std::vector<std::string> access_labels;
  std::vector<std::pair<std::string, std::string>> extra;
  std::vector<PageInfo> pages;
  std::vector<uint64_t> passage_ids;
  int64_t ingested_at_ms = 0;
  uint64_t size_bytes = 0;
};

struct PassageRecord {
  uint64_t id = 0;
  uint64_t document_id = 0;
  uint32_t page_start = 0;  // 1-based, inclusive
  uint32_t page_end = 0;    // 1-based, inclusive
  uint32_t char_start = 0;  // code points into the text of page_start
  uint32_t char_end = 0;    // code points into the text of page_end (exclusive)
  std::vector<std::string> section_path;
  std::string text;
};

std::string EncodeDocument(const DocumentRecord& doc);
absl::StatusOr<DocumentRecord> DecodeDocument(std::string_view data);
std::string EncodePassage(const PassageRecord& passage);
absl::StatusOr<PassageRecord> DecodePassage(std::string_view data);
std::string EncodeVector(const std::vector<float>& v);
absl::StatusOr<std::vector<float>> DecodeVector(std::string_view data);

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_RECORDS_H_
