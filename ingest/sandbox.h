#ifndef GREFFIER_INGEST_SANDBOX_H_
#define GREFFIER_INGEST_SANDBOX_H_

// Runs untrusted parsing (Poppler, Tesseract) in a forked child process with resource limits, so
// that a file that crashes, hangs or explodes in memory is rejected with a reason while the caller
// carries on.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/extracted.h"
#include "ingest/pdf_extractor.h"

namespace greffier::ingest {

struct SandboxOptions {
  // Address space the child may add to what it inherits from the parent. Default: 2 GiB.
  uint64_t memory_bytes = 2ull << 30;
  // CPU time of the child, in seconds. Default: 300.
  int cpu_seconds = 300;
  // Wall-clock time before the child is killed, in seconds. Default: 600.
  double wall_seconds = 600;
  // Largest result the parent accepts from the child. Default: 512 MiB.
  uint64_t max_result_bytes = 512ull << 20;
};

// Runs `fn` in a child process (fork, no exec) under the limits and returns what it returned.
// Failures of the child become errors that start with `name`: "timed out after N s", "CPU time
// limit of N s exceeded", "memory limit of N MiB exceeded", "crashed the parser (signal 11,
// Segmentation fault)". Thread-safe; the child only runs the calling thread, so `fn` must not wait
// on other threads of the parent.
absl::StatusOr<std::string> RunSandboxed(const std::function<absl::StatusOr<std::string>()>& fn,
                                         const SandboxOptions& options, const std::string& name);

// Framed, bounds-checked encoding of an extraction result (for the pipe).
std::string EncodeExtracted(const ExtractedDocument& doc);
absl::StatusOr<ExtractedDocument> DecodeExtracted(std::string_view data);

// ExtractPdf in a sandboxed child process.
absl::StatusOr<ExtractedDocument> ExtractPdfSandboxed(std::string_view bytes,
                                                      const std::string& name,
                                                      const ExtractOptions& extract,
                                                      const SandboxOptions& sandbox);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_SANDBOX_H_
