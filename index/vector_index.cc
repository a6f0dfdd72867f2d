#include "index/vector_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "faiss/Index.h"
#include "faiss/IndexHNSW.h"
#include "faiss/IndexIDMap.h"
#include "faiss/IndexIVF.h"
#include "faiss/impl/IDSelector.h"
#include "faiss/impl/io.h"
#include "faiss/index_factory.h"
#include "faiss/index_io.h"
#include "index/codec.h"
#include "index/status_macros.h"

namespace greffier::index {
namespace {

constexpr std::string_view kSnapshotMagic = "GFVX";
constexpr uint8_t kSnapshotVersion = 1;

// FAISS 1.7.3's id map rejects search parameters, so the filter runs on the wrapped index,
// whose ids are positions: this selector maps a position to its passage id first.
class PositionSelector : public faiss::IDSelector {
 public:
  PositionSelector(const std::vector<faiss::Index::idx_t>& id_map,
                   const std::function<bool(uint64_t)>& allow)
      : id_map_(id_map), allow_(allow) {}
  bool is_member(faiss::Index::idx_t pos) const override {
    return pos >= 0 && static_cast<size_t>(pos) < id_map_.size() &&
           allow_(static_cast<uint64_t>(id_map_[pos]));
  }

 private:
  const std::vector<faiss::Index::idx_t>& id_map_;
  const std::function<bool(uint64_t)>& allow_;
};

}  // namespace

VectorIndex::VectorIndex(std::unique_ptr<faiss::Index> index, int dimension)
    : index_(std::move(index)), dimension_(dimension) {}

VectorIndex::~VectorIndex() = default;

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Create(
    const VectorIndexOptions& options) {
  if (options.dimension <= 0) {
    return absl::InvalidArgumentError("vector index: dimension must be positive");
  }
  try {
    std::unique_ptr<faiss::Index> index(
        faiss::index_factory(options.dimension, absl::StrCat("IDMap2,", options.factory).c_str(),
                             faiss::METRIC_INNER_PRODUCT));
    return std::unique_ptr<VectorIndex>(new VectorIndex(std::move(index), options.dimension));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("vector index: bad FAISS factory '", options.factory, "': ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& path,
                                                               SnapshotInfo* info) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no vector snapshot at ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string data = buf.str();
  GREFFIER_ASSIGN_OR_RETURN(
      Decoder d, Decoder::Open(data, kSnapshotMagic, kSnapshotVersion, "vector snapshot " + path));
  GREFFIER_ASSIGN_OR_RETURN(uint64_t watermark, d.GetFixed64());
  GREFFIER_ASSIGN_OR_RETURN(uint64_t seq, d.GetFixed64());
  GREFFIER_ASSIGN_OR_RETURN(std::string payload, d.GetString());
  try {
    faiss::VectorIOReader reader;
    reader.data.assign(payload.begin(), payload.end());
    std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
    int dim = index->d;
    info->watermark = watermark;
    info->mutation_seq = seq;
    return std::unique_ptr<VectorIndex>(new VectorIndex(std::move(index), dim));
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("vector snapshot ", path, ": ", e.what()));
  }
}

absl::Status VectorIndex::Add(const std::vector<uint64_t>& ids,
                              const std::vector<float>& flat_vectors) {
  if (flat_vectors.size() != ids.size() * static_cast<size_t>(dimension_)) {
    return absl::InvalidArgumentError(absl::StrCat("vector index: ", flat_vectors.size(),
                                                   " floats for ", ids.size(), " ids of dim ",
                                                   dimension_));
  }
  if (ids.empty()) return absl::OkStatus();
  try {
    std::vector<faiss::Index::idx_t> fids(ids.begin(), ids.end());
    if (!index_->is_trained) index_->train(ids.size(), flat_vectors.data());
    index_->add_with_ids(ids.size(), flat_vectors.data(), fids.data());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("vector index add: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status VectorIndex::Remove(const std::vector<uint64_t>& ids) {
  if (ids.empty()) return absl::OkStatus();
  try {
    std::vector<faiss::Index::idx_t> fids(ids.begin(), ids.end());
    faiss::IDSelectorBatch sel(fids.size(), fids.data());
    index_->remove_ids(sel);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("vector index remove: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<VectorIndex::Hit>> VectorIndex::Search(
    const float* query, size_t k, const std::function<bool(uint64_t)>& allow) const {
  std::vector<Hit> hits;
  if (k == 0 || index_->ntotal == 0) return hits;
  k = std::min<size_t>(k, index_->ntotal);
  std::vector<float> scores(k);
  std::vector<faiss::Index::idx_t> labels(k);
  try {
    auto* idmap = dynamic_cast<const faiss::IndexIDMap2*>(index_.get());
    if (allow && idmap != nullptr) {
      PositionSelector sel(idmap->id_map, allow);
      // Each index family checks that its parameters are of its own type.
      faiss::SearchParametersHNSW hnsw;
      faiss::SearchParametersIVF ivf;
      faiss::SearchParameters plain;
      faiss::SearchParameters* params = &plain;
      if (auto* h = dynamic_cast<const faiss::IndexHNSW*>(idmap->index)) {
        hnsw.efSearch = std::max({h->hnsw.efSearch, 64, 4 * static_cast<int>(k)});
        params = &hnsw;
      } else if (auto* v = dynamic_cast<const faiss::IndexIVF*>(idmap->index)) {
        ivf.nprobe = v->nprobe;
        params = &ivf;
      }
      params->sel = &sel;
      idmap->index->search(1, query, k, scores.data(), labels.data(), params);
      for (auto& label : labels) {
        if (label >= 0) label = idmap->id_map[label];
      }
    } else if (allow) {
      return absl::InternalError("vector search: filtered search needs an id-mapped index");
    } else {
      index_->search(1, query, k, scores.data(), labels.data());
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("vector search: ", e.what()));
  }
  for (size_t i = 0; i < k; ++i) {
    if (labels[i] < 0) continue;
    hits.push_back({static_cast<uint64_t>(labels[i]), scores[i]});
  }
  return hits;
}

absl::Status VectorIndex::Save(const std::string& path, const SnapshotInfo& info) const {
  std::string payload;
  try {
    faiss::VectorIOWriter writer;
    faiss::write_index(index_.get(), &writer);
    payload.assign(writer.data.begin(), writer.data.end());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("vector snapshot serialise: ", e.what()));
  }
  Encoder e(kSnapshotMagic, kSnapshotVersion);
  e.PutFixed64(info.watermark);
  e.PutFixed64(info.mutation_seq);
  e.PutString(payload);
  std::string bytes = e.Finish();
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return absl::UnavailableError(absl::StrCat("write ", tmp, ": ", std::strerror(err)));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return absl::UnavailableError(absl::StrCat("fsync ", tmp, ": ", std::strerror(errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("rename ", tmp, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

uint64_t VectorIndex::size() const { return static_cast<uint64_t>(index_->ntotal); }

}  // namespace greffier::index
