#ifndef GREFFIER_INGEST_SAMPLE_ARCHIVE_H_
#define GREFFIER_INGEST_SAMPLE_ARCHIVE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/pdf_writer.h"

namespace greffier::ingest {

// One document of the bundled sample archive: fictitious French administrative acts written
// by this project (an arrêté, a délibération, a circulaire, a notice).
struct SampleDocument {
  std::string file_name;
  std::string document_type;
  std::string date;
  std::string collection;
  std::string title;
  std::vector<PdfBlock> blocks;
};

// A question over the sample archive with the document and a phrase that answers it.
struct SampleQuestion {
  std::string question;
  std::string file_name;  // the document holding the answer
  std::string answer;     // a phrase of that document's text that answers it
};

const std::vector<SampleDocument>& SampleDocuments();
const std::vector<SampleQuestion>& SampleQuestions();

// Writes the sample PDFs and questions.txt (one sample question per line) into `dir`
// (created if needed); returns the paths of the PDFs.
absl::StatusOr<std::vector<std::string>> WriteSampleArchive(const std::string& dir);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_SAMPLE_ARCHIVE_H_
