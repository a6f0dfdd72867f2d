#ifndef GREFFIER_INDEX_INDEX_H_
#define GREFFIER_INDEX_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "index/records.h"
#include "index/vector_index.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace greffier::index {

class AuditLog;
class FrenchAnalyzer;
class InvertedLists;
class RocksPostings;

struct IndexOptions {
  // Data directory (created when missing). Default: none (required).
  std::string path;
  // Identity of the embedder that produced the vectors; opening an index built by another
  // embedder is an error. Default: none (required).
  std::string embedder_id;
  // Dimension of the embedder's vectors. Default: none (required, > 0).
  int dimension = 0;
  // FAISS index, as a factory description ("Flat", "HNSW32", "IVF4096,Flat"...), or "auto":
  // exact search below `faiss_auto_flat_limit` vectors, then IVF sized and trained for the
  // corpus (see VectorIndexOptions). A snapshot keeps the index type it was written with.
  // Default: "auto".
  std::string faiss_factory = "auto";
  // With "auto", vectors held before exact search gives way to IVF. Default: 100000.
  uint64_t faiss_auto_flat_limit = 100000;
  // With "auto", vectors held before IVF keeps 8-bit codes instead of floats (a quarter of
  // the memory); 0: never. Default: 2000000.
  uint64_t faiss_auto_compress_limit = 2000000;
  // BM25 skips passages that cannot enter the top k (MaxScore over the postings held in
  // memory); false scores every posting read from RocksDB. Same results either way.
  // Default: true.
  bool bm25_dynamic_pruning = true;
  // Train or retrain FAISS (see faiss_factory) on a background thread while searches and
  // writes go on; the new index replays what changed meanwhile before it replaces the old.
  // false: inside the write that makes it due, holding the write lock. Default: true.
  bool faiss_background_growth = true;
  // Tests only: called by the background FAISS growth once the new index is built, before it
  // takes the write lock to replay changes and swap. Default: none.
  std::function<void()> faiss_growth_hook_for_testing;
  // Tests only: called by the background growth after it replayed, without the lock, what was
  // written while it trained, and before it takes the write lock for the rest. Default: none.
  std::function<void()> faiss_growth_replay_hook_for_testing;
  // IVF lists visited per search (0: automatic, nlist / 32 and at least 16). Default: 0.
  int faiss_nprobe = 0;
  // HNSW candidate lists when searching and inserting (see VectorIndexOptions).
  // Default: 128 and 80.
  int faiss_hnsw_ef_search = 128;
  int faiss_hnsw_ef_construction = 80;
  // Passages added or deleted between two automatic FAISS snapshots, or an eighth of the
  // vectors held when that is more (a snapshot rewrites the whole index). Default: 20000.
  uint64_t snapshot_every = 20000;
  // Open without taking the directory's lock, for tools (audit export, evaluation) that run
  // beside a live server: writes fail, and the view is the one at open time.
  // Default: false.
  bool read_only = false;
  // Accept whatever embedder the directory was built with (its identity and dimension
  // replace the two fields above); for tools that only read. Default: false.
  bool any_embedder = false;
};

// Restricts retrieval; applied inside the search, never after it.
struct SearchFilter {
  std::vector<std::string> collections;                       // any of; empty: all
  std::vector<std::string> document_types;                    // any of; empty: all
  std::string date_from;                                      // inclusive YYYY-MM-DD; empty: open
  std::string date_to;                                        // inclusive YYYY-MM-DD; empty: open
  std::vector<std::pair<std::string, std::string>> metadata;  // all must match
  std::vector<uint64_t> document_ids;                         // any of; empty: all
  // Labels the caller holds: a document is visible only when every label it requires is
  // among them.
  std::vector<std::string> caller_labels;
  // Internal maintenance (re-embedding, evaluation) sees every document. Never set from a
  // request. Default: false.
  bool ignore_labels = false;
};

struct IndexStats {
  uint64_t documents = 0;
  uint64_t passages = 0;
  uint64_t vectors = 0;
  // Heap bytes of the in-memory BM25 postings.
  uint64_t postings_bytes = 0;
  // The FAISS index in use, as a factory description.
  std::string vector_index;
};

// The durable store of greffier: documents, passages, vectors (RocksDB) and the FAISS index
// that caches the vectors. Every document is written in one RocksDB WriteBatch; FAISS is
// updated after the batch commits and rebuilt on open from what the snapshot lacks, so the
// two never disagree after a crash.
// Thread-safe: reads run concurrently; writes are serialised.
class Index {
 public:
  static absl::StatusOr<std::unique_ptr<Index>> Open(const IndexOptions& options);
  ~Index();  // snapshots FAISS when anything changed since the last snapshot

  struct AddResult {
    uint64_t document_id = 0;
    std::vector<uint64_t> passage_ids;
  };
  // Stores a document with its passages and their vectors (one per passage), assigning ids.
  // When `replace` names a stored document, it is removed in the same batch.
  absl::StatusOr<AddResult> AddDocument(DocumentRecord doc, std::vector<PassageRecord> passages,
                                        const std::vector<std::vector<float>>& vectors,
                                        std::optional<uint64_t> replace);
  // Removes a document, its passages and vectors. Returns the number of passages removed.
  absl::StatusOr<size_t> DeleteDocument(uint64_t document_id);

  absl::StatusOr<DocumentRecord> GetDocument(uint64_t document_id) const;
  absl::StatusOr<PassageRecord> GetPassage(uint64_t passage_id) const;
  // Documents with id > after_id, in id order, at most `limit`, matching `filter`.
  absl::StatusOr<std::vector<DocumentRecord>> ListDocuments(uint64_t after_id, size_t limit,
                                                            const SearchFilter& filter) const;
  absl::StatusOr<std::optional<uint64_t>> FindByContentHash(const std::string& hash) const;
  absl::StatusOr<std::optional<uint64_t>> FindBySource(const std::string& source_path) const;

  struct Hit {
    uint64_t passage_id;
    float score;
  };
  absl::StatusOr<std::vector<Hit>> SearchDense(const std::vector<float>& query, size_t k,
                                               const SearchFilter& filter) const;
  // BM25 over the French analysis of title, section path and text.
  absl::StatusOr<std::vector<Hit>> SearchLexical(const std::string& query, size_t k,
                                                 const SearchFilter& filter) const;
  // Share (0..1) of the query's idf weight whose terms occur in the passage: an absolute
  // measure of lexical evidence, unlike BM25 scores which depend on the query.
  absl::StatusOr<double> QueryCoverage(const std::string& query, uint64_t passage_id) const;
  // The same, for a passage and document already read.
  absl::StatusOr<double> QueryCoverage(const std::string& query, const PassageRecord& passage,
                                       const DocumentRecord& document) const;
  // Whether the caller's filter lets it see the document (labels included).
  bool DocumentVisible(uint64_t document_id, const SearchFilter& filter) const;

  // Writes the FAISS snapshot now.
  absl::Status Snapshot();
  // Waits for background FAISS work (training, retraining, a snapshot) to finish. Call
  // without holding anything of the index.
  void WaitForBackgroundWork();

  // Replaces every stored vector with `embed(passage, document)` and switches the index to
  // the embedder `embedder_id` of dimension `dimension`, rebuilding FAISS. An interrupted
  // run leaves the directory marked, and opening it asks for the command to be run again.
  absl::Status Reembed(const std::string& embedder_id, int dimension,
                       const std::function<absl::StatusOr<std::vector<float>>(
                           const PassageRecord&, const DocumentRecord&)>& embed);
  // Identity of the embedder the stored vectors come from.
  const std::string& embedder_id() const { return options_.embedder_id; }
  int dimension() const { return options_.dimension; }
  IndexStats Stats() const;
  // The hash-chained audit log stored with the index.
  AuditLog& audit() const { return *audit_log_; }
  const std::string& path() const { return options_.path; }

 private:
  struct DocInfo {
    std::string collection;
    std::string document_type;
    std::string date;
    std::vector<std::string> labels;
    std::vector<std::pair<std::string, std::string>> extra;
  };

  explicit Index(const IndexOptions& options);
  absl::Status OpenDb();
  absl::Status CheckEmbedder();
  absl::Status LoadCatalog();
  absl::Status RecoverVectors();
  // Adds the vectors stored past `watermark` (up to `watermark_end`) and removes those
  // deleted after `mutation_seq` (up to `seq_end`); `changes` counts both.
  absl::Status ReplayInto(VectorIndex& vectors, uint64_t watermark, uint64_t mutation_seq,
                          uint64_t* changes, uint64_t watermark_end = UINT64_MAX,
                          uint64_t seq_end = UINT64_MAX) const;
  // Under the write lock: starts the background growth when it is due.
  void MaybeStartGrowth();
  // Under the write lock: when a snapshot is due and none is being taken, takes one on a
  // background thread, so the write that made it due does not wait for the file.
  void MaybeStartSnapshot();
  void RunGrowth(VectorIndex::Growth growth, const VectorIndex* source, uint64_t watermark,
                 uint64_t mutation_seq);
  // Writes the snapshot. Requires snapshot_mu_ and mu_ held exclusively.
  absl::Status SnapshotLocked();
  bool SnapshotDueLocked() const;
  // Takes snapshot_mu_, then mu_ shared while FAISS is copied in memory, no lock while the
  // copy is written and synced, and mu_ exclusively for the bookkeeping after.
  absl::Status SnapshotShared(bool only_if_due);
  std::string SnapshotPath() const;
  // The (watermark, mutation sequence) of the state held now. Requires mu_ (shared suffices).
  SnapshotInfo CurrentSnapshotInfoLocked() const;
  // Requires snapshot_mu_ and mu_ exclusively: the snapshot is durable; resets the change
  // count by what it holds and prunes the tombstones it reflects.
  absl::Status FinishSnapshotLocked(const SnapshotInfo& info, uint64_t counted);
  VectorIndexOptions VectorOptions(int dimension) const;
  absl::StatusOr<uint64_t> ReadCounter(const std::string& key) const;
  // Adds the deletion of `doc` (passages, vectors, postings, lookups) to `batch`; document
  // frequency changes go to `df_delta`.
  // The distinct terms of each removed passage go to `removed`, for the postings in memory.
  absl::Status DeleteInBatch(const DocumentRecord& doc, rocksdb::WriteBatch& batch,
                             std::unordered_map<std::string, int64_t>& df_delta,
                             std::vector<std::pair<uint64_t, std::vector<std::string>>>* removed);
  // Term frequencies of a passage as indexed (title + section path + text).
  std::unordered_map<std::string, uint32_t> PassageTerms(const std::string& title,
                                                         const PassageRecord& p) const;
  // Writes the new document frequencies to `batch`; `updated` gets them for CommitDf once
  // the batch is written.
  void ApplyDfDelta(const std::unordered_map<std::string, int64_t>& df_delta,
                    rocksdb::WriteBatch& batch,
                    std::vector<std::pair<std::string, uint64_t>>* updated);
  void CommitDf(const std::vector<std::pair<std::string, uint64_t>>& updated);
  absl::Status CheckAnalyzer();
  bool Visible(const DocInfo& info, const SearchFilter& filter) const;
  bool VisibleLocked(uint64_t document_id, const SearchFilter& filter) const;

  IndexOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* docs_ = nullptr;
  rocksdb::ColumnFamilyHandle* passages_ = nullptr;
  rocksdb::ColumnFamilyHandle* vectors_ = nullptr;
  rocksdb::ColumnFamilyHandle* sources_ = nullptr;
  rocksdb::ColumnFamilyHandle* hashes_ = nullptr;
  rocksdb::ColumnFamilyHandle* tombstones_ = nullptr;
  rocksdb::ColumnFamilyHandle* postings_ = nullptr;
  rocksdb::ColumnFamilyHandle* termstats_ = nullptr;
  rocksdb::ColumnFamilyHandle* lengths_ = nullptr;
  // Used by writers only (under mu_ exclusively); queries make their own.
  std::unique_ptr<FrenchAnalyzer> write_analyzer_;
  std::unique_ptr<RocksPostings> postings_source_;
  std::unique_ptr<AuditLog> audit_log_;

  // One snapshot at a time; always taken before mu_.
  std::mutex snapshot_mu_;
  mutable std::shared_mutex mu_;  // guards everything below and the FAISS index
  std::unique_ptr<VectorIndex> vectors_index_;
  std::unordered_map<uint64_t, DocInfo> docs_info_;
  struct PassageInfo {
    uint64_t document_id;
    uint32_t length;  // indexed terms, for BM25
  };
  std::unordered_map<uint64_t, PassageInfo> passage_info_;
  uint64_t total_length_ = 0;
  // Document frequency of every indexed term (mirrors the termstats family).
  std::unordered_map<std::string, uint64_t> doc_freq_;
  // The postings family in memory (loaded at open, maintained by writes): what BM25 reads.
  std::unique_ptr<InvertedLists> inverted_;
  uint64_t next_doc_id_ = 1;
  uint64_t next_passage_id_ = 1;
  uint64_t mutation_seq_ = 0;
  uint64_t changes_since_snapshot_ = 0;
  // Background growth of the FAISS index: running, and the state it copied.
  bool growth_running_ = false;
  bool snapshot_running_ = false;  // a due snapshot is being taken on snapshot_thread_
  uint64_t growth_mutation_seq_ = 0;
  // Guards growth_thread_ and snapshot_thread_ (taken after mu_, never before).
  std::mutex growth_thread_mu_;
  std::thread growth_thread_;
  std::thread snapshot_thread_;

  friend class RocksPostings;
};

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_INDEX_H_
