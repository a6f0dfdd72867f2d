#include "ingest/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
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
constexpr char kRequestMagic[4] = {'G', 'R', 'S', 'Q'};
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

// Closes every descriptor but `keep`: other children forked by other threads hold copies of the
// parent's descriptors, and a child must not keep their pipes (or the parent's files) open.
void CloseAllBut(int keep) {
  if (keep > 3) ::close_range(3, static_cast<unsigned>(keep) - 1, 0);
  ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
}

// Limits every child sets on itself before parsing anything.
void LimitChild(const SandboxOptions& o) {
  // Ctrl-C reaches the whole process group: the parent decides whether to stop, and lets the
  // documents under way finish. SIGTERM (a service manager stopping the whole group) ends the
  // child whatever handler the parent had installed.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_DFL);
  struct rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core);
  if (!kSanitized && o.memory_bytes > 0) {
    rlim_t as = static_cast<rlim_t>(CurrentAddressSpace() + o.memory_bytes);
    struct rlimit lim = {as, as};
    setrlimit(RLIMIT_AS, &lim);
  }
}

// Runs `fn` and frames its outcome for the parent.
std::string RunToFrame(const std::function<absl::StatusOr<std::string>()>& fn) {
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
  return frame;
}

// The child: limits, work, framed result, _exit (no destructors, no atexit handlers: the parent's
// other threads do not exist here and may have held locks).
[[noreturn]] void ChildMain(int fd, const std::function<absl::StatusOr<std::string>()>& fn,
                            const SandboxOptions& o) {
  CloseAllBut(fd);
  LimitChild(o);
  if (o.cpu_seconds > 0) {
    struct rlimit lim = {static_cast<rlim_t>(o.cpu_seconds),
                         static_cast<rlim_t>(o.cpu_seconds) + 2};
    setrlimit(RLIMIT_CPU, &lim);
  }
  bool ok = WriteAll(fd, RunToFrame(fn));
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

// Reads one result frame (after `skip` leading bytes) from `fd` until it is complete, the
// descriptor closes, the deadline passes or the data outgrows the limit.
struct FrameRead {
  std::string data;
  bool complete = false;
  bool timed_out = false;
  bool too_big = false;
};
FrameRead ReadFrame(int fd, size_t skip, const SandboxOptions& o) {
  FrameRead out;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(o.wall_seconds));
  char buf[1 << 16];
  while (true) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      out.timed_out = true;
      break;
    }
    int wait_ms = static_cast<int>(std::min<int64_t>(
        1000, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
    struct pollfd p = {fd, POLLIN, 0};
    int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break;  // EOF: the child finished or died
    out.data.append(buf, static_cast<size_t>(n));
    if (out.data.size() >= skip && FrameComplete(std::string_view(out.data).substr(skip))) {
      out.complete = true;
      break;
    }
    if (out.data.size() > o.max_result_bytes + 64 + skip) {
      out.too_big = true;
      break;
    }
  }
  return out;
}

// Waits for `pid` to end; one that lingers past a few seconds is killed.
void Reap(pid_t pid, int* status, struct rusage* usage) {
  const auto reap_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto nap = std::chrono::microseconds(20);
  while (true) {
    pid_t w = ::wait4(pid, status, WNOHANG, usage);
    if (w == pid) return;
    if (w < 0 && errno != EINTR) return;
    if (std::chrono::steady_clock::now() > reap_deadline) {
      ::kill(pid, SIGKILL);
      ::wait4(pid, status, 0, usage);
      return;
    }
    std::this_thread::sleep_for(nap);
    nap = std::min<std::chrono::microseconds>(nap * 2, std::chrono::milliseconds(10));
  }
}

// User plus system time in `u`.
double CpuSeconds(const struct rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// The error for a child that did not deliver a result: killed at a limit, or died by a signal.
// `cpu_limited` says whether a SIGKILL may be the CPU hard limit.
absl::Status ChildFailure(const FrameRead& read, int status, const struct rusage& usage,
                          bool cpu_limited, const SandboxOptions& o, const std::string& name) {
  if (read.timed_out) {
    return absl::DeadlineExceededError(absl::StrFormat(
        "%s: timed out after %.0f s (wall clock); parsing stopped", name, o.wall_seconds));
  }
  if (read.too_big) {
    return absl::ResourceExhaustedError(
        absl::StrCat(name, ": extraction result larger than ", o.max_result_bytes >> 20, " MiB"));
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const double cpu = CpuSeconds(usage);
    if (sig == SIGXCPU || (cpu_limited && sig == SIGKILL && cpu >= o.cpu_seconds - 0.5)) {
      return absl::ResourceExhaustedError(
          absl::StrCat(name, ": CPU time limit of ", o.cpu_seconds, " s exceeded"));
    }
    if (sig == SIGKILL) {
      return absl::ResourceExhaustedError(
          absl::StrCat(name, ": the parser was killed (out of memory?)"));
    }
    if (sig == SIGTERM) {
      return absl::UnavailableError(absl::StrCat(
          name, ": parsing stopped: the parser process was terminated (", SignalName(sig), ")"));
    }
    if (sig == SIGABRT) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": the parser aborted (", SignalName(sig),
          "), typically memory exhausted under the limit of ", o.memory_bytes >> 20, " MiB"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": the file crashed the parser (", SignalName(sig), ")"));
  }
  return absl::InternalError(
      absl::StrCat(name, ": the parser process ended without a result (exit status ",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")"));
}

// Decodes a complete result frame.
absl::StatusOr<std::string> ParseFrame(std::string_view data, const SandboxOptions& o,
                                       const std::string& name) {
  Reader rd(data);
  std::string_view magic;
  uint8_t kind;
  if (!rd.Bytes(4, &magic) || magic != std::string_view(kResultMagic, 4) || !rd.U8(&kind)) {
    return absl::InternalError(absl::StrCat(name, ": malformed result from the parser process"));
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

bool ReadAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// Writes to a worker's socket without SIGPIPE when the worker is gone.
bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

double CpuSecondsUsed() {
  struct rusage u = {};
  getrusage(RUSAGE_SELF, &u);
  return CpuSeconds(u);
}

// A pooled worker: requests in, one reply each (a retire flag, then a result frame), until the
// parent closes the socket, the worker has done its share of jobs, or it has grown too much.
[[noreturn]] void WorkerMain(int fd, const SandboxPool::JobFn& fn, const SandboxOptions& o) {
  CloseAllBut(fd);
  LimitChild(o);
  std::signal(SIGPIPE, SIG_IGN);
  const uint64_t base = CurrentAddressSpace();
  for (int jobs = 1;; ++jobs) {
    char head[16];
    if (!ReadAll(fd, head, sizeof(head)) || std::memcmp(head, kRequestMagic, 4) != 0) ::_exit(0);
    Reader rd(std::string_view(head + 4, 12));
    uint32_t name_len = 0;
    uint64_t input_len = 0;
    rd.U32(&name_len);
    rd.U64(&input_len);
    std::string name, input;
    try {
      name.resize(name_len);
      input.resize(input_len);
    } catch (...) {
      ::_exit(4);
    }
    if (!ReadAll(fd, name.data(), name.size()) || !ReadAll(fd, input.data(), input.size())) {
      ::_exit(0);
    }
    if (o.cpu_seconds > 0) {
      // The CPU limit counts the process's whole life: each job gets its own budget on top of
      // what the worker has used so far. The hard limit stays, so SIGXCPU ends an overrun.
      struct rlimit lim = {};
      getrlimit(RLIMIT_CPU, &lim);
      rlim_t soft =
          static_cast<rlim_t>(std::ceil(CpuSecondsUsed())) + static_cast<rlim_t>(o.cpu_seconds);
      if (lim.rlim_max != RLIM_INFINITY && soft > lim.rlim_max) soft = lim.rlim_max;
      lim.rlim_cur = soft;
      setrlimit(RLIMIT_CPU, &lim);
    }
    const std::string frame = RunToFrame([&] { return fn(input, name); });
    const bool retire =
        jobs >= o.jobs_per_worker ||
        (!kSanitized && o.memory_bytes > 0 && CurrentAddressSpace() > base + o.memory_bytes / 4);
    const char flag = retire ? '\1' : '\0';
    if (!WriteAll(fd, std::string_view(&flag, 1)) || !WriteAll(fd, frame)) ::_exit(3);
    if (retire) ::_exit(0);
  }
}

}  // namespace

SandboxPool::SandboxPool(JobFn fn, const SandboxOptions& options)
    : fn_(std::move(fn)), options_(options) {}

SandboxPool::~SandboxPool() {
  for (Worker& w : idle_) End(&w, false);
}

int SandboxPool::workers_started() const {
  std::lock_guard lock(mu_);
  return started_;
}

absl::StatusOr<SandboxPool::Worker> SandboxPool::Spawn(const std::string& name) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return absl::UnavailableError(
        absl::StrCat(name, ": cannot create a socket for the parser: ", strerror(errno)));
  }
  std::fflush(nullptr);  // buffered output must not be written twice
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    return absl::UnavailableError(absl::StrCat(name, ": cannot fork: ", strerror(errno)));
  }
  if (pid == 0) {
    ::close(sv[0]);
    WorkerMain(sv[1], fn_, options_);
  }
  ::close(sv[1]);
  std::lock_guard lock(mu_);
  ++started_;
  Worker w;
  w.pid = pid;
  w.fd = sv[0];
  return w;
}

void SandboxPool::End(Worker* w, bool kill_first) {
  if (kill_first) ::kill(w->pid, SIGKILL);
  ::close(w->fd);  // an idle worker reads end-of-file and exits
  int status = 0;
  struct rusage usage = {};
  Reap(w->pid, &status, &usage);
}

absl::StatusOr<std::string> SandboxPool::Run(std::string_view input, const std::string& name) {
  bool retry = false;
  absl::StatusOr<std::string> r = RunOnce(input, name, &retry);
  if (retry) r = RunOnce(input, name, &retry);
  return r;
}

absl::StatusOr<std::string> SandboxPool::RunOnce(std::string_view input, const std::string& name,
                                                 bool* retry) {
  // A retry always gets a fresh worker: the failure may have come from the old one's state.
  const bool fresh = *retry;
  *retry = false;
  Worker w;
  if (!fresh) {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      w = idle_.back();
      idle_.pop_back();
    }
  }
  if (w.pid < 0) {
    absl::StatusOr<Worker> spawned = Spawn(name);
    if (!spawned.ok()) return spawned.status();
    w = *spawned;
  }
  std::string head(kRequestMagic, 4);
  PutU32(&head, static_cast<uint32_t>(name.size()));
  PutU64(&head, input.size());
  if (!SendAll(w.fd, head) || !SendAll(w.fd, name) || !SendAll(w.fd, input)) {
    // The worker died while idle (the OOM killer, an operator): try a fresh one.
    End(&w, true);
    *retry = !fresh;
    return absl::UnavailableError(absl::StrCat(name, ": the parser process went away"));
  }
  FrameRead read = ReadFrame(w.fd, 1, options_);
  if (read.complete) {
    const bool retire = read.data[0] != 0;
    // After std::bad_alloc the worker's heap is suspect: replace it, and give the job a fresh one
    // if earlier jobs may have left it fragmented.
    const bool out_of_memory = read.data.size() > 5 && read.data[5] == 2;
    absl::StatusOr<std::string> out =
        ParseFrame(std::string_view(read.data).substr(1), options_, name);
    if (out_of_memory) *retry = !fresh && w.jobs > 0;
    ++w.jobs;
    if (retire || out_of_memory) {
      End(&w, false);
    } else {
      std::lock_guard lock(mu_);
      idle_.push_back(w);
    }
    return out;
  }
  if (read.timed_out || read.too_big) ::kill(w.pid, SIGKILL);
  ::close(w.fd);
  int status = 0;
  struct rusage usage = {};
  Reap(w.pid, &status, &usage);
  // Timeouts and CPU overruns are the document's own, and SIGTERM means the service is
  // stopping; a crash may come from what earlier jobs left in this worker, so it is tried once
  // more in a fresh one.
  const bool cpu_or_stop =
      WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGTERM);
  *retry = !fresh && w.jobs > 0 && !read.timed_out && !read.too_big && !cpu_or_stop;
  return ChildFailure(read, status, usage, false, options_, name);
}

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
  FrameRead read = ReadFrame(fds[0], 0, o);
  ::close(fds[0]);
  if (read.timed_out || read.too_big) ::kill(pid, SIGKILL);
  int status = 0;
  struct rusage usage = {};
  // The child exits right after closing the pipe; one that lingers is killed.
  Reap(pid, &status, &usage);
  if (!read.complete) return ChildFailure(read, status, usage, true, o, name);
  return ParseFrame(read.data, o, name);
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

namespace {

// What a parser child runs: extraction, encoded for the trip back to the parent.
absl::StatusOr<std::string> ExtractEncoded(std::string_view bytes, const std::string& name,
                                           const ExtractOptions& extract) {
  absl::StatusOr<ExtractedDocument> doc = ExtractPdf(bytes, name, extract);
  if (!doc.ok()) return doc.status();
  return EncodeExtracted(*doc);
}

absl::StatusOr<ExtractedDocument> DecodeFromChild(const absl::StatusOr<std::string>& encoded,
                                                  const std::string& name) {
  if (!encoded.ok()) return encoded.status();
  absl::StatusOr<ExtractedDocument> doc = DecodeExtracted(*encoded);
  if (!doc.ok()) {
    return absl::InternalError(absl::StrCat(name, ": ", doc.status().message()));
  }
  return doc;
}

}  // namespace

absl::StatusOr<ExtractedDocument> ExtractPdfSandboxed(std::string_view bytes,
                                                      const std::string& name,
                                                      const ExtractOptions& extract,
                                                      const SandboxOptions& sandbox) {
  WarmUpPoppler();
  return DecodeFromChild(
      RunSandboxed([&] { return ExtractEncoded(bytes, name, extract); }, sandbox, name), name);
}

std::unique_ptr<SandboxPool> NewPdfParserPool(const ExtractOptions& extract,
                                              const SandboxOptions& sandbox) {
  return std::make_unique<SandboxPool>(
      [extract](std::string_view bytes, const std::string& name) {
        return ExtractEncoded(bytes, name, extract);
      },
      sandbox);
}

absl::StatusOr<ExtractedDocument> ExtractPdfInPool(SandboxPool* pool, std::string_view bytes,
                                                   const std::string& name) {
  WarmUpPoppler();
  return DecodeFromChild(pool->Run(bytes, name), name);
}

}  // namespace greffier::ingest
