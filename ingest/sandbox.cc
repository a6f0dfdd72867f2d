#include "ingest/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ingest/pdf_writer.h"

namespace greffier::ingest {
namespace {

constexpr char kResultMagic[4] = {'G', 'R', 'S', 'B'};
constexpr char kDocMagic[4] = {'G', 'R', 'X', 'D'};
constexpr uint8_t kDocVersion = 1;

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutStr(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// Reads little-endian fields from a buffer, failing (never reading past the end) on truncated or
// oversized input.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool U8(uint8_t* v) {
    if (d_.size() < 1) return false;
    *v = static_cast<uint8_t>(d_[0]);
    d_.remove_prefix(1);
    return true;
  }
  bool U32(uint32_t* v) {
    if (d_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<uint8_t>(d_[i])) << (8 * i);
    d_.remove_prefix(4);
    return true;
  }
  bool U64(uint64_t* v) {
    if (d_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>(d_[i])) << (8 * i);
    d_.remove_prefix(8);
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n;
    if (!U32(&n) || n > d_.size()) return false;
    s->assign(d_.substr(0, n));
    d_.remove_prefix(n);
    return true;
  }
  bool Bytes(size_t n, std::string_view* s) {
    if (n > d_.size()) return false;
    *s = d_.substr(0, n);
    d_.remove_prefix(n);
    return true;
  }
  size_t left() const { return d_.size(); }

 private:
  std::string_view d_;
};

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Virtual memory of this process in bytes (what the child inherits).
uint64_t CurrentAddressSpace() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long pages = 0;
  if (std::fscanf(f, "%llu", &pages) != 1) pages = 0;
  std::fclose(f);
  return pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // sanitizers reserve terabytes of shadow memory
#else
constexpr bool kSanitized = false;
#endif

// The child: limits, work, framed result, _exit (no destructors, no atexit handlers: the parent's
// other threads do not exist here and may have held locks).
[[noreturn]] void ChildMain(int fd, const std::function<absl::StatusOr<std::string>()>& fn,
                            const SandboxOptions& o) {
  // Other children forked by other threads hold copies of the parent's descriptors; closing ours
  // keeps this child from holding their pipes (and the parent's files) open.
  if (fd > 3) ::close_range(3, static_cast<unsigned>(fd) - 1, 0);
  ::close_range(static_cast<unsigned>(fd) + 1, ~0U, 0);
  // Ctrl-C reaches the whole process group: the parent decides whether to stop, and lets the
  // documents under way finish.
  std::signal(SIGINT, SIG_IGN);
  struct rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core);
  if (!kSanitized && o.memory_bytes > 0) {
    rlim_t as = static_cast<rlim_t>(CurrentAddressSpace() + o.memory_bytes);
    struct rlimit lim = {as, as};
    setrlimit(RLIMIT_AS, &lim);
  }
  if (o.cpu_seconds > 0) {
    struct rlimit lim = {static_cast<rlim_t>(o.cpu_seconds),
                         static_cast<rlim_t>(o.cpu_seconds) + 2};
    setrlimit(RLIMIT_CPU, &lim);
  }
  std::string frame(kResultMagic, 4);
  try {
    absl::StatusOr<std::string> r = fn();
    if (r.ok()) {
      frame.push_back('\0');
      PutU64(&frame, r->size());
      frame += *r;
    } else {
      frame.push_back('\1');
      PutU32(&frame, static_cast<uint32_t>(r.status().code()));
      PutStr(&frame, std::string(r.status().message()));
    }
  } catch (const std::bad_alloc&) {
    frame.resize(4);
    frame.push_back('\2');
  } catch (...) {
    frame.resize(4);
    frame.push_back('\3');
  }
  bool ok = WriteAll(fd, frame);
  ::close(fd);
  ::_exit(ok ? 0 : 3);
}

std::string SignalName(int sig) {
  const char* d = strsignal(sig);
  return absl::StrCat("signal ", sig, ", ", d != nullptr ? d : "unknown");
}

// Whether `data` holds a whole result frame. The parent cannot wait for end-of-file alone: a
// sibling child forked by another thread may hold a copy of the pipe's write end.
bool FrameComplete(std::string_view data) {
  if (data.size() < 5) return false;
  Reader rd(data.substr(5));
  switch (data[4]) {
    case 0: {
      uint64_t n;
      return rd.U64(&n) && rd.left() >= n;
    }
    case 1: {
      uint32_t code, len;
      return rd.U32(&code) && rd.U32(&len) && rd.left() >= len;
    }
    default:
      return true;
  }
}

}  // namespace

absl::StatusOr<std::string> RunSandboxed(const std::function<absl::StatusOr<std::string>()>& fn,
                                         const SandboxOptions& o, const std::string& name) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::UnavailableError(absl::StrCat(name, ": cannot create a pipe: ", strerror(errno)));
  }
  std::fflush(nullptr);  // buffered output must not be written twice
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::UnavailableError(absl::StrCat(name, ": cannot fork: ", strerror(errno)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    ChildMain(fds[1], fn, o);
  }
  ::close(fds[1]);
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(o.wall_seconds));
  std::string data;
  bool timed_out = false, too_big = false;
  char buf[1 << 16];
  while (true) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    int wait_ms = static_cast<int>(std::min<int64_t>(
        1000, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
    struct pollfd p = {fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break;  // EOF: the child finished or died
    data.append(buf, static_cast<size_t>(n));
    if (FrameComplete(data)) break;
    if (data.size() > o.max_result_bytes + 64) {
      too_big = true;
      break;
    }
  }
  ::close(fds[0]);
  if (timed_out || too_big) ::kill(pid, SIGKILL);
  int status = 0;
  struct rusage usage = {};
  // The child exits right after closing the pipe; one that lingers is killed.
  const auto reap_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto nap = std::chrono::microseconds(20);
  while (true) {
    pid_t w = ::wait4(pid, &status, WNOHANG, &usage);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() > reap_deadline) {
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(nap);
    nap = std::min<std::chrono::microseconds>(nap * 2, std::chrono::milliseconds(10));
  }
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrFormat(
        "%s: timed out after %.0f s (wall clock); parsing stopped", name, o.wall_seconds));
  }
  if (too_big) {
    return absl::ResourceExhaustedError(
        absl::StrCat(name, ": extraction result larger than ", o.max_result_bytes >> 20, " MiB"));
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    if (sig == SIGXCPU || (sig == SIGKILL && cpu >= o.cpu_seconds - 0.5)) {
      return absl::ResourceExhaustedError(
          absl::StrCat(name, ": CPU time limit of ", o.cpu_seconds, " s exceeded"));
    }
    if (sig == SIGKILL) {
      return absl::ResourceExhaustedError(
          absl::StrCat(name, ": the parser was killed (out of memory?)"));
    }
    if (sig == SIGABRT) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": the parser aborted (", SignalName(sig),
          "), typically memory exhausted under the limit of ", o.memory_bytes >> 20, " MiB"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": the file crashed the parser (", SignalName(sig), ")"));
  }
  Reader rd(data);
  std::string_view magic;
  uint8_t kind;
  if (!rd.Bytes(4, &magic) || magic != std::string_view(kResultMagic, 4) || !rd.U8(&kind)) {
    return absl::InternalError(
        absl::StrCat(name, ": the parser process ended without a result (exit status ",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")"));
  }
  switch (kind) {
    case 0: {
      uint64_t n;
      std::string_view payload;
      if (!rd.U64(&n) || !rd.Bytes(n, &payload) || rd.left() != 0) break;
      return std::string(payload);
    }
    case 1: {
      uint32_t code;
      std::string message;
      if (!rd.U32(&code) || !rd.Str(&message) || code == 0 || code > 16) break;
      return absl::Status(static_cast<absl::StatusCode>(code), message);
    }
    case 2:
      return absl::ResourceExhaustedError(
          absl::StrCat(name, ": memory limit of ", o.memory_bytes >> 20, " MiB exceeded"));
    case 3:
      return absl::InternalError(absl::StrCat(name, ": the parser failed with an exception"));
  }
  return absl::InternalError(absl::StrCat(name, ": malformed result from the parser process"));
}

std::string EncodeExtracted(const ExtractedDocument& doc) {
  std::string out(kDocMagic, 4);
  out.push_back(static_cast<char>(kDocVersion));
  PutStr(&out, doc.mime_type);
  PutStr(&out, doc.title);
  PutU32(&out, static_cast<uint32_t>(doc.pages.size()));
  for (const ExtractedPage& p : doc.pages) {
    out.push_back(static_cast<char>(p.source));
    uint32_t conf;
    std::memcpy(&conf, &p.ocr_confidence, 4);
    PutU32(&out, conf);
    PutStr(&out, p.text);
    PutStr(&out, p.error);
  }
  return out;
}

absl::StatusOr<ExtractedDocument> DecodeExtracted(std::string_view data) {
  const auto bad = [] { return absl::DataLossError("malformed extraction record"); };
  Reader rd(data);
  std::string_view magic;
  uint8_t version;
  if (!rd.Bytes(4, &magic) || magic != std::string_view(kDocMagic, 4) || !rd.U8(&version) ||
      version != kDocVersion) {
    return bad();
  }
  ExtractedDocument doc;
  uint32_t n;
  if (!rd.Str(&doc.mime_type) || !rd.Str(&doc.title) || !rd.U32(&n)) return bad();
  // Each page takes at least 13 bytes: a count larger than that is a lie.
  if (n > rd.left() / 13) return bad();
  doc.pages.resize(n);
  for (ExtractedPage& p : doc.pages) {
    uint8_t source;
    uint32_t conf;
    if (!rd.U8(&source) || source > static_cast<uint8_t>(index::PageSource::kFailed) ||
        !rd.U32(&conf) || !rd.Str(&p.text) || !rd.Str(&p.error)) {
      return bad();
    }
    p.source = static_cast<index::PageSource>(source);
    std::memcpy(&p.ocr_confidence, &conf, 4);
  }
  if (rd.left() != 0) return bad();
  return doc;
}

namespace {

// Poppler builds its global state (font tables, fontconfig) on first use. Done once in the parent,
// every child inherits it instead of rebuilding it for each document.
void WarmUpPoppler() {
  static std::once_flag once;
  std::call_once(once, [] {
    PdfDocumentSpec spec;
    spec.pages.emplace_back();
    spec.pages[0].lines.push_back(PdfTextLine{72, 700, 11, false, "greffier"});
    ExtractOptions o;
    o.ocr = false;
    (void)ExtractPdf(WritePdf(spec), "warm-up", o);
  });
}

}  // namespace

absl::StatusOr<ExtractedDocument> ExtractPdfSandboxed(std::string_view bytes,
                                                      const std::string& name,
                                                      const ExtractOptions& extract,
                                                      const SandboxOptions& sandbox) {
  WarmUpPoppler();
  absl::StatusOr<std::string> encoded = RunSandboxed(
      [&]() -> absl::StatusOr<std::string> {
        absl::StatusOr<ExtractedDocument> doc = ExtractPdf(bytes, name, extract);
        if (!doc.ok()) return doc.status();
        return EncodeExtracted(*doc);
      },
      sandbox, name);
  if (!encoded.ok()) return encoded.status();
  absl::StatusOr<ExtractedDocument> doc = DecodeExtracted(*encoded);
  if (!doc.ok()) {
    return absl::InternalError(absl::StrCat(name, ": ", doc.status().message()));
  }
  return doc;
}

}  // namespace greffier::ingest
