#include "ingest/archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace greffier::ingest {
namespace {

struct ArchiveCloser {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveCloser>;

absl::StatusOr<ArchivePtr> OpenArchive(const std::string& path) {
  ArchivePtr a(archive_read_new());
  if (a == nullptr) return absl::ResourceExhaustedError("libarchive: out of memory");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    const char* e = archive_error_string(a.get());
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a readable zip or tar archive (", e != nullptr ? e : "?", ")"));
  }
  return a;
}

}  // namespace

bool LooksLikeArchive(std::string_view h) {
  if (h.substr(0, 4) == std::string_view("PK\x03\x04", 4)) return true;  // zip
  if (h.substr(0, 4) == std::string_view("PK\x05\x06", 4)) return true;  // empty zip
  if (h.size() >= 262 && h.substr(257, 5) == "ustar") return true;       // tar
  if (h.substr(0, 2) == std::string_view("\x1F\x8B", 2)) return true;    // gzip
  if (h.substr(0, 3) == "BZh") return true;                              // bzip2
  if (h.substr(0, 6) == std::string_view("\xFD"
                                         "7zXZ\x00",
                                         6))
    return true;  // xz
  return false;
}

absl::Status ForEachArchiveEntry(const std::string& archive_path, uint64_t max_entry_bytes,
                                 const std::function<bool(ArchiveEntry&&)>& visit) {
  absl::StatusOr<ArchivePtr> a = OpenArchive(archive_path);
  if (!a.ok()) return a.status();
  struct archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(a->get(), &entry);
    if (r == ARCHIVE_EOF) return absl::OkStatus();
    if (r == ARCHIVE_FATAL) {
      const char* e = archive_error_string(a->get());
      return absl::DataLossError(
          absl::StrCat(archive_path, ": damaged archive (", e != nullptr ? e : "?", ")"));
    }
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    ArchiveEntry out;
    const char* name = archive_entry_pathname(entry);
    out.path = name != nullptr ? name : "(unnamed)";
    out.size =
        archive_entry_size_is_set(entry) ? static_cast<uint64_t>(archive_entry_size(entry)) : 0;
    if (out.size > max_entry_bytes) {
      out.error = absl::StrCat("file of ", out.size, " bytes exceeds the limit of ",
                               max_entry_bytes, " bytes");
      archive_read_data_skip(a->get());
    } else {
      char buf[1 << 16];
      while (true) {
        la_ssize_t n = archive_read_data(a->get(), buf, sizeof(buf));
        if (n == 0) break;
        if (n < 0) {
          const char* e = archive_error_string(a->get());
          out.error = absl::StrCat("cannot read from the archive (", e != nullptr ? e : "?", ")");
          out.bytes.clear();
          break;
        }
        // The recorded size may lie (a zip bomb): the limit applies to what is inflated.
        if (out.bytes.size() + static_cast<size_t>(n) > max_entry_bytes) {
          out.error = absl::StrCat("file exceeds the limit of ", max_entry_bytes, " bytes");
          out.bytes.clear();
          break;
        }
        out.bytes.append(buf, static_cast<size_t>(n));
      }
    }
    if (!visit(std::move(out))) return absl::OkStatus();
  }
}

absl::StatusOr<size_t> CountArchiveEntries(const std::string& archive_path, uint64_t* total_bytes) {
  absl::StatusOr<ArchivePtr> a = OpenArchive(archive_path);
  if (!a.ok()) return a.status();
  size_t n = 0;
  uint64_t bytes = 0;
  struct archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(a->get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_FATAL) {
      const char* e = archive_error_string(a->get());
      return absl::DataLossError(
          absl::StrCat(archive_path, ": damaged archive (", e != nullptr ? e : "?", ")"));
    }
    if (archive_entry_filetype(entry) == AE_IFREG) {
      ++n;
      if (archive_entry_size_is_set(entry))
        bytes += static_cast<uint64_t>(archive_entry_size(entry));
    }
    archive_read_data_skip(a->get());
  }
  if (total_bytes != nullptr) *total_bytes = bytes;
  return n;
}

}  // namespace greffier::ingest
