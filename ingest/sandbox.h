#ifndef GREFFIER_INGEST_SANDBOX_H_
#define GREFFIER_INGEST_SANDBOX_H_

// Runs untrusted parsing (Poppler, Tesseract) in a forked child process with resource limits, so
// that a file that crashes, hangs or explodes in memory is rejected with a reason while the caller
// carries on.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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
  // A pooled worker process (SandboxPool) is replaced after this many jobs, which bounds what a
  // long batch can accumulate in one process (heap fragmentation, caches). Default: 200.
  int jobs_per_worker = 200;
};

// Runs `fn` in a child process (fork, no exec) under the limits and returns what it returned.
// Failures of the child become errors that start with `name`: "timed out after N s", "CPU time
// limit of N s exceeded", "memory limit of N MiB exceeded", "crashed the parser (signal 11,
// Segmentation fault)". Thread-safe; the child only runs the calling thread, so `fn` must not wait
// on other threads of the parent.
absl::StatusOr<std::string> RunSandboxed(const std::function<absl::StatusOr<std::string>()>& fn,
                                         const SandboxOptions& options, const std::string& name);

// Long-lived sandboxed worker processes that run one job function over many inputs, so that a
// batch pays for fork() once per worker instead of once per document (forking a server with a
// large address space costs milliseconds). Each job runs under the limits RunSandboxed applies:
// address space above the worker's start, CPU seconds per job, wall clock per job. A worker that
// crashes, overruns or hangs is killed and replaced, and the job fails with the reasons
// RunSandboxed gives; a job that fails that way in a worker that had already run others is retried
// once in a fresh worker, so that one document's leftovers cannot fail the next. A worker that grew
// past a quarter of its memory limit retires after its job. Thread-safe: concurrent calls use
// separate workers (as many as there are concurrent calls).
class SandboxPool {
 public:
  // Runs in the worker; `name` is for error messages.
  using JobFn =
      std::function<absl::StatusOr<std::string>(std::string_view input, const std::string& name)>;

  SandboxPool(JobFn fn, const SandboxOptions& options);
  ~SandboxPool();  // ends the idle workers
  SandboxPool(const SandboxPool&) = delete;
  SandboxPool& operator=(const SandboxPool&) = delete;

  absl::StatusOr<std::string> Run(std::string_view input, const std::string& name);

  // Worker processes started so far (for tests and statistics).
  int workers_started() const;

 private:
  struct Worker {
    int pid = -1;
    int fd = -1;  // socket to the worker
    int jobs = 0;
  };
  absl::StatusOr<Worker> Spawn(const std::string& name);
  void End(Worker* w, bool kill_first);
  absl::StatusOr<std::string> RunOnce(std::string_view input, const std::string& name, bool* retry);

  const JobFn fn_;
  const SandboxOptions options_;
  mutable std::mutex mu_;
  std::vector<Worker> idle_;  // guarded by mu_
  int started_ = 0;           // guarded by mu_
};

// Framed, bounds-checked encoding of an extraction result (for the pipe).
std::string EncodeExtracted(const ExtractedDocument& doc);
absl::StatusOr<ExtractedDocument> DecodeExtracted(std::string_view data);

// ExtractPdf in a sandboxed child process.
absl::StatusOr<ExtractedDocument> ExtractPdfSandboxed(std::string_view bytes,
                                                      const std::string& name,
                                                      const ExtractOptions& extract,
                                                      const SandboxOptions& sandbox);

// A pool of sandboxed PDF parsers with fixed extraction options (see SandboxPool).
std::unique_ptr<SandboxPool> NewPdfParserPool(const ExtractOptions& extract,
                                              const SandboxOptions& sandbox);

// ExtractPdf in one of `pool`'s workers.
absl::StatusOr<ExtractedDocument> ExtractPdfInPool(SandboxPool* pool, std::string_view bytes,
                                                   const std::string& name);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_SANDBOX_H_
