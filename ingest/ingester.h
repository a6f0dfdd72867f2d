#ifndef GREFFIER_INGEST_INGESTER_H_
#define GREFFIER_INGEST_INGESTER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "generate/embedder.h"
#include "index/index.h"
#include "ingest/passage_splitter.h"
#include "ingest/pdf_extractor.h"
#include "ingest/sandbox.h"

namespace greffier::ingest {

// Metadata supplied with a document; non-empty fields win over detected ones.
struct IngestMetadata {
  std::string title;
  std::string collection;
  std::string document_type;
  std::string date;  // YYYY-MM-DD
  std::vector<std::string> access_labels;
  std::vector<std::pair<std::string, std::string>> extra;
};

enum class IngestOutcome { kIngested, kUnchanged, kReplaced };

struct IngestResult {
  uint64_t document_id = 0;
  IngestOutcome outcome = IngestOutcome::kIngested;
  uint64_t replaced_document_id = 0;
  std::string content_hash;
  std::string title;
  std::vector<index::PageInfo> pages;
  size_t passage_count = 0;
};

struct IngesterOptions {
  // Where documents go. Default: none (required, not owned).
  index::Index* index = nullptr;
  // Embeds passages. Default: none (required, not owned).
  const generate::Embedder* embedder = nullptr;
  // Files larger than this are refused. Default: 512 MiB.
  uint64_t max_file_bytes = 512ull << 20;
  SplitterOptions splitter;
  // Layout analysis and OCR settings.
  ExtractOptions extract;
  // Parse and OCR PDFs in child processes under `sandbox_limits` (long-lived workers, each
  // document under its own limits), so that a hostile file is rejected instead of crashing
  // or hanging the caller. Default: true.
  bool sandbox = true;
  SandboxOptions sandbox_limits;
};

// The text a passage is embedded from: its document's title, section path and text (the
// context a reader would have). Re-embedding uses the same.
std::string EmbeddingText(const std::string& title, const std::vector<std::string>& section,
                          const std::string& text);

// Turns document bytes into a stored document: type sniffing, extraction, passages,
// embeddings, one index write. Thread-safe: extraction and embedding run concurrently; the
// duplicate/replacement check and the write are serialised.
class Ingester {
 public:
  static absl::StatusOr<std::unique_ptr<Ingester>> Open(const IngesterOptions& options);

  // `source_path` identifies the document's origin (a path or a file name): a new version
  // of the same source replaces the old one. Errors name the source and the reason.
  absl::StatusOr<IngestResult> Ingest(std::string_view bytes, const std::string& source_path,
                                      const IngestMetadata& metadata);

 private:
  explicit Ingester(const IngesterOptions& options);
  IngesterOptions options_;
  // Long-lived sandboxed parser processes (when options_.sandbox): a batch forks once per
  // worker, not once per document.
  std::unique_ptr<SandboxPool> parsers_;
  std::mutex write_mu_;
};

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_INGESTER_H_
