#ifndef GREFFIER_INDEX_VECTOR_INDEX_H_
#define GREFFIER_INDEX_VECTOR_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
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
  // FAISS factory description of the index under the id map, e.g. "Flat", "HNSW32".
  // Default: "Flat" (exact inner-product search).
  std::string factory = "Flat";
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
  // Loads a snapshot written by Save. NotFound when the file does not exist.
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Load(const std::string& path,
                                                           SnapshotInfo* info);
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
  // Writes atomically (temporary file, fsync, rename).
  absl::Status Save(const std::string& path, const SnapshotInfo& info) const;

  int dimension() const { return dimension_; }
  uint64_t size() const;

 private:
  VectorIndex(std::unique_ptr<faiss::Index> index, int dimension);
  std::unique_ptr<faiss::Index> index_;
  int dimension_;
};

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_VECTOR_INDEX_H_
