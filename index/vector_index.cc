#include "index/vector_index.h"

#include <fcntl.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <random>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "faiss/Index.h"
#include "faiss/IndexFlat.h"
#include "faiss/IndexHNSW.h"
#include "faiss/IndexIDMap.h"
#include "faiss/IndexIVF.h"
#include "faiss/IndexIVFFlat.h"
#include "faiss/IndexScalarQuantizer.h"
#include "faiss/clone_index.h"
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

// Sets the calling thread's OpenMP team size for a scope. FAISS opens parallel regions even
// for one query or a handful of vectors; on a busy machine the idle team members spin and
// cost more than the work, so small operations run on the calling thread alone.
class OmpThreads {
 public:
  explicit OmpThreads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~OmpThreads() { omp_set_num_threads(saved_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_;
};

// Reads FAISS bytes in place.
class ViewReader : public faiss::IOReader {
 public:
  explicit ViewReader(std::string_view data) : data_(data) {}
  size_t operator()(void* ptr, size_t size, size_t nitems) override {
    if (size == 0) return 0;
    const size_t n = std::min(nitems, data_.size() / size);
    std::memcpy(ptr, data_.data(), n * size);
    data_.remove_prefix(n * size);
    return n;
  }
  size_t remaining() const { return data_.size(); }

 private:
  std::string_view data_;
};

// For indexes that hold passage ids themselves (IVF).
class IdSelector : public faiss::IDSelector {
 public:
  explicit IdSelector(const std::function<bool(uint64_t)>& allow) : allow_(allow) {}
  bool is_member(faiss::Index::idx_t id) const override {
    return id >= 0 && allow_(static_cast<uint64_t>(id));
  }

 private:
  const std::function<bool(uint64_t)>& allow_;
};

// nlist for `n` vectors under "auto": the power of two at most 4·sqrt(n), at least 64.
size_t AutoNlist(uint64_t n) {
  const double target = 4.0 * std::sqrt(static_cast<double>(n));
  size_t nlist = 64;
  while (static_cast<double>(nlist * 2) <= target) nlist *= 2;
  return nlist;
}

bool IsAuto(const VectorIndexOptions& o) { return o.factory == "auto" || o.factory.empty(); }

}  // namespace

VectorIndex::VectorIndex(std::unique_ptr<faiss::Index> index, int dimension,
                         const VectorIndexOptions& options)
    : index_(std::move(index)), dimension_(dimension), options_(options) {
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get())) {
    ivf->nprobe = Nprobe(ivf->nlist);
  }
  const faiss::Index* inner = index_.get();
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap2*>(inner)) inner = idmap->index;
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(const_cast<faiss::Index*>(inner))) {
    hnsw->hnsw.efConstruction = options_.hnsw_ef_construction;  // for vectors added from now
  }
  // An explicit factory that needs training, while the vectors still sit in the exact index
  // (new, or restored from a snapshot taken before training).
  auto* idmap = dynamic_cast<const faiss::IndexIDMap2*>(index_.get());
  if (IsAuto(options_) || idmap == nullptr ||
      dynamic_cast<const faiss::IndexFlat*>(idmap->index) == nullptr) {
    return;
  }
  try {
    std::unique_ptr<faiss::Index> probe(
        faiss::index_factory(dimension_, options_.factory.c_str(), faiss::METRIC_INNER_PRODUCT));
    if (probe->is_trained) return;
    pending_factory_ = options_.factory;
    // FAISS's own minimum: 39 training points per centroid (k-means of nlist, or of 256 for
    // product quantizers).
    const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(probe.get());
    pending_train_at_ = 39 * (ivf != nullptr ? std::max<size_t>(ivf->nlist, 256) : 256);
  } catch (const std::exception&) {
    // Not a factory string FAISS knows: Create reported it; nothing to train.
  }
}

int VectorIndex::Nprobe(size_t nlist) const {
  if (options_.nprobe > 0) return options_.nprobe;
  return static_cast<int>(std::min<size_t>(nlist, std::max<size_t>(16, nlist / 32)));
}

VectorIndex::~VectorIndex() = default;

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Create(
    const VectorIndexOptions& options) {
  if (options.dimension <= 0) {
    return absl::InvalidArgumentError("vector index: dimension must be positive");
  }
  std::string factory = IsAuto(options) ? "Flat" : options.factory;
  try {
    std::unique_ptr<faiss::Index> index(
        faiss::index_factory(options.dimension, factory.c_str(), faiss::METRIC_INNER_PRODUCT));
    // Indexes that need training start exact; MaybeGrow trains them once enough vectors
    // arrived (the constructor notices the pending factory).
    if (!index->is_trained) {
      factory = "Flat";
      index.reset(faiss::index_factory(options.dimension, "Flat", faiss::METRIC_INNER_PRODUCT));
    }
    // IVF keeps arbitrary ids (and removes by id); the others need the id map.
    if (dynamic_cast<faiss::IndexIVF*>(index.get()) == nullptr) {
      index.reset(faiss::index_factory(options.dimension, absl::StrCat("IDMap2,", factory).c_str(),
                                       faiss::METRIC_INNER_PRODUCT));
    }
    return std::unique_ptr<VectorIndex>(
        new VectorIndex(std::move(index), options.dimension, options));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("vector index: bad FAISS factory '", options.factory, "': ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& path,
                                                               const VectorIndexOptions& options,
                                                               SnapshotInfo* info) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no vector snapshot at ", path));
  // One copy of the file in memory (snapshots of large corpora are gigabytes).
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (file_size < 0) return absl::DataLossError(absl::StrCat("cannot read ", path));
  std::string data(static_cast<size_t>(file_size), '\0');
  if (!in.read(data.data(), file_size)) {
    return absl::DataLossError(absl::StrCat("cannot read ", path));
  }
  GREFFIER_ASSIGN_OR_RETURN(
      Decoder d, Decoder::Open(data, kSnapshotMagic, kSnapshotVersion, "vector snapshot " + path));
  GREFFIER_ASSIGN_OR_RETURN(uint64_t watermark, d.GetFixed64());
  GREFFIER_ASSIGN_OR_RETURN(uint64_t seq, d.GetFixed64());
  // The FAISS bytes are the last field: a length, then exactly that many bytes.
  GREFFIER_ASSIGN_OR_RETURN(uint64_t payload_size, d.GetVarint());
  size_t varint_size = 1;
  for (uint64_t v = payload_size; v >= 0x80; v >>= 7) ++varint_size;
  const size_t header_size = kSnapshotMagic.size() + 1 + 8 + 8 + varint_size;
  if (payload_size != data.size() - header_size) {
    return absl::DataLossError(absl::StrCat("vector snapshot ", path, ": ", payload_size,
                                            " FAISS bytes announced, ", data.size() - header_size,
                                            " present"));
  }
  const std::string_view payload =
      std::string_view(data).substr(data.size() - static_cast<size_t>(payload_size));
  try {
    ViewReader reader(payload);
    std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
    if (reader.remaining() != 0) {
      return absl::DataLossError(
          absl::StrCat("vector snapshot ", path, ": ", reader.remaining(), " trailing bytes"));
    }
    int dim = index->d;
    info->watermark = watermark;
    info->mutation_seq = seq;
    return std::unique_ptr<VectorIndex>(new VectorIndex(std::move(index), dim, options));
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
    OmpThreads threads(ids.size() < 4096 ? 1 : omp_get_num_procs());
    std::vector<faiss::Index::idx_t> fids(ids.begin(), ids.end());
    index_->add_with_ids(ids.size(), flat_vectors.data(), fids.data());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("vector index add: ", e.what()));
  }
  return MaybeGrow();
}

absl::Status VectorIndex::Extract(std::vector<int64_t>* ids, std::vector<float>* flat) const {
  const size_t d = static_cast<size_t>(dimension_);
  ids->clear();
  flat->clear();
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap2*>(index_.get())) {
    auto* inner = dynamic_cast<const faiss::IndexFlat*>(idmap->index);
    if (inner == nullptr) return absl::UnimplementedError("vector index: cannot extract");
    ids->assign(idmap->id_map.begin(), idmap->id_map.end());
    const float* xb = inner->get_xb();
    flat->assign(xb, xb + ids->size() * d);
    return absl::OkStatus();
  }
  auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index_.get());
  const bool floats = dynamic_cast<const faiss::IndexIVFFlat*>(ivf) != nullptr;
  if (ivf == nullptr ||
      (!floats && dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(ivf) == nullptr)) {
    return absl::UnimplementedError("vector index: cannot extract");
  }
  ids->reserve(ivf->ntotal);
  flat->resize(ivf->ntotal * d);
  size_t at = 0;
  for (size_t list = 0; list < ivf->nlist; ++list) {
    const size_t n = ivf->invlists->list_size(list);
    if (n == 0) continue;
    faiss::InvertedLists::ScopedIds list_ids(ivf->invlists, list);
    ids->insert(ids->end(), list_ids.get(), list_ids.get() + n);
    if (floats) {
      faiss::InvertedLists::ScopedCodes codes(ivf->invlists, list);
      std::memcpy(flat->data() + at * d, codes.get(), n * d * sizeof(float));
    } else {
      // 8-bit codes, decoded: that precision is what the index searches with anyway.
      for (size_t i = 0; i < n; ++i) {
        ivf->reconstruct_from_offset(static_cast<int64_t>(list), static_cast<int64_t>(i),
                                     flat->data() + (at + i) * d);
      }
    }
    at += n;
  }
  return absl::OkStatus();
}

absl::Status VectorIndex::PlanGrowth(std::unique_ptr<faiss::Index>* fresh,
                                     size_t* max_sample) const {
  fresh->reset();
  const uint64_t n = static_cast<uint64_t>(index_->ntotal);
  try {
    if (!pending_factory_.empty()) {
      if (n < pending_train_at_) return absl::OkStatus();
      fresh->reset(
          faiss::index_factory(dimension_, pending_factory_.c_str(), faiss::METRIC_INNER_PRODUCT));
      if (dynamic_cast<faiss::IndexIVF*>(fresh->get()) == nullptr) {
        fresh->reset(faiss::index_factory(dimension_,
                                          absl::StrCat("IDMap2,", pending_factory_).c_str(),
                                          faiss::METRIC_INNER_PRODUCT));
      }
      *max_sample = 256 * pending_train_at_ / 39;  // FAISS's own cap per centroid
      return absl::OkStatus();
    }
    if (!IsAuto(options_)) return absl::OkStatus();
    const size_t nlist = AutoNlist(n);
    const bool compress = options_.auto_compress_limit > 0 && n >= options_.auto_compress_limit;
    if (auto* sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(index_.get())) {
      if (nlist < 2 * sq->nlist) return absl::OkStatus();
    } else if (auto* ivf = dynamic_cast<const faiss::IndexIVFFlat*>(index_.get())) {
      if (nlist < 2 * ivf->nlist && !compress) return absl::OkStatus();
    } else if (n < options_.auto_flat_limit ||
               dynamic_cast<const faiss::IndexIDMap2*>(index_.get()) == nullptr) {
      return absl::OkStatus();
    }
    auto quantizer = std::make_unique<faiss::IndexFlatIP>(dimension_);
    std::unique_ptr<faiss::IndexIVF> ivf;
    if (compress) {
      ivf = std::make_unique<faiss::IndexIVFScalarQuantizer>(quantizer.get(), dimension_, nlist,
                                                             faiss::ScalarQuantizer::QT_8bit,
                                                             faiss::METRIC_INNER_PRODUCT);
    } else {
      ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), dimension_, nlist,
                                                  faiss::METRIC_INNER_PRODUCT);
    }
    quantizer.release();
    ivf->own_fields = true;
    ivf->cp.spherical = true;  // unit vectors: centroids on the sphere
    // 64 training vectors per list are plenty for inner-product IVF and keep k-means short.
    *max_sample = 64 * nlist;
    *fresh = std::move(ivf);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("vector index: planning growth: ", e.what()));
  }
  return absl::OkStatus();
}

VectorIndex::Growth::Growth() = default;
VectorIndex::Growth::Growth(Growth&&) = default;
VectorIndex::Growth& VectorIndex::Growth::operator=(Growth&&) = default;
VectorIndex::Growth::~Growth() = default;

bool VectorIndex::NeedsGrowth() const {
  std::unique_ptr<faiss::Index> fresh;
  size_t max_sample = 0;
  return PlanGrowth(&fresh, &max_sample).ok() && fresh != nullptr;
}

absl::StatusOr<std::optional<VectorIndex::Growth>> VectorIndex::PrepareGrowth() const {
  Growth g;
  GREFFIER_RETURN_IF_ERROR(PlanGrowth(&g.fresh_, &g.max_sample_));
  if (g.fresh_ == nullptr) return std::optional<Growth>();
  GREFFIER_RETURN_IF_ERROR(Extract(&g.ids_, &g.flat_));
  g.dimension_ = dimension_;
  g.options_ = options_;
  g.background_growth_ = background_growth_;
  return std::optional<Growth>(std::move(g));
}

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Growth::Run() {
  const size_t d = static_cast<size_t>(dimension_);
  try {
    OmpThreads threads(omp_get_num_procs());
    // A sample drawn with a fixed seed: the same vectors train the same index.
    const size_t sample = std::min<size_t>(ids_.size(), max_sample_);
    std::vector<float> train(sample * d);
    std::vector<size_t> order(ids_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937_64 rng(1234);
    for (size_t i = 0; i < sample; ++i) {
      std::swap(order[i], order[i + rng() % (order.size() - i)]);
      std::copy_n(flat_.data() + order[i] * d, d, train.data() + i * d);
    }
    fresh_->train(static_cast<faiss::Index::idx_t>(sample), train.data());
    fresh_->add_with_ids(static_cast<faiss::Index::idx_t>(ids_.size()), flat_.data(), ids_.data());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("vector index: training: ", e.what()));
  }
  ids_.clear();
  ids_.shrink_to_fit();
  flat_.clear();
  flat_.shrink_to_fit();
  std::unique_ptr<VectorIndex> built(new VectorIndex(std::move(fresh_), dimension_, options_));
  built->background_growth_ = background_growth_;
  return built;
}

absl::Status VectorIndex::MaybeGrow() {
  if (background_growth_) return absl::OkStatus();
  GREFFIER_ASSIGN_OR_RETURN(std::optional<Growth> growth, PrepareGrowth());
  if (!growth.has_value()) return absl::OkStatus();
  GREFFIER_ASSIGN_OR_RETURN(std::unique_ptr<VectorIndex> built, growth->Run());
  index_ = std::move(built->index_);
  pending_factory_.clear();
  return absl::OkStatus();
}

std::string VectorIndex::description() const {
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index_.get())) {
    const char* codes = dynamic_cast<const faiss::IndexIVFFlat*>(ivf)              ? ",Flat"
                        : dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(ivf) ? ",SQ8"
                                                                                   : "";
    return absl::StrCat("IVF", ivf->nlist, codes, " nprobe=", ivf->nprobe);
  }
  const faiss::Index* inner = index_.get();
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap2*>(inner)) inner = idmap->index;
  if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(inner)) {
    return absl::StrCat("HNSW", hnsw->hnsw.nb_neighbors(1), " efSearch=", options_.hnsw_ef_search,
                        " efConstruction=", hnsw->hnsw.efConstruction);
  }
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(inner)) {
    return absl::StrCat("IDMap2,IVF", ivf->nlist, " nprobe=", ivf->nprobe);
  }
  if (dynamic_cast<const faiss::IndexFlat*>(inner)) return "Flat";
  return "other";
}

absl::Status VectorIndex::Remove(const std::vector<uint64_t>& ids) {
  if (ids.empty()) return absl::OkStatus();
  try {
    OmpThreads threads(1);
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
    OmpThreads threads(1);
    auto* idmap = dynamic_cast<const faiss::IndexIDMap2*>(index_.get());
    if (allow && idmap != nullptr) {
      PositionSelector sel(idmap->id_map, allow);
      // Each index family checks that its parameters are of its own type.
      faiss::SearchParametersHNSW hnsw;
      faiss::SearchParametersIVF ivf;
      faiss::SearchParameters plain;
      faiss::SearchParameters* params = &plain;
      if (auto* h = dynamic_cast<const faiss::IndexHNSW*>(idmap->index)) {
        hnsw.efSearch =
            std::max({h->hnsw.efSearch, options_.hnsw_ef_search, 4 * static_cast<int>(k)});
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
    } else if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index_.get())) {
      // Passage ids are the IVF's own labels.
      IdSelector sel(allow);
      faiss::SearchParametersIVF params;
      params.nprobe = ivf->nprobe;
      if (allow) params.sel = &sel;
      ivf->search(1, query, k, scores.data(), labels.data(), &params);
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

namespace {

// Counts FAISS's bytes without keeping them: the snapshot header gives the payload length.
struct CountingWriter : faiss::IOWriter {
  size_t bytes = 0;
  size_t operator()(const void*, size_t size, size_t nitems) override {
    bytes += size * nitems;
    return nitems;
  }
};

// Writes FAISS's bytes to a file descriptor, starting writeback every 8 MiB.
struct FdWriter : faiss::IOWriter {
  static constexpr size_t kWritebackEvery = size_t{8} << 20;
  int fd = -1;
  int error = 0;  // errno of the first failed write
  size_t written = 0, flushed = 0;
  size_t operator()(const void* ptr, size_t size, size_t nitems) override {
    const char* p = static_cast<const char*>(ptr);
    size_t left = size * nitems;
    while (left > 0 && error == 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno != EINTR) error = errno;
        continue;
      }
      p += n;
      left -= static_cast<size_t>(n);
      written += static_cast<size_t>(n);
      if (written - flushed >= kWritebackEvery) {
        // Not an error when unsupported (e.g. a pipe): fsync still makes the file durable.
        ::sync_file_range(fd, static_cast<off_t>(flushed), static_cast<off_t>(written - flushed),
                          SYNC_FILE_RANGE_WRITE);
        flushed = written;
      }
    }
    return error == 0 ? nitems : 0;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Clone() const {
  try {
    std::unique_ptr<faiss::Index> copy(faiss::clone_index(index_.get()));
    return std::unique_ptr<VectorIndex>(new VectorIndex(std::move(copy), dimension_, options_));
  } catch (const std::exception& e) {
    return absl::UnimplementedError(absl::StrCat("vector index: cannot clone: ", e.what()));
  }
}

absl::Status VectorIndex::WriteSnapshot(const std::string& path, const SnapshotInfo& info) const {
  CountingWriter counter;
  try {
    faiss::write_index(index_.get(), &counter);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("vector snapshot serialise: ", e.what()));
  }
  // The same bytes as Encoder::PutString(payload) after the two watermarks.
  Encoder e(kSnapshotMagic, kSnapshotVersion);
  e.PutFixed64(info.watermark);
  e.PutFixed64(info.mutation_seq);
  e.PutVarint(counter.bytes);
  const std::string header = e.Finish();
  const std::string tmp = path + ".tmp";
  FdWriter out;
  out.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out.fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  out(header.data(), 1, header.size());
  try {
    if (out.error == 0) faiss::write_index(index_.get(), &out);
  } catch (const std::exception& e) {
    // FAISS throws when a write returns short; the errno says why.
    if (out.error == 0) {
      ::close(out.fd);
      return absl::InternalError(absl::StrCat("vector snapshot serialise: ", e.what()));
    }
  }
  if (out.error != 0) {
    ::close(out.fd);
    return absl::UnavailableError(absl::StrCat("write ", tmp, ": ", std::strerror(out.error)));
  }
  if (out.written != header.size() + counter.bytes) {
    ::close(out.fd);
    return absl::InternalError(absl::StrCat("vector snapshot: ", out.written, " bytes written, ",
                                            header.size() + counter.bytes, " expected"));
  }
  if (::fsync(out.fd) != 0) {
    int err = errno;
    ::close(out.fd);
    return absl::UnavailableError(absl::StrCat("fsync ", tmp, ": ", std::strerror(err)));
  }
  if (::close(out.fd) != 0) {
    return absl::UnavailableError(absl::StrCat("close ", tmp, ": ", std::strerror(errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("rename ", tmp, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

uint64_t VectorIndex::size() const { return static_cast<uint64_t>(index_->ntotal); }

}  // namespace greffier::index
