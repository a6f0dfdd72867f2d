#ifndef GREFFIER_INDEX_ROCKS_STATUS_H_
#define GREFFIER_INDEX_ROCKS_STATUS_H_

// Internal to index/: RocksDB status to absl::Status, with what was being done.

#include <string>

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace greffier::index {

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what);

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_ROCKS_STATUS_H_
