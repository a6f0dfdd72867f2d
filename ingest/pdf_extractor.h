#ifndef GREFFIER_INGEST_PDF_EXTRACTOR_H_
#define GREFFIER_INGEST_PDF_EXTRACTOR_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/extracted.h"

namespace greffier::ingest {

// Extracts the text of every page of a PDF with Poppler, in reading order.
// `name` is used in error messages. Thread-safe (Poppler documents are per call).
absl::StatusOr<ExtractedDocument> ExtractPdf(std::string_view bytes, const std::string& name);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_PDF_EXTRACTOR_H_
