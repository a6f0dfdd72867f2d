#ifndef GREFFIER_INDEX_VECTOR_INDEX_H_
#define GREFFIER_INDEX_VECTOR_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faiss {
struct Index;
}

namespace greffier::index {

struct VectorIndexOptions {
  // Vector dimension. Default: none (required, > 0).
  int dimension = 0;
  // FAISS factory description of the index, e.g. "Flat", "HNSW32", "IVF1024,Flat", or "auto".
  // Factories that need training start as exact search and are trained on the vectors held
  // once there are 39 per centroid (FAISS's minimum). "auto" means
  // exact search ("Flat") below `auto_flat_limit` vectors, then an inverted file
  // "IVF<nlist>,Flat" trained on the vectors held, nlist the power of two at most
  // 4·sqrt(vectors), retrained when that doubles, and from `auto_compress_limit` vectors
  // "IVF<nlist>,SQ8" (8-bit codes: a quarter of the memory). IVF indexes hold passage ids
  // themselves; the others sit under an IndexIDMap2. Default: "auto".
  std::string factory = "auto";
  // With "auto", vectors held before switching from exact search to IVF. Default: 100000.
  uint64_t auto_flat_limit = 100000;
  // With "auto", vectors held before IVF stores 8-bit scalar-quantised codes instead of
  // floats (1M vectors of 256 dimensions: 1 GiB as floats, 256 MiB as codes; recall@10 in
  // the issue note). 0: never. Default: 2000000.
  uint64_t auto_compress_limit = 2000000;
  // Inverted lists visited per IVF search (0: nlist / 32, at least 16; recall@10 of 1.00
  // against exact search on scale_bench's clustered vectors at 1M). Default: 0.
  int nprobe = 0;
  // HNSW candidate list when searching (at least 4·k) and when inserting. FAISS's defaults
  // are 16 and 40. Default: 128 and 80.
  int hnsw_ef_search = 128;
  int hnsw_ef_construction = 80;
};

// What a snapshot file says about the state it captured.
struct SnapshotInfo {
  uint64_t watermark = 0;     // highest passage id the snapshot contains
  uint64_t mutation_seq = 0;  // deletions applied up to this sequence number
};

// A FAISS index of unit vectors under their passage ids (IndexIDMap2), searched by inner
// product. Snapshots are files with a magic, a version, the watermark and FAISS's own bytes.
// Thread-compatible: callers serialise writers against readers (Index does).
class VectorIndex {
 public:
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Create(const VectorIndexOptions& options);
  // Loads a snapshot written by WriteSnapshot. NotFound when the file does not
  // exist. The snapshot's own index type is kept; `options` give the search settings and, with
  // "auto", let it grow into IVF (options.dimension is not used).
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Load(const std::string& path,
                                                           const VectorIndexOptions& options,
                                                           SnapshotInfo* info);
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Load(const std::string& path,
                                                           SnapshotInfo* info) {
    return Load(path, VectorIndexOptions(), info);
  }
  ~VectorIndex();

  absl::Status Add(const std::vector<uint64_t>& ids, const std::vector<float>& flat_vectors);
  absl::Status Remove(const std::vector<uint64_t>& ids);
  struct Hit {
    uint64_t id;
    float score;
  };
  // Top-k by inner product among ids accepted by `allow` (all when empty); the filter runs
  // inside FAISS's search, so excluded ids never take a result slot.
  absl::StatusOr<std::vector<Hit>> Search(const float* query, size_t k,
                                          const std::function<bool(uint64_t)>& allow) const;
  // Writes a snapshot atomically (temporary file, fsync, rename), streaming FAISS's bytes to
  // the file and starting writeback every few MiB (as RocksDB's bytes_per_sync does), so the
  // final fsync is short and other synced writes on the disk (the RocksDB log) do not queue
  // behind a gigabyte of dirty pages.
  absl::Status WriteSnapshot(const std::string& path, const SnapshotInfo& info) const;
  // A deep copy to snapshot from while the original keeps changing: copying memory is several
  // times faster than serialising it. Unimplemented for index types FAISS cannot clone.
  absl::StatusOr<std::unique_ptr<VectorIndex>> Clone() const;

  // Growth: "auto" switching to IVF or retraining it, or training a pending factory (see
  // VectorIndexOptions). By default Add does it inline. With background growth on, Add never
  // does; the owner asks NeedsGrowth, takes a copy with PrepareGrowth (under its lock),
  // runs it without the lock, and replaces this index with the result after replaying what
  // changed meanwhile.
  void set_background_growth(bool on) { background_growth_ = on; }
  bool NeedsGrowth() const;
  class Growth {
   public:
    Growth();
    Growth(Growth&&);
    Growth& operator=(Growth&&);
    ~Growth();
    // Trains and fills the new index (seconds to minutes: call without locks).
    absl::StatusOr<std::unique_ptr<VectorIndex>> Run();

   private:
    friend class VectorIndex;
    std::unique_ptr<faiss::Index> fresh_;
    size_t max_sample_ = 0;
    std::vector<int64_t> ids_;
    std::vector<float> flat_;
    int dimension_ = 0;
    VectorIndexOptions options_;
    bool background_growth_ = false;
  };
  // A copy of every vector and the index to build; nullopt when no growth is due.
  absl::StatusOr<std::optional<Growth>> PrepareGrowth() const;

  int dimension() const { return dimension_; }
  uint64_t size() const;
  // The index in use, e.g. "Flat", "IVF2048,Flat nprobe=128", "HNSW32".
  std::string description() const;

 private:
  VectorIndex(std::unique_ptr<faiss::Index> index, int dimension,
              const VectorIndexOptions& options);
  // Growth inside Add, unless background growth is on.
  absl::Status MaybeGrow();
  // The empty index growth would build, with its training sample size; nullptr when the
  // current index is right for its size.
  absl::Status PlanGrowth(std::unique_ptr<faiss::Index>* fresh, size_t* max_sample) const;
  // Every (id, vector) held, for a rebuild.
  absl::Status Extract(std::vector<int64_t>* ids, std::vector<float>* flat) const;
  int Nprobe(size_t nlist) const;

  std::unique_ptr<faiss::Index> index_;
  int dimension_;
  VectorIndexOptions options_;
  // An explicit factory that needs training, and the size at which it is trained.
  std::string pending_factory_;
  uint64_t pending_train_at_ = 0;
  bool background_growth_ = false;
};

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_VECTOR_INDEX_H_
