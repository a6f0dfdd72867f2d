#ifndef GREFFIER_INGEST_ARCHIVE_H_
#define GREFFIER_INGEST_ARCHIVE_H_

// Reading zip and tar archives (plain or gzip/bzip2/xz-compressed) with libarchive.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace greffier::ingest {

// Whether the first bytes of a file (512 are enough) are a zip, a tar, or a compressed stream that
// may hold a tar.
bool LooksLikeArchive(std::string_view head);

// One regular file of an archive.
struct ArchiveEntry {
  std::string path;   // the path inside the archive
  uint64_t size = 0;  // as recorded in the archive (0 when unknown)
  std::string bytes;  // the content; empty when `error` is set
  std::string error;  // why the content could not be read (too large,
                      // encrypted, damaged)
};

// Calls `visit` for each regular file of the archive, in archive order, one at a time (so that
// memory holds one entry). Entries larger than `max_entry_bytes` are visited with an error instead
// of content. `visit` returns false to stop early. Errors name the archive. Thread-compatible (one
// archive per call).
absl::Status ForEachArchiveEntry(const std::string& archive_path, uint64_t max_entry_bytes,
                                 const std::function<bool(ArchiveEntry&&)>& visit);

// Number of regular files in the archive and the sum of their recorded sizes (reads the headers
// only, skipping the data).
absl::StatusOr<size_t> CountArchiveEntries(const std::string& archive_path, uint64_t* total_bytes);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_ARCHIVE_H_
