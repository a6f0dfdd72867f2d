// Born-digital ingestion speed, side by side with pdftotext on the same files.
//
//   build/tests/bench/ingest_bench PATH... [--ocr] [--no-sandbox]
//
// Runs the full pipeline (sandboxed extraction with layout, structure, passages, default
// embedder, index write) into scratch data directories with 1 and 2 jobs, then pdftotext
// (poppler-utils) on every PDF, one process after another, and prints one table. Without
// --ocr, pages with no text layer are not OCR'd (born-digital speed); --no-sandbox parses in
// the process itself, to measure what the per-document child process costs.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "generate/hashing_embedder.h"
#include "ingest/batch.h"
#include "ingest/ingester.h"
#include "service/data_dir.h"

namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds of this process and its reaped children (sandbox workers, pdftotext): steadier
// than wall time on a machine that other work shares.
double CpuSeconds() {
  double total = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    struct rusage u = {};
    getrusage(who, &u);
    total += static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  return total;
}

// Runs pdftotext on `pdf` into /dev/null; false when it could not run.
bool PdfToText(const std::string& pdf) {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    std::freopen("/dev/null", "w", stderr);
    execlp("pdftotext", "pdftotext", "-q", pdf.c_str(), "/dev/null", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) != 127;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace greffier;
  std::vector<std::string> inputs;
  bool ocr = false;
  bool sandbox = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--ocr") {
      ocr = true;
    } else if (a == "--no-sandbox") {
      sandbox = false;
    } else {
      inputs.push_back(a);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: ingest_bench PATH... [--ocr]\n");
    return 2;
  }
  struct Row {
    int jobs;
    double seconds;
    double cpu_seconds;
    uint64_t pages;
    size_t failed;
  };
  std::vector<Row> rows;
  for (int jobs : {1, 2}) {
    std::string dir = (std::filesystem::temp_directory_path() /
                       absl::StrCat("greffier-ingest-bench-", getpid(), "-", jobs))
                          .string();
    std::filesystem::remove_all(dir);
    generate::HashingEmbedder embedder;
    auto index = service::OpenIndex(dir, embedder, false);
    if (!index.ok()) {
      std::fprintf(stderr, "%s\n", index.status().ToString().c_str());
      return 1;
    }
    ingest::IngesterOptions io;
    io.index = index->get();
    io.embedder = &embedder;
    io.extract.ocr = ocr;
    io.sandbox = sandbox;
    const double cpu0 = CpuSeconds();
    auto ingester = ingest::Ingester::Open(io);
    if (!ingester.ok()) return 1;
    ingest::BatchOptions bo;
    bo.jobs = jobs;
    ingest::BatchReport report = ingest::RunBatch(ingester->get(), inputs, bo);
    ingester->reset();  // reaps the parser workers, so their CPU time is counted
    rows.push_back({jobs, report.seconds, CpuSeconds() - cpu0, report.pages, report.failed});
    index->reset();
    std::filesystem::remove_all(dir);
  }
  // pdftotext over the same PDFs.
  std::vector<std::string> pdfs;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(in, ec)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(in, ec)) {
        if (e.is_regular_file() && e.path().extension() == ".pdf") pdfs.push_back(e.path());
      }
    } else if (std::filesystem::path(in).extension() == ".pdf") {
      pdfs.push_back(in);
    }
  }
  auto t0 = Clock::now();
  const double cpu0 = CpuSeconds();
  size_t ran = 0;
  for (const auto& p : pdfs) ran += PdfToText(p);
  const double pdftotext_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double pdftotext_cpu = CpuSeconds() - cpu0;

  std::printf("ingest_bench %s%s\n\n", absl::StrJoin(inputs, " ").c_str(), ocr ? " --ocr" : "");
  std::printf(
      "| run | pages | seconds | pages/s | time vs pdftotext | CPU seconds | CPU vs pdftotext "
      "|\n|---|---:|---:|---:|---:|---:|---:|\n");
  const uint64_t pages = rows.empty() ? 0 : rows[0].pages;
  if (ran == pdfs.size() && !pdfs.empty()) {
    std::printf(
        "| pdftotext, %zu files, 1 process at a time | %llu | %.2f | %.0f | 1.00x | %.2f | 1.00x "
        "|\n",
        pdfs.size(), static_cast<unsigned long long>(pages), pdftotext_s,
        static_cast<double>(pages) / pdftotext_s, pdftotext_cpu);
  } else {
    std::printf("| pdftotext | - | - | - | (not installed: apt-get install poppler-utils) |\n");
  }
  for (const Row& r : rows) {
    const bool compared = ran == pdfs.size() && !pdfs.empty();
    std::printf("| greffier, %d job%s | %llu | %.2f | %.0f | %s | %.2f | %s |\n", r.jobs,
                r.jobs > 1 ? "s" : "", static_cast<unsigned long long>(r.pages), r.seconds,
                static_cast<double>(r.pages) / r.seconds,
                compared ? absl::StrFormat("%.2fx", r.seconds / pdftotext_s).c_str() : "-",
                r.cpu_seconds,
                compared ? absl::StrFormat("%.2fx", r.cpu_seconds / pdftotext_cpu).c_str() : "-");
  }
  for (const Row& r : rows) {
    if (r.failed > 0) std::printf("(%zu files failed in the %d-job run)\n", r.failed, r.jobs);
  }
  return 0;
}
