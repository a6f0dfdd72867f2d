#include "ingest/batch.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ingest/archive.h"

namespace greffier::ingest {
namespace {

namespace fs = std::filesystem;

// One document to ingest: a file read by the worker, or an archive entry already in memory.
struct Work {
  std::string source;
  std::string file;  // empty for archive entries
  std::string bytes;
  std::string error;  // set when the document is known to fail
  uint64_t size = 0;
};

// A bounded queue between the reader (which expands archives) and the workers, so that memory holds
// at most a few archive entries.
class WorkQueue {
 public:
  explicit WorkQueue(size_t capacity) : capacity_(capacity) {}
  void Push(Work w) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_; });
    q_.push_back(std::move(w));
    not_empty_.notify_one();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  std::optional<Work> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return std::nullopt;
    Work w = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return w;
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Work> q_;
  bool closed_ = false;
};

std::string ReadHead(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  return head;
}

struct Input {
  explicit Input(fs::path p, std::string e = "") : path(std::move(p)), error(std::move(e)) {}
  fs::path path;
  bool archive = false;
  std::string error;
  uint64_t size = 0;
  size_t entries = 1;
};

std::string Absolute(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return (ec ? p : a).lexically_normal().string();
}

}  // namespace

const char* BatchOutcomeName(BatchOutcome o) {
  switch (o) {
    case BatchOutcome::kIngested:
      return "ingested";
    case BatchOutcome::kUnchanged:
      return "unchanged";
    case BatchOutcome::kReplaced:
      return "replaced";
    case BatchOutcome::kFailed:
      return "failed";
  }
  return "?";
}

BatchReport RunBatch(Ingester* ingester, const std::vector<std::string>& inputs,
                     const BatchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto cancelled = [&] { return options.cancel != nullptr && options.cancel->load(); };

  // Enumerate first, so that progress knows the totals.
  std::vector<Input> files;
  for (const std::string& in : inputs) {
    std::error_code ec;
    fs::path p(in);
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(
               p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code fec;
        if (it->is_regular_file(fec)) found.push_back(it->path());
      }
      if (ec) files.push_back(Input(p, absl::StrCat("cannot list the folder: ", ec.message())));
      std::sort(found.begin(), found.end());
      for (auto& f : found) files.push_back(Input(f));
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(Input(p));
    } else {
      files.push_back(
          Input(p, fs::exists(p, ec) ? "not a regular file" : "no such file or directory"));
    }
  }
  BatchProgress progress;
  for (Input& f : files) {
    if (!f.error.empty()) {
      ++progress.files_total;
      continue;
    }
    std::error_code ec;
    f.size = fs::file_size(f.path, ec);
    if (LooksLikeArchive(ReadHead(f.path))) {
      f.archive = true;
      uint64_t bytes = 0;
      absl::StatusOr<size_t> n = CountArchiveEntries(f.path.string(), &bytes);
      if (n.ok()) {
        f.entries = *n;
        f.size = bytes;
      } else {
        f.archive = false;
        f.error = std::string(n.status().message());
      }
    }
    progress.files_total += f.archive ? f.entries : 1;
    progress.bytes_total += f.size;
  }

  BatchReport report;
  report.files_total = progress.files_total;
  std::mutex mu;  // guards report and progress
  const int jobs = std::max(1, options.jobs);
  WorkQueue queue(static_cast<size_t>(2 * jobs));

  auto finish = [&](BatchItem item, uint64_t bytes) {
    std::lock_guard lock(mu);
    switch (item.outcome) {
      case BatchOutcome::kIngested:
        ++report.ingested;
        break;
      case BatchOutcome::kUnchanged:
        ++report.unchanged;
        break;
      case BatchOutcome::kReplaced:
        ++report.replaced;
        break;
      case BatchOutcome::kFailed:
        ++report.failed;
        break;
    }
    if (item.outcome == BatchOutcome::kIngested || item.outcome == BatchOutcome::kReplaced) {
      report.pages += item.pages.size();
      progress.pages_done += item.pages.size();
    }
    ++progress.files_done;
    progress.bytes_done += bytes;
    progress.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.items.push_back(std::move(item));
    progress.last = &report.items.back();
    if (options.on_progress) options.on_progress(progress);
  };

  auto worker = [&] {
    while (std::optional<Work> w = queue.Pop()) {
      if (cancelled()) continue;  // drain without working
      const auto t0 = std::chrono::steady_clock::now();
      BatchItem item;
      item.source = w->source;
      if (w->error.empty() && !w->file.empty()) {
        std::error_code ec;
        uint64_t size = fs::file_size(w->file, ec);
        if (ec) {
          w->error = absl::StrCat("cannot read the file: ", ec.message());
        } else if (size > options.max_file_bytes) {
          w->error = absl::StrCat("file of ", size, " bytes exceeds the limit of ",
                                  options.max_file_bytes, " bytes");
        } else {
          std::ifstream in(w->file, std::ios::binary);
          w->bytes.resize(size);
          in.read(w->bytes.data(), static_cast<std::streamsize>(size));
          if (!in) w->error = "cannot read the file";
        }
      }
      if (!w->error.empty()) {
        item.error = absl::StrCat(w->source, ": ", w->error);
      } else {
        absl::StatusOr<IngestResult> r = ingester->Ingest(w->bytes, w->source, options.metadata);
        if (r.ok()) {
          item.outcome = r->outcome == IngestOutcome::kIngested    ? BatchOutcome::kIngested
                         : r->outcome == IngestOutcome::kUnchanged ? BatchOutcome::kUnchanged
                                                                   : BatchOutcome::kReplaced;
          item.document_id = r->document_id;
          item.pages = std::move(r->pages);
        } else {
          item.error = std::string(r.status().message());
        }
      }
      w->bytes.clear();
      item.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      finish(std::move(item), w->size);
    }
  };
  // A first report once the inputs are counted, before any document is done.
  if (options.on_progress) options.on_progress(progress);
  std::vector<std::thread> threads;
  for (int i = 0; i < jobs; ++i) threads.emplace_back(worker);

  for (const Input& f : files) {
    if (cancelled()) break;
    const std::string source = Absolute(f.path);
    if (!f.archive) {
      queue.Push(Work{source, f.error.empty() ? f.path.string() : "", "", f.error, f.size});
      continue;
    }
    absl::Status s =
        ForEachArchiveEntry(f.path.string(), options.max_file_bytes, [&](ArchiveEntry&& e) {
          if (cancelled()) return false;
          queue.Push(Work{absl::StrCat(source, "!/", e.path), "", std::move(e.bytes),
                          std::move(e.error), e.size});
          return true;
        });
    if (!s.ok()) {
      // The archive broke part-way: the entries not reached are reported as one failure.
      queue.Push(Work{source, "", "", std::string(s.message()), 0});
    }
  }
  queue.Close();
  for (auto& t : threads) t.join();
  report.cancelled = cancelled();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace greffier::ingest
