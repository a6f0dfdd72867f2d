#ifndef GREFFIER_INGEST_METADATA_DETECT_H_
#define GREFFIER_INGEST_METADATA_DETECT_H_

#include <string>
#include <vector>

#include "ingest/extracted.h"

namespace greffier::ingest {

// Metadata found in the text of a French administrative document. Empty when not found.
struct DetectedMetadata {
  std::string title;          // e.g. "Arrêté du 22 janvier 2020 fixant la liste des ..."
  std::string date;           // YYYY-MM-DD: the document's own date (séance, signature, act)
  std::string document_type;  // arrêté, décret, circulaire, délibération,
                              // procès-verbal, formulaire, rapport
  std::string nor;            // NOR identifier, e.g. "PRMD1937810A"
  std::vector<std::string> references;  // other numbers: "2014/6423", "DE-2012/86", ...
};

// Looks at the first pages for the document type, title, date, NOR and reference numbers.
// Thread-safe (pure function).
DetectedMetadata DetectMetadata(const std::vector<ExtractedPage>& pages);

// Parses the first French date in `text` ("10 juillet 2012", "1er mars 2015", "03/07/2012");
// returns YYYY-MM-DD or "".
std::string FindFrenchDate(const std::string& text);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_METADATA_DETECT_H_
