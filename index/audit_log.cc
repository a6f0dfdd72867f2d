#include "index/audit_log.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "index/codec.h"
#include "index/hash.h"
#include "index/rocks_status.h"
#include "index/status_macros.h"
#include "rocksdb/db.h"

namespace greffier::index {
namespace {

constexpr std::string_view kMagic = "GFAU";
constexpr uint8_t kVersion = 1;

// The bytes the hash covers: every field but the hash itself.
std::string EncodeBody(const AuditRecord& r) {
  Encoder e(kMagic, kVersion);
  e.PutVarint(r.id);
  e.PutFixed64(static_cast<uint64_t>(r.time_ms));
  e.PutString(r.caller);
  e.PutString(r.kind);
  e.PutString(r.question);
  e.PutString(r.body_json);
  e.PutString(r.previous_hash);
  return e.Finish();
}

}  // namespace

std::string AuditLog::Encode(const AuditRecord& r) {
  std::string body = EncodeBody(r);
  // The hash goes last, one length byte then the hex digits.
  std::string out = body;
  out.push_back(static_cast<char>(r.hash.size()));
  out += r.hash;
  return out;
}

absl::StatusOr<AuditRecord> AuditLog::Decode(std::string_view data) {
  GREFFIER_ASSIGN_OR_RETURN(Decoder d, Decoder::Open(data, kMagic, kVersion, "audit record"));
  AuditRecord r;
  GREFFIER_ASSIGN_OR_RETURN(r.id, d.GetVarint());
  GREFFIER_ASSIGN_OR_RETURN(uint64_t t, d.GetFixed64());
  r.time_ms = static_cast<int64_t>(t);
  GREFFIER_ASSIGN_OR_RETURN(r.caller, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(r.kind, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(r.question, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(r.body_json, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(r.previous_hash, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(uint8_t n, d.GetU8());
  std::string hash;
  for (uint8_t i = 0; i < n; ++i) {
    GREFFIER_ASSIGN_OR_RETURN(uint8_t c, d.GetU8());
    hash.push_back(static_cast<char>(c));
  }
  if (!d.done()) return absl::DataLossError("audit record: trailing bytes");
  r.hash = std::move(hash);
  return r;
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(rocksdb::DB* db,
                                                         rocksdb::ColumnFamilyHandle* cf) {
  std::unique_ptr<AuditLog> log(new AuditLog(db, cf));
  log->last_hash_ = kAuditGenesisHash;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  it->SeekToLast();
  if (it->Valid()) {
    GREFFIER_ASSIGN_OR_RETURN(log->last_id_, DecodeId(it->key().ToStringView()));
    absl::StatusOr<AuditRecord> last = Decode(it->value().ToStringView());
    // A damaged head is reported by Verify; new records still chain to what is stored.
    log->last_hash_ = last.ok() ? last->hash : Sha256Hex(it->value().ToStringView());
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(it->status(), "read audit log head"));
  return log;
}

absl::StatusOr<AuditRecord> AuditLog::Append(AuditRecord r) {
  std::lock_guard lock(mu_);
  r.id = last_id_ + 1;
  if (r.time_ms == 0) {
    r.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  }
  r.previous_hash = last_hash_;
  r.hash = Sha256Hex(EncodeBody(r));
  rocksdb::WriteOptions wo;
  wo.sync = true;  // durable before the caller reports anything
  GREFFIER_RETURN_IF_ERROR(
      FromRocks(db_->Put(wo, cf_, EncodeId(r.id), Encode(r)), "append audit record"));
  last_id_ = r.id;
  last_hash_ = r.hash;
  return r;
}

absl::StatusOr<AuditRecord> AuditLog::Get(uint64_t id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_, EncodeId(id), &value);
  if (s.IsNotFound())
    return absl::NotFoundError(absl::StrCat("audit record ", id, " does not exist"));
  GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read audit record"));
  return Decode(value);
}

absl::StatusOr<std::vector<AuditRecord>> AuditLog::List(uint64_t after_id, size_t limit,
                                                        const std::string& caller) const {
  std::vector<AuditRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
  for (it->Seek(EncodeId(after_id + 1)); it->Valid() && out.size() < limit; it->Next()) {
    GREFFIER_ASSIGN_OR_RETURN(AuditRecord r, Decode(it->value().ToStringView()));
    if (!caller.empty() && r.caller != caller) continue;
    out.push_back(std::move(r));
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(it->status(), "list audit records"));
  return out;
}

absl::StatusOr<AuditVerification> AuditLog::Verify() const {
  AuditVerification v;
  std::string previous = kAuditGenesisHash;
  uint64_t expected_id = 1;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
  auto broken = [&](uint64_t id, std::string reason) {
    v.ok = false;
    v.first_broken = id;
    v.reason = std::move(reason);
    return v;
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StatusOr<uint64_t> key = DecodeId(it->key().ToStringView());
    if (!key.ok()) return broken(expected_id, "unreadable record key");
    if (*key != expected_id) {
      return broken(expected_id,
                    absl::StrCat("record ", expected_id, " is missing (next is ", *key, ")"));
    }
    absl::StatusOr<AuditRecord> r = Decode(it->value().ToStringView());
    if (!r.ok()) return broken(*key, std::string(r.status().message()));
    if (r->id != *key) return broken(*key, "record id does not match its key");
    if (r->previous_hash != previous) {
      return broken(*key, "previous-hash link does not match the preceding record");
    }
    if (Sha256Hex(EncodeBody(*r)) != r->hash) {
      return broken(*key, "content does not match the record's hash (modified)");
    }
    previous = r->hash;
    ++expected_id;
    ++v.records_checked;
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(it->status(), "scan audit log"));
  return v;
}

uint64_t AuditLog::last_id() const {
  std::lock_guard lock(mu_);
  return last_id_;
}

}  // namespace greffier::index
