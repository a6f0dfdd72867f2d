#ifndef GREFFIER_INGEST_BATCH_H_
#define GREFFIER_INGEST_BATCH_H_

// Batch ingestion of files, folders (recursively) and zip/tar archives, several documents in
// parallel, with progress callbacks. Resumable: each document is stored all-or-nothing and the
// ingester recognises finished documents by their content hash before parsing, so running the same
// batch again after an interruption only does the remaining work.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "index/records.h"
#include "ingest/ingester.h"

namespace greffier::ingest {

enum class BatchOutcome { kIngested, kUnchanged, kReplaced, kFailed };
const char* BatchOutcomeName(BatchOutcome outcome);

// What happened to one document of the batch.
struct BatchItem {
  std::string source;  // absolute path, or "ARCHIVE!/PATH/IN/ARCHIVE" for
                       // archive entries
  BatchOutcome outcome = BatchOutcome::kFailed;
  std::string error;  // failed documents only
  uint64_t document_id = 0;
  std::vector<index::PageInfo> pages;  // per-page report (text layer / OCR / empty / failed)
  double seconds = 0;
};

struct BatchProgress {
  size_t files_done = 0;
  size_t files_total = 0;
  uint64_t pages_done = 0;  // pages of the documents parsed in this run
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  double elapsed_seconds = 0;
  const BatchItem* last = nullptr;  // the document just finished; null in the first report
};

struct BatchOptions {
  // Documents processed at the same time. Default: 2.
  int jobs = 2;
  // Metadata given to every document (wins over detected metadata). Default: none.
  IngestMetadata metadata;
  // Files and archive entries larger than this fail. Default: 512 MiB.
  uint64_t max_file_bytes = 512ull << 20;
  // When it becomes true (e.g. set by a SIGINT handler), no new document is started; those under
  // way finish and are stored. Default: none.
  const std::atomic<bool>* cancel = nullptr;
  // Called once the inputs are counted, then after each document; never concurrently. Default:
  // none.
  std::function<void(const BatchProgress&)> on_progress;
};

struct BatchReport {
  size_t ingested = 0;
  size_t unchanged = 0;
  size_t replaced = 0;
  size_t failed = 0;
  size_t files_total = 0;
  uint64_t pages = 0;  // pages parsed in this run (ingested and replaced documents)
  double seconds = 0;
  bool cancelled = false;        // stopped early: run the same batch again to resume
  std::vector<BatchItem> items;  // in completion order
};

// Ingests every document under `inputs` (files, folders, archives) with `ingester`. Missing or
// unreadable inputs are reported as failed items, never abort the batch. Thread-safe as far as
// `ingester` is (it is).
BatchReport RunBatch(Ingester* ingester, const std::vector<std::string>& inputs,
                     const BatchOptions& options);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_BATCH_H_
