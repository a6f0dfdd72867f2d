#include "index/index.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "index/audit_log.h"
#include "index/bm25.h"
#include "index/codec.h"
#include "index/rocks_status.h"
#include "index/status_macros.h"
#include "index/text_analysis.h"
#include "index/vector_index.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace greffier::index {
namespace {

constexpr uint64_t kSchemaVersion = 1;
constexpr char kSchemaKey[] = "schema_version";
constexpr char kNextDocKey[] = "next_document_id";
constexpr char kNextPassageKey[] = "next_passage_id";
constexpr char kMutationSeqKey[] = "mutation_seq";
constexpr char kEmbedderKey[] = "embedder_id";
constexpr char kDimensionKey[] = "embedder_dimension";
constexpr char kAnalyzerKey[] = "analyzer_id";
constexpr char kReembedKey[] = "reembed_in_progress";
constexpr char kSnapshotFile[] = "vectors.faiss";

const std::vector<std::string>& FamilyNames() {
  static const std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName,
                                                 "meta",
                                                 "docs",
                                                 "passages",
                                                 "vectors",
                                                 "sources",
                                                 "hashes",
                                                 "tombstones",
                                                 "postings",
                                                 "termstats",
                                                 "lengths",
                                                 "audit"};
  return names;
}

std::string EncodeU64(uint64_t v) { return EncodeId(v); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat(what, ": ", s.ToString()));
  if (s.IsCorruption()) return absl::DataLossError(absl::StrCat(what, ": ", s.ToString()));
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": ", s.ToString(), " (is another greffier process using this data directory?)"));
  }
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

// BM25 postings read from RocksDB; lengths and counts come from the in-memory catalog.
// Callers hold the index's lock in shared mode.
class RocksPostings : public PostingsSource {
 public:
  explicit RocksPostings(const Index* index) : index_(index) {}

  absl::Status ForEachPosting(std::string_view term, const PostingFn& fn) const override {
    const std::string prefix = PostingKeyPrefix(term);
    std::unique_ptr<rocksdb::Iterator> it(
        index_->db_->NewIterator(rocksdb::ReadOptions(), index_->postings_));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      GREFFIER_ASSIGN_OR_RETURN(PostingKey key, DecodePostingKey(it->key().ToStringView()));
      GREFFIER_ASSIGN_OR_RETURN(PostingValue value, DecodePostingValue(it->value().ToStringView()));
      fn(key.passage_id, value.tf);
    }
    return FromRocks(it->status(), "scan postings");
  }

  absl::StatusOr<uint64_t> DocumentFrequency(std::string_view term) const override {
    auto it = index_->doc_freq_.find(std::string(term));
    return it == index_->doc_freq_.end() ? 0 : it->second;
  }

  absl::StatusOr<uint32_t> Length(uint64_t passage_id) const override {
    auto it = index_->passage_info_.find(passage_id);
    return it == index_->passage_info_.end() ? 0 : it->second.length;
  }

  uint64_t NumDocuments() const override { return index_->passage_info_.size(); }

  const InvertedLists* inverted_lists() const override { return index_->inverted_.get(); }

  double AverageLength() const override {
    if (index_->passage_info_.empty()) return 0;
    return static_cast<double>(index_->total_length_) /
           static_cast<double>(index_->passage_info_.size());
  }

 private:
  const Index* index_;
};

Index::Index(const IndexOptions& options)
    : options_(options), inverted_(std::make_unique<InvertedLists>()) {}

Index::~Index() {
  WaitForBackgroundWork();
  if (db_ == nullptr) return;
  audit_log_.reset();
  if (!options_.read_only) {
    std::lock_guard snapshot_lock(snapshot_mu_);
    std::unique_lock lock(mu_);
    if (changes_since_snapshot_ > 0 && vectors_index_ != nullptr) {
      absl::Status s = SnapshotLocked();
      if (!s.ok())
        std::fprintf(stderr, "greffier: final vector snapshot failed: %s\n", s.ToString().c_str());
    }
  }
  if (!options_.read_only) {
    // Memtables written out now are not replayed from the log by the next open.
    rocksdb::Status flushed = db_->Flush(rocksdb::FlushOptions(), handles_);
    if (!flushed.ok()) {
      std::fprintf(stderr, "greffier: flush at close failed: %s\n", flushed.ToString().c_str());
    }
  }
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::StatusOr<std::unique_ptr<Index>> Index::Open(const IndexOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("index: data path is required");
  if (!options.any_embedder && (options.dimension <= 0 || options.embedder_id.empty())) {
    return absl::InvalidArgumentError("index: embedder identity and dimension are required");
  }
  std::unique_ptr<Index> index(new Index(options));
  GREFFIER_RETURN_IF_ERROR(index->OpenDb());
  GREFFIER_RETURN_IF_ERROR(index->CheckEmbedder());
  GREFFIER_RETURN_IF_ERROR(index->CheckAnalyzer());
  GREFFIER_RETURN_IF_ERROR(index->LoadCatalog());
  GREFFIER_RETURN_IF_ERROR(index->RecoverVectors());
  return index;
}

absl::Status Index::OpenDb() {
  std::error_code ec;
  std::filesystem::create_directories(options_.path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create data directory ", options_.path, ": ", ec.message()));
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : FamilyNames()) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  rocksdb::DB* raw = nullptr;
  std::string db_path = (std::filesystem::path(options_.path) / "db").string();
  if (options_.read_only) {
    if (!std::filesystem::exists(db_path)) {
      return absl::NotFoundError(absl::StrCat("no greffier data in ", options_.path));
    }
    GREFFIER_RETURN_IF_ERROR(
        FromRocks(rocksdb::DB::OpenForReadOnly(db_options, db_path, families, &handles_, &raw),
                  "open " + db_path + " read-only"));
  } else {
    GREFFIER_RETURN_IF_ERROR(FromRocks(
        rocksdb::DB::Open(db_options, db_path, families, &handles_, &raw), "open " + db_path));
  }
  db_.reset(raw);
  meta_ = handles_[1];
  docs_ = handles_[2];
  passages_ = handles_[3];
  vectors_ = handles_[4];
  sources_ = handles_[5];
  hashes_ = handles_[6];
  tombstones_ = handles_[7];
  postings_ = handles_[8];
  termstats_ = handles_[9];
  lengths_ = handles_[10];
  GREFFIER_ASSIGN_OR_RETURN(audit_log_, AuditLog::Open(db_.get(), handles_[11]));
  postings_source_ = std::make_unique<RocksPostings>(this);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Index::ReadCounter(const std::string& key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
  if (s.IsNotFound()) return 0;
  GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read meta " + key));
  return DecodeId(value);
}

absl::Status Index::CheckEmbedder() {
  std::string pending;
  if (db_->Get(rocksdb::ReadOptions(), meta_, kReembedKey, &pending).ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", options_.path, " has an interrupted re-embedding to '",
                     pending, "': run `greffier reembed` again to finish it"));
  }
  std::string stored;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kEmbedderKey, &stored);
  if (s.IsNotFound() && options_.read_only) {
    return absl::NotFoundError(absl::StrCat("no greffier index in ", options_.path));
  }
  if (s.IsNotFound() && options_.any_embedder) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", options_.path, " has no embedder yet"));
  }
  if (s.IsNotFound()) {
    rocksdb::WriteBatch batch;
    batch.Put(meta_, kSchemaKey, EncodeU64(kSchemaVersion));
    batch.Put(meta_, kEmbedderKey, options_.embedder_id);
    batch.Put(meta_, kDimensionKey, EncodeU64(static_cast<uint64_t>(options_.dimension)));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(db_->Write(wo, &batch), "initialise meta");
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read embedder identity"));
  GREFFIER_ASSIGN_OR_RETURN(uint64_t schema, ReadCounter(kSchemaKey));
  if (schema != kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", options_.path, " has schema version ", schema,
                     "; this build reads version ", kSchemaVersion));
  }
  if (options_.any_embedder) {
    GREFFIER_ASSIGN_OR_RETURN(uint64_t dim, ReadCounter(kDimensionKey));
    options_.embedder_id = stored;
    options_.dimension = static_cast<int>(dim);
    return absl::OkStatus();
  }
  if (stored != options_.embedder_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", options_.path, " was built with embedder '", stored,
                     "' but this server uses '", options_.embedder_id,
                     "': use the same embedder, or re-embed the index (greffier reembed)"));
  }
  return absl::OkStatus();
}

absl::Status Index::CheckAnalyzer() {
  GREFFIER_ASSIGN_OR_RETURN(write_analyzer_, FrenchAnalyzer::Create());
  std::string stored;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kAnalyzerKey, &stored);
  if (s.IsNotFound() && !options_.read_only) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(db_->Put(wo, meta_, kAnalyzerKey, write_analyzer_->Identity()),
                     "record analyzer identity");
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read analyzer identity"));
  if (options_.read_only) return absl::OkStatus();
  if (stored != write_analyzer_->Identity()) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", options_.path, " was indexed with text analyzer '", stored,
                     "' but this build uses '", write_analyzer_->Identity(),
                     "': re-ingest the archive into a new data directory"));
  }
  return absl::OkStatus();
}

// What BM25 indexes of a passage: its document's title, its section path and its text.
static std::string IndexedText(const std::string& title, const PassageRecord& p) {
  std::string text = title;
  for (const auto& s : p.section_path) absl::StrAppend(&text, "\n", s);
  absl::StrAppend(&text, "\n", p.text);
  return text;
}

std::unordered_map<std::string, uint32_t> Index::PassageTerms(const std::string& title,
                                                              const PassageRecord& p) const {
  std::unordered_map<std::string, uint32_t> tf;
  for (auto& term : write_analyzer_->AnalyzeToStrings(IndexedText(title, p))) {
    ++tf[std::move(term)];
  }
  return tf;
}

void Index::ApplyDfDelta(const std::unordered_map<std::string, int64_t>& df_delta,
                         rocksdb::WriteBatch& batch,
                         std::vector<std::pair<std::string, uint64_t>>* updated) {
  for (const auto& [term, delta] : df_delta) {
    if (delta == 0) continue;
    auto it = doc_freq_.find(term);
    const int64_t df = (it == doc_freq_.end() ? 0 : static_cast<int64_t>(it->second)) + delta;
    if (df <= 0) {
      batch.Delete(termstats_, term);
    } else {
      batch.Put(termstats_, term, EncodeId(static_cast<uint64_t>(df)));
    }
    updated->emplace_back(term, static_cast<uint64_t>(std::max<int64_t>(df, 0)));
  }
}

void Index::CommitDf(const std::vector<std::pair<std::string, uint64_t>>& updated) {
  for (const auto& [term, df] : updated) {
    if (df == 0) {
      doc_freq_.erase(term);
    } else {
      doc_freq_[term] = df;
    }
  }
}

absl::Status Index::LoadCatalog() {
  GREFFIER_ASSIGN_OR_RETURN(uint64_t next_doc, ReadCounter(kNextDocKey));
  GREFFIER_ASSIGN_OR_RETURN(uint64_t next_passage, ReadCounter(kNextPassageKey));
  GREFFIER_ASSIGN_OR_RETURN(mutation_seq_, ReadCounter(kMutationSeqKey));
  next_doc_id_ = std::max<uint64_t>(1, next_doc);
  next_passage_id_ = std::max<uint64_t>(1, next_passage);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), docs_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    GREFFIER_ASSIGN_OR_RETURN(DocumentRecord doc, DecodeDocument(it->value().ToStringView()));
    for (uint64_t pid : doc.passage_ids) passage_info_[pid] = PassageInfo{doc.id, 0};
    docs_info_[doc.id] =
        DocInfo{doc.collection, doc.document_type, doc.date, doc.access_labels, doc.extra};
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(it->status(), "scan documents"));
  std::unique_ptr<rocksdb::Iterator> tit(db_->NewIterator(rocksdb::ReadOptions(), termstats_));
  for (tit->SeekToFirst(); tit->Valid(); tit->Next()) {
    GREFFIER_ASSIGN_OR_RETURN(uint64_t df, DecodeId(tit->value().ToStringView()));
    doc_freq_.emplace(tit->key().ToString(), df);
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(tit->status(), "scan term statistics"));
  std::unique_ptr<rocksdb::Iterator> lit(db_->NewIterator(rocksdb::ReadOptions(), lengths_));
  for (lit->SeekToFirst(); lit->Valid(); lit->Next()) {
    GREFFIER_ASSIGN_OR_RETURN(uint64_t pid, DecodeId(lit->key().ToStringView()));
    GREFFIER_ASSIGN_OR_RETURN(uint64_t length, DecodeId(lit->value().ToStringView()));
    auto p = passage_info_.find(pid);
    if (p == passage_info_.end()) continue;
    p->second.length = static_cast<uint32_t>(length);
    total_length_ += length;
    inverted_->SetLength(pid, static_cast<uint32_t>(length));
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(lit->status(), "scan passage lengths"));
  // The postings, term by term in passage id order: BM25 searches them in memory.
  std::unique_ptr<rocksdb::Iterator> pit(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  std::string term;
  std::vector<std::pair<uint64_t, uint32_t>> id_tfs;
  for (pit->SeekToFirst(); pit->Valid(); pit->Next()) {
    GREFFIER_ASSIGN_OR_RETURN(PostingKey key, DecodePostingKey(pit->key().ToStringView()));
    GREFFIER_ASSIGN_OR_RETURN(PostingValue value, DecodePostingValue(pit->value().ToStringView()));
    if (key.term != term) {
      inverted_->AddPostings(term, id_tfs);
      id_tfs.clear();
      term = std::move(key.term);
    }
    if (passage_info_.contains(key.passage_id)) id_tfs.emplace_back(key.passage_id, value.tf);
  }
  inverted_->AddPostings(term, id_tfs);
  return FromRocks(pit->status(), "scan postings");
}

absl::Status Index::RecoverVectors() {
  std::string snap = (std::filesystem::path(options_.path) / kSnapshotFile).string();
  SnapshotInfo info;
  absl::StatusOr<std::unique_ptr<VectorIndex>> loaded =
      VectorIndex::Load(snap, VectorOptions(options_.dimension), &info);
  if (loaded.ok() && (*loaded)->dimension() == options_.dimension) {
    vectors_index_ = std::move(*loaded);
  } else {
    if (!loaded.ok() && !absl::IsNotFound(loaded.status())) {
      std::fprintf(stderr, "greffier: rebuilding vector index: %s\n",
                   loaded.status().ToString().c_str());
    }
    info = SnapshotInfo{};
    GREFFIER_ASSIGN_OR_RETURN(vectors_index_,
                              VectorIndex::Create(VectorOptions(options_.dimension)));
  }
  GREFFIER_RETURN_IF_ERROR(
      ReplayInto(*vectors_index_, info.watermark, info.mutation_seq, &changes_since_snapshot_));
  // Growth from now on runs beside searches and writes.
  vectors_index_->set_background_growth(options_.faiss_background_growth && !options_.read_only);
  return absl::OkStatus();
}

absl::Status Index::ReplayInto(VectorIndex& vectors, uint64_t watermark, uint64_t mutation_seq,
                               uint64_t* changes, uint64_t watermark_end, uint64_t seq_end) const {
  // Vectors committed after the snapshot: passage ids are allocated in increasing order.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), vectors_));
  std::vector<uint64_t> ids;
  std::vector<float> flat;
  auto flush = [&]() -> absl::Status {
    GREFFIER_RETURN_IF_ERROR(vectors.Add(ids, flat));
    *changes += ids.size();
    ids.clear();
    flat.clear();
    return absl::OkStatus();
  };
  for (it->Seek(EncodeId(watermark + 1)); it->Valid(); it->Next()) {
    GREFFIER_ASSIGN_OR_RETURN(uint64_t id, DecodeId(it->key().ToStringView()));
    if (id > watermark_end) break;
    GREFFIER_ASSIGN_OR_RETURN(std::vector<float> v, DecodeVector(it->value().ToStringView()));
    if (v.size() != static_cast<size_t>(options_.dimension)) {
      return absl::DataLossError(absl::StrCat("vector of passage ", id, " has dimension ", v.size(),
                                              ", expected ", options_.dimension));
    }
    ids.push_back(id);
    flat.insert(flat.end(), v.begin(), v.end());
    if (ids.size() >= 4096) GREFFIER_RETURN_IF_ERROR(flush());
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(it->status(), "scan vectors"));
  GREFFIER_RETURN_IF_ERROR(flush());
  // Deletions committed after the snapshot.
  std::unique_ptr<rocksdb::Iterator> ts(db_->NewIterator(rocksdb::ReadOptions(), tombstones_));
  for (ts->Seek(EncodeId(mutation_seq + 1)); ts->Valid(); ts->Next()) {
    GREFFIER_ASSIGN_OR_RETURN(uint64_t seq, DecodeId(ts->key().ToStringView()));
    if (seq > seq_end) break;
    GREFFIER_ASSIGN_OR_RETURN(Decoder d,
                              Decoder::Open(ts->value().ToStringView(), "GFTS", 1, "tombstone"));
    GREFFIER_ASSIGN_OR_RETURN(uint64_t n, d.GetVarint());
    std::vector<uint64_t> removed;
    for (uint64_t i = 0; i < n; ++i) {
      GREFFIER_ASSIGN_OR_RETURN(uint64_t id, d.GetVarint());
      removed.push_back(id);
    }
    GREFFIER_RETURN_IF_ERROR(vectors.Remove(removed));
    *changes += removed.size();
  }
  return FromRocks(ts->status(), "scan tombstones");
}

absl::Status Index::DeleteInBatch(
    const DocumentRecord& doc, rocksdb::WriteBatch& batch,
    std::unordered_map<std::string, int64_t>& df_delta,
    std::vector<std::pair<uint64_t, std::vector<std::string>>>* removed) {
  batch.Delete(docs_, EncodeId(doc.id));
  for (uint64_t pid : doc.passage_ids) {
    GREFFIER_ASSIGN_OR_RETURN(PassageRecord p, GetPassage(pid));
    std::vector<std::string> terms;
    for (const auto& [term, tf] : PassageTerms(doc.title, p)) {
      batch.Delete(postings_, EncodePostingKey(term, pid));
      --df_delta[term];
      terms.push_back(term);
    }
    removed->emplace_back(pid, std::move(terms));
    batch.Delete(passages_, EncodeId(pid));
    batch.Delete(vectors_, EncodeId(pid));
    batch.Delete(lengths_, EncodeId(pid));
  }
  batch.Delete(hashes_, doc.content_hash);
  ++mutation_seq_;
  Encoder e("GFTS", 1);
  e.PutVarint(doc.passage_ids.size());
  for (uint64_t pid : doc.passage_ids) e.PutVarint(pid);
  batch.Put(tombstones_, EncodeId(mutation_seq_), e.Finish());
  batch.Put(meta_, kMutationSeqKey, EncodeU64(mutation_seq_));
  return absl::OkStatus();
}

absl::StatusOr<Index::AddResult> Index::AddDocument(DocumentRecord doc,
                                                    std::vector<PassageRecord> passages,
                                                    const std::vector<std::vector<float>>& vectors,
                                                    std::optional<uint64_t> replace) {
  if (vectors.size() != passages.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("index: ", passages.size(), " passages but ", vectors.size(), " vectors"));
  }
  for (const auto& v : vectors) {
    if (v.size() != static_cast<size_t>(options_.dimension)) {
      return absl::InvalidArgumentError(
          absl::StrCat("index: vector of dimension ", v.size(), ", expected ", options_.dimension));
    }
  }
  std::unique_lock lock(mu_);
  std::optional<DocumentRecord> old;
  if (replace.has_value()) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), docs_, EncodeId(*replace), &value);
    if (!s.IsNotFound()) {
      GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read replaced document"));
      GREFFIER_ASSIGN_OR_RETURN(old, DecodeDocument(value));
    }
  }
  const uint64_t saved_seq = mutation_seq_;
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string, int64_t> df_delta;
  std::vector<std::pair<uint64_t, std::vector<std::string>>> removed_terms;
  if (old.has_value()) {
    absl::Status s = DeleteInBatch(*old, batch, df_delta, &removed_terms);
    if (!s.ok()) {
      mutation_seq_ = saved_seq;
      return s;
    }
  }
  std::vector<uint32_t> lengths;

  AddResult result;
  result.document_id = next_doc_id_;
  doc.id = result.document_id;
  if (doc.ingested_at_ms == 0) doc.ingested_at_ms = NowMs();
  doc.passage_ids.clear();
  std::vector<uint64_t> ids;
  std::vector<float> flat;
  std::vector<std::vector<std::pair<std::string, uint32_t>>> added_terms;
  flat.reserve(vectors.size() * options_.dimension);
  for (size_t i = 0; i < passages.size(); ++i) {
    PassageRecord& p = passages[i];
    p.id = next_passage_id_ + i;
    p.document_id = doc.id;
    doc.passage_ids.push_back(p.id);
    batch.Put(passages_, EncodeId(p.id), EncodePassage(p));
    batch.Put(vectors_, EncodeId(p.id), EncodeVector(vectors[i]));
    uint32_t length = 0;
    auto& term_tfs = added_terms.emplace_back();
    for (const auto& [term, tf] : PassageTerms(doc.title, p)) {
      term_tfs.emplace_back(term, tf);
      absl::StatusOr<std::string> value = EncodePostingValue(PostingValue{tf, {}});
      if (!value.ok()) {
        mutation_seq_ = saved_seq;
        return value.status();
      }
      batch.Put(postings_, EncodePostingKey(term, p.id), *value);
      ++df_delta[term];
      length += tf;
    }
    batch.Put(lengths_, EncodeId(p.id), EncodeId(length));
    lengths.push_back(length);
    ids.push_back(p.id);
    flat.insert(flat.end(), vectors[i].begin(), vectors[i].end());
  }
  batch.Put(docs_, EncodeId(doc.id), EncodeDocument(doc));
  batch.Put(sources_, doc.source_path, EncodeId(doc.id));
  batch.Put(hashes_, doc.content_hash, EncodeId(doc.id));
  batch.Put(meta_, kNextDocKey, EncodeU64(next_doc_id_ + 1));
  batch.Put(meta_, kNextPassageKey, EncodeU64(next_passage_id_ + passages.size()));
  std::vector<std::pair<std::string, uint64_t>> df_updated;
  ApplyDfDelta(df_delta, batch, &df_updated);
  absl::Status written = FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "write document");
  if (!written.ok()) {
    mutation_seq_ = saved_seq;
    return written;
  }
  next_doc_id_ += 1;
  next_passage_id_ += passages.size();
  CommitDf(df_updated);

  // RocksDB is the truth from here on; FAISS failures are repaired by the next open.
  if (old.has_value()) {
    absl::Status s = vectors_index_->Remove(old->passage_ids);
    if (!s.ok()) std::fprintf(stderr, "greffier: %s\n", s.ToString().c_str());
    for (uint64_t pid : old->passage_ids) {
      auto it = passage_info_.find(pid);
      if (it == passage_info_.end()) continue;
      total_length_ -= it->second.length;
      passage_info_.erase(it);
    }
    docs_info_.erase(old->id);
    changes_since_snapshot_ += old->passage_ids.size();
  }
  for (const auto& [pid, terms] : removed_terms) inverted_->Remove(pid, terms);
  for (size_t i = 0; i < ids.size(); ++i) inverted_->Add(ids[i], added_terms[i], lengths[i]);
  absl::Status s = vectors_index_->Add(ids, flat);
  if (!s.ok()) std::fprintf(stderr, "greffier: %s\n", s.ToString().c_str());
  MaybeStartGrowth();
  for (size_t i = 0; i < ids.size(); ++i) {
    passage_info_[ids[i]] = PassageInfo{doc.id, lengths[i]};
    total_length_ += lengths[i];
  }
  docs_info_[doc.id] =
      DocInfo{doc.collection, doc.document_type, doc.date, doc.access_labels, doc.extra};
  changes_since_snapshot_ += ids.size();
  MaybeStartSnapshot();
  result.passage_ids = std::move(ids);
  return result;
}

bool Index::SnapshotDueLocked() const {
  return changes_since_snapshot_ >= std::max(options_.snapshot_every, vectors_index_->size() / 8);
}

absl::Status Index::SnapshotShared(bool only_if_due) {
  // A due snapshot that finds another being taken (an explicit one) is skipped: the changes
  // stay counted, so a later write starts the next one.
  std::unique_lock snapshot_lock(snapshot_mu_, std::defer_lock);
  if (only_if_due) {
    if (!snapshot_lock.try_lock()) return absl::OkStatus();
  } else {
    snapshot_lock.lock();
  }
  SnapshotInfo info;
  uint64_t counted = 0;
  std::unique_ptr<VectorIndex> copy;
  {
    // Searches go on while FAISS is copied; writers wait for the copy only.
    std::shared_lock lock(mu_);
    if (only_if_due && !SnapshotDueLocked()) return absl::OkStatus();  // taken meanwhile
    info = CurrentSnapshotInfoLocked();
    counted = changes_since_snapshot_;
    absl::StatusOr<std::unique_ptr<VectorIndex>> cloned = vectors_index_->Clone();
    if (cloned.ok()) {
      copy = std::move(*cloned);
    } else {
      // A type FAISS cannot copy: written from the index itself, under the read lock.
      GREFFIER_RETURN_IF_ERROR(vectors_index_->WriteSnapshot(SnapshotPath(), info));
    }
  }
  // Writing and syncing the copy (seconds for a large index) holds no lock; a crash before
  // the rename leaves the previous snapshot, and recovery replays what is past either.
  if (copy != nullptr) {
    GREFFIER_RETURN_IF_ERROR(copy->WriteSnapshot(SnapshotPath(), info));
    copy.reset();  // freed before waiting for the lock
  }
  std::unique_lock lock(mu_);
  return FinishSnapshotLocked(info, counted);
}

absl::StatusOr<size_t> Index::DeleteDocument(uint64_t document_id) {
  std::unique_lock lock(mu_);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), docs_, EncodeId(document_id), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("document ", document_id, " does not exist"));
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read document"));
  GREFFIER_ASSIGN_OR_RETURN(DocumentRecord doc, DecodeDocument(value));
  const uint64_t saved_seq = mutation_seq_;
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string, int64_t> df_delta;
  std::vector<std::pair<uint64_t, std::vector<std::string>>> removed_terms;
  absl::Status deleted = DeleteInBatch(doc, batch, df_delta, &removed_terms);
  std::vector<std::pair<std::string, uint64_t>> df_updated;
  if (deleted.ok()) ApplyDfDelta(df_delta, batch, &df_updated);
  if (!deleted.ok()) {
    mutation_seq_ = saved_seq;
    return deleted;
  }
  // The source mapping goes only if it still points at this document.
  std::string src;
  if (db_->Get(rocksdb::ReadOptions(), sources_, doc.source_path, &src).ok() &&
      src == EncodeId(doc.id)) {
    batch.Delete(sources_, doc.source_path);
  }
  absl::Status written = FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "delete document");
  if (!written.ok()) {
    mutation_seq_ = saved_seq;
    return written;
  }
  CommitDf(df_updated);
  for (const auto& [pid, terms] : removed_terms) inverted_->Remove(pid, terms);
  absl::Status r = vectors_index_->Remove(doc.passage_ids);
  if (!r.ok()) std::fprintf(stderr, "greffier: %s\n", r.ToString().c_str());
  for (uint64_t pid : doc.passage_ids) {
    auto it = passage_info_.find(pid);
    if (it == passage_info_.end()) continue;
    total_length_ -= it->second.length;
    passage_info_.erase(it);
  }
  docs_info_.erase(doc.id);
  changes_since_snapshot_ += doc.passage_ids.size();
  return doc.passage_ids.size();
}

absl::StatusOr<DocumentRecord> Index::GetDocument(uint64_t document_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), docs_, EncodeId(document_id), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("document ", document_id, " does not exist"));
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read document"));
  return DecodeDocument(value);
}

absl::StatusOr<PassageRecord> Index::GetPassage(uint64_t passage_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), passages_, EncodeId(passage_id), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("passage ", passage_id, " does not exist"));
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read passage"));
  return DecodePassage(value);
}

absl::StatusOr<std::vector<DocumentRecord>> Index::ListDocuments(uint64_t after_id, size_t limit,
                                                                 const SearchFilter& filter) const {
  std::vector<DocumentRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), docs_));
  for (it->Seek(EncodeId(after_id + 1)); it->Valid() && out.size() < limit; it->Next()) {
    GREFFIER_ASSIGN_OR_RETURN(DocumentRecord doc, DecodeDocument(it->value().ToStringView()));
    DocInfo info{doc.collection, doc.document_type, doc.date, doc.access_labels, doc.extra};
    if (!Visible(info, filter)) continue;
    if (!filter.document_ids.empty() &&
        std::find(filter.document_ids.begin(), filter.document_ids.end(), doc.id) ==
            filter.document_ids.end()) {
      continue;
    }
    out.push_back(std::move(doc));
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(it->status(), "list documents"));
  return out;
}

absl::StatusOr<std::optional<uint64_t>> Index::FindByContentHash(const std::string& hash) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), hashes_, hash, &value);
  if (s.IsNotFound()) return std::optional<uint64_t>();
  GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read content hash"));
  GREFFIER_ASSIGN_OR_RETURN(uint64_t id, DecodeId(value));
  return std::optional<uint64_t>(id);
}

absl::StatusOr<std::optional<uint64_t>> Index::FindBySource(const std::string& source) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), sources_, source, &value);
  if (s.IsNotFound()) return std::optional<uint64_t>();
  GREFFIER_RETURN_IF_ERROR(FromRocks(s, "read source"));
  GREFFIER_ASSIGN_OR_RETURN(uint64_t id, DecodeId(value));
  return std::optional<uint64_t>(id);
}

bool Index::Visible(const DocInfo& info, const SearchFilter& f) const {
  for (const auto& label : f.ignore_labels ? std::vector<std::string>() : info.labels) {
    if (std::find(f.caller_labels.begin(), f.caller_labels.end(), label) == f.caller_labels.end()) {
      return false;
    }
  }
  if (!f.collections.empty() && std::find(f.collections.begin(), f.collections.end(),
                                          info.collection) == f.collections.end()) {
    return false;
  }
  if (!f.document_types.empty() && std::find(f.document_types.begin(), f.document_types.end(),
                                             info.document_type) == f.document_types.end()) {
    return false;
  }
  if (!f.date_from.empty() && (info.date.empty() || info.date < f.date_from)) return false;
  if (!f.date_to.empty() && (info.date.empty() || info.date > f.date_to)) return false;
  for (const auto& kv : f.metadata) {
    if (std::find(info.extra.begin(), info.extra.end(), kv) == info.extra.end()) return false;
  }
  return true;
}

bool Index::VisibleLocked(uint64_t document_id, const SearchFilter& filter) const {
  auto it = docs_info_.find(document_id);
  if (it == docs_info_.end()) return false;
  if (!filter.document_ids.empty() &&
      std::find(filter.document_ids.begin(), filter.document_ids.end(), document_id) ==
          filter.document_ids.end()) {
    return false;
  }
  return Visible(it->second, filter);
}

bool Index::DocumentVisible(uint64_t document_id, const SearchFilter& filter) const {
  std::shared_lock lock(mu_);
  return VisibleLocked(document_id, filter);
}

absl::StatusOr<std::vector<Index::Hit>> Index::SearchDense(const std::vector<float>& query,
                                                           size_t k,
                                                           const SearchFilter& filter) const {
  if (query.size() != static_cast<size_t>(options_.dimension)) {
    return absl::InvalidArgumentError(absl::StrCat("query vector has dimension ", query.size(),
                                                   ", expected ", options_.dimension));
  }
  std::shared_lock lock(mu_);
  std::function<bool(uint64_t)> allow = [&](uint64_t pid) {
    auto it = passage_info_.find(pid);
    return it != passage_info_.end() && VisibleLocked(it->second.document_id, filter);
  };
  GREFFIER_ASSIGN_OR_RETURN(std::vector<VectorIndex::Hit> hits,
                            vectors_index_->Search(query.data(), k, allow));
  std::vector<Hit> out;
  out.reserve(hits.size());
  for (const auto& h : hits) out.push_back({h.id, h.score});
  return out;
}

absl::StatusOr<std::vector<Index::Hit>> Index::SearchLexical(const std::string& query, size_t k,
                                                             const SearchFilter& filter) const {
  GREFFIER_ASSIGN_OR_RETURN(std::unique_ptr<FrenchAnalyzer> analyzer, FrenchAnalyzer::Create());
  std::vector<std::string> terms = analyzer->AnalyzeToStrings(query);
  std::shared_lock lock(mu_);
  Bm25Searcher::Options bm25;
  bm25.dynamic_pruning = options_.bm25_dynamic_pruning;
  Bm25Searcher searcher(postings_source_.get(), bm25);
  GREFFIER_ASSIGN_OR_RETURN(
      std::vector<ScoredPassage> scored, searcher.Search(terms, k, [&](uint64_t pid) {
        auto it = passage_info_.find(pid);
        return it != passage_info_.end() && VisibleLocked(it->second.document_id, filter);
      }));
  std::vector<Hit> out;
  out.reserve(scored.size());
  for (const auto& s : scored) out.push_back({s.passage_id, static_cast<float>(s.score)});
  return out;
}

absl::StatusOr<double> Index::QueryCoverage(const std::string& query, uint64_t passage_id) const {
  GREFFIER_ASSIGN_OR_RETURN(PassageRecord passage, GetPassage(passage_id));
  GREFFIER_ASSIGN_OR_RETURN(DocumentRecord doc, GetDocument(passage.document_id));
  return QueryCoverage(query, passage, doc);
}

namespace {

// Terms shorter than this are never matched with an edit: "mer" and "ver" are different words.
constexpr size_t kMinTypoTermBytes = 5;

// Whether b is a one substitution, insertion, deletion or adjacent swap away from a (bytes).
bool WithinOneEdit(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1 || a.size() < kMinTypoTermBytes - 1) return false;
  size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (i == a.size()) return true;  // equal, or b has one more byte at the end
  if (a.size() == b.size()) {
    if (a.substr(i + 1) == b.substr(i + 1)) return true;  // substitution
    return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           a.substr(i + 2) == b.substr(i + 2);  // swap
  }
  return a.substr(i) == b.substr(i + 1);  // b has one more byte at i
}

}  // namespace

absl::StatusOr<double> Index::QueryCoverage(const std::string& query, const PassageRecord& passage,
                                            const DocumentRecord& document) const {
  GREFFIER_ASSIGN_OR_RETURN(std::unique_ptr<FrenchAnalyzer> analyzer, FrenchAnalyzer::Create());
  std::vector<std::string> terms = analyzer->AnalyzeToStrings(query);
  std::vector<std::string> passage_terms =
      analyzer->AnalyzeToStrings(IndexedText(document.title, passage));
  std::sort(passage_terms.begin(), passage_terms.end());
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  std::shared_lock lock(mu_);
  const double n = static_cast<double>(std::max<size_t>(1, passage_info_.size()));
  double total = 0, covered = 0;
  for (const auto& t : terms) {
    GREFFIER_ASSIGN_OR_RETURN(uint64_t df, postings_source_->DocumentFrequency(t));
    const double d = static_cast<double>(df);
    const double idf = std::log(1.0 + (n - d + 0.5) / (d + 0.5));
    total += idf;
    if (std::binary_search(passage_terms.begin(), passage_terms.end(), t)) {
      covered += idf;
    } else if (t.size() >= kMinTypoTermBytes) {
      // Volunteers misspell ("allemendes", "accronyme"): a misspelt term is unknown to the
      // index and so weighs the most, yet the passage holds it one edit away.
      for (const auto& p : passage_terms) {
        if (WithinOneEdit(t, p)) {
          covered += idf;
          break;
        }
      }
    }
  }
  return total > 0 ? covered / total : 0.0;
}

SnapshotInfo Index::CurrentSnapshotInfoLocked() const {
  SnapshotInfo info;
  info.watermark = next_passage_id_ - 1;
  info.mutation_seq = mutation_seq_;
  return info;
}

absl::Status Index::SnapshotLocked() {
  const SnapshotInfo info = CurrentSnapshotInfoLocked();
  GREFFIER_RETURN_IF_ERROR(vectors_index_->WriteSnapshot(SnapshotPath(), info));
  return FinishSnapshotLocked(info, changes_since_snapshot_);
}

std::string Index::SnapshotPath() const {
  return (std::filesystem::path(options_.path) / kSnapshotFile).string();
}

absl::Status Index::FinishSnapshotLocked(const SnapshotInfo& info, uint64_t counted) {
  // Changes made while the file was written are not in it: they count toward the next one.
  changes_since_snapshot_ -= std::min(counted, changes_since_snapshot_);
  // Tombstones the snapshot already reflects are no longer needed for recovery.
  // A growth running in the background replays the deletions after the state it copied.
  const uint64_t prune_to =
      growth_running_ ? std::min(info.mutation_seq, growth_mutation_seq_) : info.mutation_seq;
  if (prune_to > 0) {
    GREFFIER_RETURN_IF_ERROR(FromRocks(
        db_->DeleteRange(rocksdb::WriteOptions(), tombstones_, EncodeId(0), EncodeId(prune_to + 1)),
        "prune tombstones"));
  }
  return absl::OkStatus();
}

VectorIndexOptions Index::VectorOptions(int dimension) const {
  VectorIndexOptions o;
  o.dimension = dimension;
  o.factory = options_.faiss_factory;
  o.auto_flat_limit = options_.faiss_auto_flat_limit;
  o.auto_compress_limit = options_.faiss_auto_compress_limit;
  o.nprobe = options_.faiss_nprobe;
  o.hnsw_ef_search = options_.faiss_hnsw_ef_search;
  o.hnsw_ef_construction = options_.faiss_hnsw_ef_construction;
  return o;
}

void Index::MaybeStartGrowth() {
  if (growth_running_ || options_.read_only || !vectors_index_->NeedsGrowth()) return;
  // The copy is taken under the write lock, so it is exactly the state at (watermark, seq).
  absl::StatusOr<std::optional<VectorIndex::Growth>> growth = vectors_index_->PrepareGrowth();
  if (!growth.ok() || !growth->has_value()) {
    if (!growth.ok()) std::fprintf(stderr, "greffier: %s\n", growth.status().ToString().c_str());
    return;
  }
  growth_running_ = true;
  growth_mutation_seq_ = mutation_seq_;
  std::lock_guard thread_lock(growth_thread_mu_);
  if (growth_thread_.joinable()) growth_thread_.join();  // the previous one has finished
  growth_thread_ = std::thread(&Index::RunGrowth, this, std::move(**growth), vectors_index_.get(),
                               next_passage_id_ - 1, mutation_seq_);
}

void Index::MaybeStartSnapshot() {
  if (snapshot_running_ || !SnapshotDueLocked()) return;
  snapshot_running_ = true;
  std::lock_guard thread_lock(growth_thread_mu_);
  if (snapshot_thread_.joinable()) snapshot_thread_.join();  // the previous one has finished
  snapshot_thread_ = std::thread([this] {
    absl::Status snap = SnapshotShared(/*only_if_due=*/true);
    if (!snap.ok()) std::fprintf(stderr, "greffier: %s\n", snap.ToString().c_str());
    std::unique_lock lock(mu_);
    snapshot_running_ = false;
  });
}

void Index::RunGrowth(VectorIndex::Growth growth, const VectorIndex* source, uint64_t watermark,
                      uint64_t mutation_seq) {
  absl::StatusOr<std::unique_ptr<VectorIndex>> built = growth.Run();
  if (options_.faiss_growth_hook_for_testing) options_.faiss_growth_hook_for_testing();
  absl::Status replayed = built.status();
  if (replayed.ok()) {
    // What was written while training is replayed without the lock, up to the state read
    // here; only what comes after is replayed under it.
    SnapshotInfo upto;
    bool replaced = false;
    {
      std::shared_lock lock(mu_);
      replaced = vectors_index_.get() != source;
      upto = CurrentSnapshotInfoLocked();
    }
    if (!replaced) {
      uint64_t changes = 0;
      replayed =
          ReplayInto(**built, watermark, mutation_seq, &changes, upto.watermark, upto.mutation_seq);
      watermark = std::max(watermark, upto.watermark);
      mutation_seq = std::max(mutation_seq, upto.mutation_seq);
    }
    if (options_.faiss_growth_replay_hook_for_testing) {
      options_.faiss_growth_replay_hook_for_testing();
    }
  }
  std::unique_lock lock(mu_);
  growth_running_ = false;
  if (!built.ok()) {
    std::fprintf(stderr, "greffier: vector index growth: %s\n", built.status().ToString().c_str());
    return;
  }
  if (vectors_index_.get() != source) return;  // replaced meanwhile (re-embedding)
  uint64_t changes = 0;
  if (replayed.ok()) replayed = ReplayInto(**built, watermark, mutation_seq, &changes);
  if (!replayed.ok()) {
    std::fprintf(stderr, "greffier: vector index growth: %s\n", replayed.ToString().c_str());
    return;
  }
  vectors_index_ = std::move(*built);
  ++changes_since_snapshot_;  // the next snapshot saves the new index
}

void Index::WaitForBackgroundWork() {
  std::thread growth, snapshot;
  {
    std::lock_guard thread_lock(growth_thread_mu_);
    growth = std::move(growth_thread_);
    snapshot = std::move(snapshot_thread_);
  }
  if (growth.joinable()) growth.join();
  if (snapshot.joinable()) snapshot.join();
}

absl::Status Index::Snapshot() { return SnapshotShared(/*only_if_due=*/false); }

absl::Status Index::Reembed(const std::string& embedder_id, int dimension,
                            const std::function<absl::StatusOr<std::vector<float>>(
                                const PassageRecord&, const DocumentRecord&)>& embed) {
  if (options_.read_only) return absl::FailedPreconditionError("index opened read-only");
  if (dimension <= 0) return absl::InvalidArgumentError("re-embed: dimension must be positive");
  WaitForBackgroundWork();  // a growth started after this finds its source replaced
  std::lock_guard snapshot_lock(snapshot_mu_);
  std::unique_lock lock(mu_);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  GREFFIER_RETURN_IF_ERROR(
      FromRocks(db_->Put(sync, meta_, kReembedKey, embedder_id), "mark re-embedding"));
  // The old snapshot holds the old vectors: it must not be loaded again.
  std::error_code ec;
  std::filesystem::remove(std::filesystem::path(options_.path) / kSnapshotFile, ec);
  GREFFIER_ASSIGN_OR_RETURN(std::unique_ptr<VectorIndex> fresh,
                            VectorIndex::Create(VectorOptions(dimension)));
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), docs_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    GREFFIER_ASSIGN_OR_RETURN(DocumentRecord doc, DecodeDocument(it->value().ToStringView()));
    rocksdb::WriteBatch batch;
    std::vector<uint64_t> ids;
    std::vector<float> flat;
    for (uint64_t pid : doc.passage_ids) {
      GREFFIER_ASSIGN_OR_RETURN(PassageRecord p, GetPassage(pid));
      GREFFIER_ASSIGN_OR_RETURN(std::vector<float> v, embed(p, doc));
      if (v.size() != static_cast<size_t>(dimension)) {
        return absl::InvalidArgumentError(
            absl::StrCat("re-embed: vector of dimension ", v.size(), ", expected ", dimension));
      }
      batch.Put(vectors_, EncodeId(pid), EncodeVector(v));
      ids.push_back(pid);
      flat.insert(flat.end(), v.begin(), v.end());
    }
    GREFFIER_RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "re-embed"));
    GREFFIER_RETURN_IF_ERROR(fresh->Add(ids, flat));
  }
  GREFFIER_RETURN_IF_ERROR(FromRocks(it->status(), "scan documents"));
  rocksdb::WriteBatch done;
  done.Put(meta_, kEmbedderKey, embedder_id);
  done.Put(meta_, kDimensionKey, EncodeU64(static_cast<uint64_t>(dimension)));
  done.Delete(meta_, kReembedKey);
  GREFFIER_RETURN_IF_ERROR(FromRocks(db_->Write(sync, &done), "finish re-embedding"));
  options_.embedder_id = embedder_id;
  options_.dimension = dimension;
  fresh->set_background_growth(options_.faiss_background_growth);
  vectors_index_ = std::move(fresh);
  return SnapshotLocked();
}

IndexStats Index::Stats() const {
  std::shared_lock lock(mu_);
  IndexStats stats;
  stats.documents = docs_info_.size();
  stats.passages = passage_info_.size();
  stats.vectors = vectors_index_->size();
  stats.postings_bytes = inverted_->MemoryBytes();
  stats.vector_index = vectors_index_->description();
  return stats;
}

}  // namespace greffier::index
