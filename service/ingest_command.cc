// `greffier ingest --data DIR PATH...`: batch ingestion into a local data directory, with a
// progress bar on a terminal, plain progress lines otherwise, and a final report. Resumable: run
// the same command again after Ctrl-C or a crash.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "index/index.h"
#include "ingest/batch.h"
#include "ingest/ingester.h"
#include "service/cli_args.h"
#include "service/data_dir.h"

namespace greffier::service {
namespace {

const char kIngestUsage[] =
    "usage: greffier ingest --data DIR [options] PATH...\n"
    "  PATH: PDF, text or Markdown files, folders (recursive), zip or tar "
    "archives\n"
    "  --jobs N           documents processed in parallel (default: number of "
    "cores)\n"
    "  --collection C     --type T     --date YYYY-MM-DD     --labels a,b\n"
    "                     metadata given to every document (wins over detected "
    "metadata)\n"
    "  --no-ocr           do not OCR pages without a text layer\n"
    "  --ocr-dpi N        OCR resolution (default 200)\n"
    "  --timeout S        wall-clock limit per document in seconds (default "
    "600)\n"
    "  --memory-mb N      memory limit of the parser per document (default "
    "2048)\n"
    "  --faiss FACTORY    FAISS index of a new data directory (default auto: exact below\n"
    "                     100k vectors, then IVF trained for the corpus)\n"
    "Interrupted (Ctrl-C) or crashed, the same command resumes where it "
    "stopped.\n";

std::atomic<bool> g_cancel{false};
std::atomic<int> g_signals{0};  // lock-free, hence usable in a signal handler

void OnSignal(int sig) {
  // First Ctrl-C: finish the documents under way and stop; second: leave at once.
  if (g_signals.fetch_add(1) > 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_cancel.store(true);
}

std::string Duration(double s) {
  if (s < 0 || s > 1e7) return "--:--";
  int t = static_cast<int>(s + 0.5);
  if (t >= 3600) return absl::StrFormat("%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
  return absl::StrFormat("%d:%02d", t / 60, t % 60);
}

std::string PageSummary(const std::vector<index::PageInfo>& pages) {
  int text = 0, ocr = 0, empty = 0, failed = 0;
  for (const auto& p : pages) {
    switch (p.source) {
      case index::PageSource::kTextLayer:
        ++text;
        break;
      case index::PageSource::kOcr:
        ++ocr;
        break;
      case index::PageSource::kEmpty:
        ++empty;
        break;
      case index::PageSource::kFailed:
        ++failed;
        break;
      default:
        break;
    }
  }
  std::string s = absl::StrCat(pages.size(), pages.size() == 1 ? " page" : " pages");
  std::vector<std::string> parts;
  if (text > 0 && text != static_cast<int>(pages.size()))
    parts.push_back(absl::StrCat(text, " text"));
  if (ocr > 0) parts.push_back(absl::StrCat(ocr, " OCR"));
  if (empty > 0) parts.push_back(absl::StrCat(empty, " empty"));
  if (failed > 0) parts.push_back(absl::StrCat(failed, " failed"));
  if (!parts.empty()) absl::StrAppend(&s, ": ", absl::StrJoin(parts, ", "));
  return s;
}

// Draws the progress bar (terminal) or prints one line per document (pipe, log file).
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool tty) : tty_(tty), start_(std::chrono::steady_clock::now()) {
    if (tty_) ticker_ = std::thread([this] { Tick(); });
  }
  ~ProgressPrinter() { Stop(); }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      cv_.notify_all();
    }
    if (ticker_.joinable()) ticker_.join();
    if (tty_) std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }

  void Update(const ingest::BatchProgress& p) {
    std::lock_guard lock(mu_);
    last_ = p;
    last_.last = nullptr;
    last_elapsed_ =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (p.last == nullptr) {  // inputs counted, nothing done yet
      if (tty_) DrawLocked();
      return;
    }
    const ingest::BatchItem& item = *p.last;
    if (tty_) {
      // Failures are kept above the bar, so that they stay visible.
      if (item.outcome == ingest::BatchOutcome::kFailed) {
        std::fprintf(stderr, "\r\033[Kfailed: %s\n", item.error.c_str());
      }
      DrawLocked();
    } else {
      if (item.outcome == ingest::BatchOutcome::kFailed) {
        std::fprintf(stderr, "[%zu/%zu] failed    %s\n", p.files_done, p.files_total,
                     item.error.c_str());
      } else {
        std::fprintf(stderr, "[%zu/%zu] %-9s %s (%s, %.1f s)\n", p.files_done, p.files_total,
                     ingest::BatchOutcomeName(item.outcome), item.source.c_str(),
                     PageSummary(item.pages).c_str(), item.seconds);
      }
    }
    std::fflush(stderr);
  }

 private:
  void Tick() {
    std::unique_lock lock(mu_);
    while (!stopped_) {
      DrawLocked();
      cv_.wait_for(lock, std::chrono::milliseconds(500));
    }
  }

  void DrawLocked() {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double frac =
        last_.bytes_total > 0
            ? static_cast<double>(last_.bytes_done) / static_cast<double>(last_.bytes_total)
        : last_.files_total > 0
            ? static_cast<double>(last_.files_done) / static_cast<double>(last_.files_total)
            : 0;
    const int width = 24;
    const int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    // Projected from the last finished document, counted down in between.
    const double since = elapsed - last_elapsed_;
    const double eta = frac > 0 ? std::max(0.0, last_elapsed_ * (1 - frac) / frac - since) : -1;
    std::fprintf(
        stderr, "\r\033[K[%s] %zu/%zu files · %llu pages · %.1f pages/s · ETA %s", bar.c_str(),
        last_.files_done, last_.files_total, static_cast<unsigned long long>(last_.pages_done),
        elapsed > 0 ? static_cast<double>(last_.pages_done) / elapsed : 0.0, Duration(eta).c_str());
    std::fflush(stderr);
  }

  const bool tty_;
  const std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  ingest::BatchProgress last_;
  double last_elapsed_ = 0;  // seconds from start to the last finished document
  std::thread ticker_;
};

}  // namespace

int RunIngestCommand(int argc, char** argv) {
  absl::StatusOr<CliArgs> args = ParseArgs(argc, argv, 2,
                                           {"data", "jobs", "collection", "type", "date", "labels",
                                            "ocr-dpi", "timeout", "memory-mb", "faiss"},
                                           {"no-ocr", "help"});
  if (!args.ok()) {
    std::fprintf(stderr, "greffier ingest: %s\n\n%s", std::string(args.status().message()).c_str(),
                 kIngestUsage);
    return 2;
  }
  if (args->Has("help")) {
    std::fputs(kIngestUsage, stdout);
    return 0;
  }
  if (!args->Has("data") || args->positionals.empty()) {
    std::fputs(kIngestUsage, stderr);
    return 2;
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  absl::StatusOr<int> jobs = args->GetInt("jobs", cores);
  absl::StatusOr<int> dpi = args->GetInt("ocr-dpi", 200);
  absl::StatusOr<int> timeout = args->GetInt("timeout", 600);
  absl::StatusOr<int> memory_mb = args->GetInt("memory-mb", 2048);
  for (const auto* v : {&jobs, &dpi, &timeout, &memory_mb}) {
    if (!v->ok() || **v <= 0) {
      std::fprintf(stderr, "greffier ingest: %s\n",
                   v->ok() ? "numeric options must be positive"
                           : std::string(v->status().message()).c_str());
      return 2;
    }
  }

  // The embedder the data directory was built with (a GGUF model or LSA after `reembed`),
  // feature hashing for a new one.
  absl::StatusOr<std::unique_ptr<generate::Embedder>> loaded = LoadEmbedder(args->Get("data"));
  if (!loaded.ok()) {
    std::fprintf(stderr, "greffier ingest: %s\n", std::string(loaded.status().message()).c_str());
    return 1;
  }
  const generate::Embedder& embedder = **loaded;
  index::IndexOptions io;
  io.path = args->Get("data");
  io.embedder_id = embedder.Identity();
  io.dimension = embedder.Dimension();
  io.faiss_factory = args->Get("faiss", io.faiss_factory);
  absl::StatusOr<std::unique_ptr<index::Index>> index = index::Index::Open(io);
  if (!index.ok()) {
    std::fprintf(stderr,
                 "greffier ingest: cannot open the data directory %s: %s\n(is a server "
                 "using "
                 "it? use `greffier client ingest` or the IngestPath RPC then)\n",
                 io.path.c_str(), std::string(index.status().message()).c_str());
    return 1;
  }
  ingest::IngesterOptions options;
  options.index = index->get();
  options.embedder = &embedder;
  options.extract.ocr = !args->Has("no-ocr");
  options.extract.ocr_options.dpi = *dpi;
  options.sandbox_limits.wall_seconds = *timeout;
  options.sandbox_limits.cpu_seconds = *timeout;
  options.sandbox_limits.memory_bytes = static_cast<uint64_t>(*memory_mb) << 20;
  absl::StatusOr<std::unique_ptr<ingest::Ingester>> ingester = ingest::Ingester::Open(options);
  if (!ingester.ok()) {
    std::fprintf(stderr, "greffier ingest: %s\n", std::string(ingester.status().message()).c_str());
    return 1;
  }

  ingest::BatchOptions batch;
  batch.jobs = *jobs;
  batch.metadata.collection = args->Get("collection");
  batch.metadata.document_type = args->Get("type");
  batch.metadata.date = args->Get("date");
  for (absl::string_view l : absl::StrSplit(args->Get("labels"), ',', absl::SkipEmpty())) {
    batch.metadata.access_labels.emplace_back(l);
  }
  batch.cancel = &g_cancel;
  ProgressPrinter printer(isatty(STDERR_FILENO) != 0);
  batch.on_progress = [&](const ingest::BatchProgress& p) { printer.Update(p); };
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  ingest::BatchReport report = ingest::RunBatch(ingester->get(), args->positionals, batch);
  printer.Stop();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  // The report: counts, failures, and pages that could not be read (no silent losses).
  std::printf(
      "ingested: %zu  unchanged: %zu  replaced: %zu  failed: %zu  (of %zu "
      "files)\n",
      report.ingested, report.unchanged, report.replaced, report.failed, report.files_total);
  std::printf("%llu pages parsed in %.1f s (%.1f pages/s)\n",
              static_cast<unsigned long long>(report.pages), report.seconds,
              report.seconds > 0 ? static_cast<double>(report.pages) / report.seconds : 0.0);
  if (report.failed > 0) {
    std::printf("failed:\n");
    for (const auto& item : report.items) {
      if (item.outcome == ingest::BatchOutcome::kFailed) std::printf("  %s\n", item.error.c_str());
    }
  }
  bool header = false;
  for (const auto& item : report.items) {
    for (size_t i = 0; i < item.pages.size(); ++i) {
      const index::PageInfo& p = item.pages[i];
      if (p.source != index::PageSource::kFailed && p.source != index::PageSource::kEmpty) {
        continue;
      }
      if (!header) std::printf("pages without text:\n");
      header = true;
      std::printf("  %s p. %zu: %s%s%s\n", item.source.c_str(), i + 1,
                  p.source == index::PageSource::kFailed ? "failed" : "empty",
                  p.error.empty() ? "" : " — ", p.error.c_str());
    }
  }
  if (report.cancelled) {
    std::printf(
        "interrupted: %zu of %zu files not processed; run the same command "
        "again to "
        "resume\n",
        report.files_total - report.items.size(), report.files_total);
    return 130;
  }
  return report.failed > 0 ? 1 : 0;
}

}  // namespace greffier::service
