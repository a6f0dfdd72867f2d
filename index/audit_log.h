#ifndef GREFFIER_INDEX_AUDIT_LOG_H_
#define GREFFIER_INDEX_AUDIT_LOG_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace greffier::index {

struct AuditRecord {
  uint64_t id = 0;  // sequence number, from 1
  int64_t time_ms = 0;
  std::string caller;
  std::string kind;  // "ask", "retrieve", "delete", ...
  std::string question;
  std::string body_json;      // everything else, as canonical JSON
  std::string previous_hash;  // hex SHA-256 of the previous record (zeros for the first)
  std::string hash;           // hex SHA-256 of this record's encoding without the hash
};

struct AuditVerification {
  bool ok = true;
  uint64_t records_checked = 0;
  uint64_t first_broken = 0;  // 0 when ok
  std::string reason;
};

// The append-only, hash-chained audit log, in its own RocksDB column family. Each record
// holds the previous record's hash and its own; every append is synced to disk before it
// returns, and no record is ever rewritten. Thread-safe: appends are serialised.
class AuditLog {
 public:
  // Loads the chain head. The DB and handle must outlive the log.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(rocksdb::DB* db,
                                                        rocksdb::ColumnFamilyHandle* cf);

  // Appends a record (id, time when 0, hashes assigned here) and returns it as stored.
  absl::StatusOr<AuditRecord> Append(AuditRecord record);
  absl::StatusOr<AuditRecord> Get(uint64_t id) const;
  // Records with id > after_id in order, at most `limit`, only `caller`'s when non-empty.
  absl::StatusOr<std::vector<AuditRecord>> List(uint64_t after_id, size_t limit,
                                                const std::string& caller) const;
  // Walks the whole chain from the first record; reports the first broken link.
  absl::StatusOr<AuditVerification> Verify() const;
  uint64_t last_id() const;

  // The record's stored encoding and its hash (exposed for tests and tools).
  static std::string Encode(const AuditRecord& record);
  static absl::StatusOr<AuditRecord> Decode(std::string_view data);

 private:
  AuditLog(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) : db_(db), cf_(cf) {}
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  mutable std::mutex mu_;
  uint64_t last_id_ = 0;
  std::string last_hash_;
};

// Hash of a chain's start.
inline constexpr char kAuditGenesisHash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_AUDIT_LOG_H_
