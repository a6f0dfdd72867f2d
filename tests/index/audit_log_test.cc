#include "index/audit_log.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "index/codec.h"
#include "index/index.h"
#include "rocksdb/db.h"
#include "tests/common/test_util.h"

namespace greffier::index {
namespace {

IndexOptions Options(const std::filesystem::path& dir) {
  IndexOptions o;
  o.path = dir.string();
  o.embedder_id = "test";
  o.dimension = 4;
  return o;
}

AuditRecord Record(const std::string& caller, const std::string& question) {
  AuditRecord r;
  r.caller = caller;
  r.kind = "ask";
  r.question = question;
  r.body_json = "{\"answer\":\"" + question + "\"}";
  return r;
}

// Rewrites one stored audit value through a raw RocksDB handle (the index must be closed).
void TamperWith(const std::filesystem::path& dir, uint64_t id,
                const std::function<void(std::string&)>& change, bool remove = false) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(options, (dir / "db").string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, (dir / "db").string(), families, &handles, &db).ok());
  rocksdb::ColumnFamilyHandle* audit = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "audit") audit = handles[i];
  }
  ASSERT_NE(audit, nullptr);
  if (remove) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), audit, EncodeId(id)).ok());
  } else {
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), audit, EncodeId(id), &value).ok());
    change(value);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), audit, EncodeId(id), value).ok());
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
}

TEST(AuditLogTest, AppendChainsAndSurvivesRestart) {
  testing::ScratchDir dir;
  std::string second_hash;
  {
    auto index = Index::Open(Options(dir.path()));
    ASSERT_TRUE(index.ok());
    AuditLog& log = (*index)->audit();
    auto a = log.Append(Record("alice", "q1"));
    auto b = log.Append(Record("bob", "q2"));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->id, 1u);
    EXPECT_EQ(b->id, 2u);
    EXPECT_EQ(a->previous_hash, kAuditGenesisHash);
    EXPECT_EQ(b->previous_hash, a->hash);
    EXPECT_EQ(b->hash.size(), 64u);
    EXPECT_GT(b->time_ms, 0);
    second_hash = b->hash;
  }
  auto index = Index::Open(Options(dir.path()));
  ASSERT_TRUE(index.ok());
  AuditLog& log = (*index)->audit();
  auto c = log.Append(Record("alice", "q3"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->id, 3u);
  EXPECT_EQ(c->previous_hash, second_hash);
  auto v = log.Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_EQ(v->records_checked, 3u);

  auto alice = log.List(0, 10, "alice");
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->size(), 2u);
  EXPECT_EQ((*alice)[1].question, "q3");
  auto page = log.List(1, 1, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, 2u);
  auto got = log.Get(2);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->caller, "bob");
  EXPECT_TRUE(absl::IsNotFound(log.Get(9).status()));
}

class AuditTamperTest : public ::testing::TestWithParam<int> {};

// Flips one byte at several positions of record 3 of 5: verification names record 3.
TEST_P(AuditTamperTest, FlippedByteIsFound) {
  testing::ScratchDir dir;
  {
    auto index = Index::Open(Options(dir.path()));
    ASSERT_TRUE(index.ok());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE((*index)->audit().Append(Record("alice", "question " + std::to_string(i))).ok());
    }
  }
  TamperWith(dir.path(), 3, [](std::string& value) {
    size_t pos = static_cast<size_t>(GetParam()) % value.size();
    value[pos] = static_cast<char>(value[pos] ^ 0x01);
  });
  auto index = Index::Open(Options(dir.path()));
  ASSERT_TRUE(index.ok()) << index.status();
  auto v = (*index)->audit().Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_broken, 3u) << v->reason;
  EXPECT_EQ(v->records_checked, 2u);
  EXPECT_FALSE(v->reason.empty());
}

INSTANTIATE_TEST_SUITE_P(Positions, AuditTamperTest, ::testing::Values(0, 5, 12, 30, 60, 200));

TEST(AuditLogTest, RemovedRecordIsFound) {
  testing::ScratchDir dir;
  {
    auto index = Index::Open(Options(dir.path()));
    ASSERT_TRUE(index.ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE((*index)->audit().Append(Record("a", "q")).ok());
  }
  TamperWith(dir.path(), 2, nullptr, /*remove=*/true);
  auto index = Index::Open(Options(dir.path()));
  ASSERT_TRUE(index.ok());
  auto v = (*index)->audit().Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_broken, 2u);
}

TEST(AuditLogTest, DecodeRejectsTruncation) {
  AuditRecord r = Record("alice", "q");
  r.id = 1;
  r.previous_hash = kAuditGenesisHash;
  r.hash = std::string(64, 'f');
  std::string bytes = AuditLog::Encode(r);
  ASSERT_TRUE(AuditLog::Decode(bytes).ok());
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(AuditLog::Decode(bytes.substr(0, n)).ok());
}

}  // namespace
}  // namespace greffier::index
