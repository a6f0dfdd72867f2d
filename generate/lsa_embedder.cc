#include "generate/lsa_embedder.h"

#include <cblas.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "generate/hashing_embedder.h"
#include "generate/str_util.h"

// LAPACK (Fortran ABI: arguments by pointer, hidden string lengths last).
extern "C" {
void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work,
             const int* lwork, int* info);
void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau,
             float* work, const int* lwork, int* info);
void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
            double* work, const int* lwork, int* info, size_t jobz_len, size_t uplo_len);
}

namespace greffier::generate {
namespace {

static_assert(std::endian::native == std::endian::little, "the model file format is little-endian");

constexpr char kMagic[8] = {'G', 'R', 'F', 'L', 'S', 'A', '\r', '\n'};
constexpr uint32_t kVersion = 1;
// Sanity bounds for reading: far above anything trained here.
constexpr uint32_t kMaxDimension = 4096;
constexpr uint32_t kMaxFeatures = 10'000'000;
constexpr uint32_t kMaxFeatureBytes = 1024;
// Longer "words" (hashes, base64) are skipped: noise, and they would not fit
// kMaxFeatureBytes.
constexpr size_t kMaxWordBytes = 64;
constexpr int kMaxFeatureOption = 64;

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// Length in bytes of the first `chars` code points of UTF-8 `s`.
size_t Utf8PrefixBytes(std::string_view s, size_t chars) {
  size_t i = 0;
  size_t n = 0;
  while (i < s.size()) {
    if (n == chars) return i;
    unsigned char c = static_cast<unsigned char>(s[i]);
    i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    ++n;
  }
  return s.size();
}

// Features of a text (with repeats = term frequency). Tags keep kinds apart:
// "w" + word or stem, "g" + character n-gram.
void ExtractFeatures(std::string_view text, int stem_length, int char_ngram,
                     std::vector<std::string>* out) {
  out->clear();
  for (std::string& word : FoldWords(text)) {
    // Elided l', d', s' and stray letters; long tokens are not words.
    if (word.size() < 2 || word.size() > kMaxWordBytes) continue;
    if (char_ngram > 0) {
      std::string padded = Cat("<", word, ">");
      const size_t n = static_cast<size_t>(char_ngram);
      if (padded.size() > n + 1) {
        for (size_t i = 0; i + n <= padded.size(); ++i) {
          out->push_back(Cat("g", padded.substr(i, n)));
        }
      }
    }
    if (stem_length > 0) {
      word.resize(Utf8PrefixBytes(word, static_cast<size_t>(stem_length)));
    }
    out->push_back("w" + word);
  }
}

// Sparse tf-idf weights of one text: (feature index, weight), L2-normalised.
using SparseRow = std::vector<std::pair<uint32_t, float>>;

// Row-major dense matrix.
struct Dense {
  int rows = 0;
  int cols = 0;
  std::vector<float> v;
  Dense(int r, int c) : rows(r), cols(c), v(static_cast<size_t>(r) * c, 0.0f) {}
  float* row(int i) { return v.data() + static_cast<size_t>(i) * cols; }
  const float* row(int i) const { return v.data() + static_cast<size_t>(i) * cols; }
};

// Y = A M, A given by rows (n × f), M f × l.
void MultiplyA(const std::vector<SparseRow>& a, const Dense& m, Dense* y) {
  std::fill(y->v.begin(), y->v.end(), 0.0f);
  for (size_t i = 0; i < a.size(); ++i) {
    float* out = y->row(static_cast<int>(i));
    for (const auto& [j, w] : a[i]) {
      const float* in = m.row(static_cast<int>(j));
      for (int c = 0; c < m.cols; ++c) out[c] += w * in[c];
    }
  }
}

// Z = Aᵀ Q, Q n × l, Z f × l.
void MultiplyAt(const std::vector<SparseRow>& a, const Dense& q, Dense* z) {
  std::fill(z->v.begin(), z->v.end(), 0.0f);
  for (size_t i = 0; i < a.size(); ++i) {
    const float* in = q.row(static_cast<int>(i));
    for (const auto& [j, w] : a[i]) {
      float* out = z->row(static_cast<int>(j));
      for (int c = 0; c < q.cols; ++c) out[c] += w * in[c];
    }
  }
}

// Replaces the columns of `m` (rows >= cols) by an orthonormal basis of their
// span (Householder QR).
absl::Status Orthonormalise(Dense* m) {
  const int rows = m->rows;
  const int cols = m->cols;
  // LAPACK is column-major: work on the transpose.
  std::vector<float> t(m->v.size());
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) {
      t[static_cast<size_t>(j) * rows + i] = m->v[static_cast<size_t>(i) * cols + j];
    }
  }
  std::vector<float> tau(cols);
  int info = 0;
  int lwork = -1;
  float query = 0;
  sgeqrf_(&rows, &cols, t.data(), &rows, tau.data(), &query, &lwork, &info);
  lwork = std::max(1, static_cast<int>(query));
  std::vector<float> work(lwork);
  sgeqrf_(&rows, &cols, t.data(), &rows, tau.data(), work.data(), &lwork, &info);
  if (info != 0) return absl::InternalError(Cat("LSA: sgeqrf failed: ", info));
  lwork = -1;
  sorgqr_(&rows, &cols, &cols, t.data(), &rows, tau.data(), &query, &lwork, &info);
  lwork = std::max(1, static_cast<int>(query));
  work.assign(lwork, 0.0f);
  sorgqr_(&rows, &cols, &cols, t.data(), &rows, tau.data(), work.data(), &lwork, &info);
  if (info != 0) return absl::InternalError(Cat("LSA: sorgqr failed: ", info));
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) {
      m->v[static_cast<size_t>(i) * cols + j] = t[static_cast<size_t>(j) * rows + i];
    }
  }
  return absl::OkStatus();
}

// Standard normal numbers from a fixed generator (splitmix64, Box-Muller), so
// a model does not depend on the standard library's distributions.
class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : state_(seed) {}
  float Next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = (static_cast<double>(Bits() >> 11) + 1.0) * 0x1.0p-53;
    double u2 = static_cast<double>(Bits() >> 11) * 0x1.0p-53;
    double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = static_cast<float>(r * std::sin(2.0 * M_PI * u2));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(2.0 * M_PI * u2));
  }

 private:
  uint64_t Bits() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
  bool has_spare_ = false;
  float spare_ = 0;
};

template <typename T>
void Put(std::string* out, T value) {
  char buf[sizeof(T)];
  std::memcpy(buf, &value, sizeof(T));
  out->append(buf, sizeof(T));
}

// Bounds-checked little-endian reader.
class Reader {
 public:
  Reader(std::string_view data, std::string_view source) : data_(data), source_(source) {}
  template <typename T>
  absl::Status Get(T* value, std::string_view what) {
    if (data_.size() - pos_ < sizeof(T)) return Truncated(what);
    std::memcpy(value, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return absl::OkStatus();
  }
  absl::Status Bytes(size_t n, std::string_view* out, std::string_view what) {
    if (data_.size() - pos_ < n) return Truncated(what);
    *out = data_.substr(pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status Floats(size_t n, std::vector<float>* out, std::string_view what) {
    if ((data_.size() - pos_) / sizeof(float) < n) return Truncated(what);
    out->resize(n);
    if (n > 0) std::memcpy(out->data(), data_.data() + pos_, n * sizeof(float));
    pos_ += n * sizeof(float);
    return absl::OkStatus();
  }
  absl::Status Error(std::string_view reason) const {
    return absl::InvalidArgumentError(
        Cat(source_, ": invalid LSA model: ", reason, " (at byte ", pos_, ")"));
  }
  size_t pos() const { return pos_; }

 private:
  absl::Status Truncated(std::string_view what) const {
    return Error(Cat("truncated while reading ", what));
  }
  std::string_view data_;
  std::string_view source_;
  size_t pos_ = 0;
};

#define LSA_RETURN_IF_ERROR(expr)              \
  do {                                         \
    absl::Status lsa_status_ = (expr);         \
    if (!lsa_status_.ok()) return lsa_status_; \
  } while (0)

}  // namespace

absl::StatusOr<std::unique_ptr<LsaEmbedder>> LsaEmbedder::Train(
    const std::vector<std::string>& texts, const LsaEmbedderOptions& options) {
  if (options.dimension <= 0 || static_cast<uint32_t>(options.dimension) > kMaxDimension) {
    return absl::InvalidArgumentError(
        Cat("LSA: dimension must be in 1..", kMaxDimension, ", got ", options.dimension));
  }
  if (options.stem_length < 0 || options.stem_length > kMaxFeatureOption ||
      options.char_ngram < 0 || options.char_ngram > kMaxFeatureOption) {
    return absl::InvalidArgumentError(
        Cat("LSA: stem_length and char_ngram must be in 0..", kMaxFeatureOption));
  }
  if (options.oversampling < 0 || options.power_iterations < 0 || options.max_features <= 0 ||
      !(options.max_document_fraction > 0) || !std::isfinite(options.singular_value_power)) {
    return absl::InvalidArgumentError(
        "LSA: oversampling and power_iterations must be >= 0, max_features "
        "and max_document_fraction > 0, singular_value_power finite");
  }
  // Vocabulary: every distinct feature gets a provisional id; passages are
  // kept as sorted provisional ids (repeats = term frequency).
  std::unordered_map<std::string, uint32_t> provisional;
  std::vector<uint32_t> df;
  std::vector<std::vector<uint32_t>> docs(texts.size());
  std::vector<std::string> feats;
  for (size_t d = 0; d < texts.size(); ++d) {
    ExtractFeatures(texts[d], options.stem_length, options.char_ngram, &feats);
    std::vector<uint32_t>& ids = docs[d];
    ids.reserve(feats.size());
    for (auto& f : feats) {
      auto [it, inserted] = provisional.try_emplace(std::move(f), static_cast<uint32_t>(df.size()));
      if (inserted) df.push_back(0);
      ids.push_back(it->second);
    }
    std::sort(ids.begin(), ids.end());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i == 0 || ids[i] != ids[i - 1]) ++df[ids[i]];
    }
  }
  const double n_docs = static_cast<double>(texts.size());
  const double max_df = options.max_document_fraction * n_docs;
  const uint32_t min_df = static_cast<uint32_t>(std::max(1, options.min_document_frequency));
  std::vector<std::pair<uint32_t, const std::string*>> kept;
  for (const auto& [f, id] : provisional) {
    if (df[id] >= min_df && df[id] <= max_df) kept.emplace_back(id, &f);
  }
  // Most frequent first, then by text, so the choice is deterministic.
  std::sort(kept.begin(), kept.end(), [&df](const auto& a, const auto& b) {
    if (df[a.first] != df[b.first]) return df[a.first] > df[b.first];
    return *a.second < *b.second;
  });
  if (kept.size() > static_cast<size_t>(options.max_features)) {
    kept.resize(options.max_features);
  }
  std::sort(kept.begin(), kept.end(),
            [](const auto& a, const auto& b) { return *a.second < *b.second; });
  auto model = std::unique_ptr<LsaEmbedder>(new LsaEmbedder());
  model->stem_length_ = options.stem_length;
  model->char_ngram_ = options.char_ngram;
  constexpr uint32_t kDropped = ~uint32_t{0};
  std::vector<uint32_t> final_id(df.size(), kDropped);
  for (const auto& [id, f] : kept) {
    final_id[id] = static_cast<uint32_t>(model->features_.size());
    model->feature_index_.emplace(*f, final_id[id]);
    model->idf_.push_back(static_cast<float>(std::log(n_docs / static_cast<double>(df[id]))));
    model->features_.push_back(*f);
  }
  provisional.clear();
  // Passage × feature tf-idf matrix, rows normalised; empty rows dropped.
  std::vector<SparseRow> a;
  a.reserve(docs.size());
  for (auto& sorted : docs) {
    SparseRow row;
    for (size_t i = 0; i < sorted.size();) {
      size_t j = i;
      while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
      const uint32_t f = final_id[sorted[i]];
      if (f != kDropped) {
        float w = (1.0f + std::log(static_cast<float>(j - i))) * model->idf_[f];
        if (w > 0) row.emplace_back(f, w);
      }
      i = j;
    }
    std::vector<uint32_t>().swap(sorted);
    double norm = 0;
    for (const auto& [f, w] : row) norm += static_cast<double>(w) * w;
    if (norm <= 0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (auto& [f, w] : row) w *= inv;
    a.push_back(std::move(row));
  }
  const int n = static_cast<int>(a.size());
  const int f = static_cast<int>(model->features_.size());
  if (n < 2 || f < 2) {
    return absl::InvalidArgumentError(Cat("LSA: too little text to train on (", n,
                                          " usable passages, ", f, " features shared by at least ",
                                          options.min_document_frequency, " passages)"));
  }
  const int l = std::min({options.dimension + options.oversampling, n, f});
  const int k = std::min(options.dimension, l);

  // Randomised range finder with subspace iteration.
  Dense omega(f, l);
  Gaussian gauss(options.seed);
  for (float& x : omega.v) x = gauss.Next();
  Dense y(n, l);
  MultiplyA(a, omega, &y);
  omega = Dense(0, 0);
  LSA_RETURN_IF_ERROR(Orthonormalise(&y));
  Dense z(f, l);
  for (int it = 0; it < options.power_iterations; ++it) {
    MultiplyAt(a, y, &z);
    LSA_RETURN_IF_ERROR(Orthonormalise(&z));
    MultiplyA(a, z, &y);
    LSA_RETURN_IF_ERROR(Orthonormalise(&y));
  }
  // Bᵀ = Aᵀ Q (f × l); BBᵀ = Zᵀ Z = W Λ Wᵀ; right singular vectors Z W Σ⁻¹.
  MultiplyAt(a, y, &z);
  std::vector<float> gram(static_cast<size_t>(l) * l);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l, l, f, 1.0f, z.v.data(), l, z.v.data(), l,
              0.0f, gram.data(), l);
  std::vector<double> g(gram.begin(), gram.end());
  std::vector<double> eig(l);
  {
    int info = 0;
    int lwork = -1;
    double query = 0;
    const char jobz = 'V';
    const char uplo = 'U';
    dsyev_(&jobz, &uplo, &l, g.data(), &l, eig.data(), &query, &lwork, &info, 1, 1);
    lwork = std::max(1, static_cast<int>(query));
    std::vector<double> work(lwork);
    dsyev_(&jobz, &uplo, &l, g.data(), &l, eig.data(), work.data(), &lwork, &info, 1, 1);
    if (info != 0) return absl::InternalError(Cat("LSA: dsyev failed: ", info));
  }
  // dsyev: ascending eigenvalues; column j of the (column-major) result is
  // eigenvector j, i.e. row j of `g` read row-major. Keep the k largest.
  const double top = std::sqrt(std::max(eig[l - 1], 0.0));
  std::vector<float> w_scaled(static_cast<size_t>(l) * k, 0.0f);
  model->singular_values_.assign(k, 0.0f);
  for (int c = 0; c < k; ++c) {
    const int e = l - 1 - c;
    const double sigma = std::sqrt(std::max(eig[e], 0.0));
    model->singular_values_[c] = static_cast<float>(sigma);
    // Directions with no energy (below float round-off of the Gram matrix)
    // stay zero rather than amplify noise.
    if (!(sigma > 1e-3 * top)) continue;
    const double scale = std::pow(sigma, options.singular_value_power - 1.0);
    for (int r = 0; r < l; ++r) {
      w_scaled[static_cast<size_t>(r) * k + c] =
          static_cast<float>(g[static_cast<size_t>(e) * l + r] * scale);
    }
  }
  model->dimension_ = k;
  model->projection_.assign(static_cast<size_t>(f) * k, 0.0f);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, f, k, l, 1.0f, z.v.data(), l,
              w_scaled.data(), k, 0.0f, model->projection_.data(), k);
  model->Seal();
  return model;
}

absl::StatusOr<std::vector<float>> LsaEmbedder::Embed(std::string_view text,
                                                      bool /*is_query*/) const {
  std::vector<std::string> feats;
  ExtractFeatures(text, stem_length_, char_ngram_, &feats);
  std::unordered_map<uint32_t, uint32_t> tf;
  for (const auto& s : feats) {
    auto it = feature_index_.find(s);
    if (it != feature_index_.end()) ++tf[it->second];
  }
  std::vector<float> v(dimension_, 0.0f);
  std::vector<std::pair<uint32_t, uint32_t>> ordered(tf.begin(), tf.end());
  // Fixed summation order: the same text always gives the same bits.
  std::sort(ordered.begin(), ordered.end());
  for (const auto& [f, n] : ordered) {
    const float w = (1.0f + std::log(static_cast<float>(n))) * idf_[f];
    const float* p = projection_.data() + static_cast<size_t>(f) * dimension_;
    for (int c = 0; c < dimension_; ++c) v[c] += w * p[c];
  }
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm > 0) {
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v) x *= inv;
  }
  return v;
}

std::string LsaEmbedder::Identity() const {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(content_hash_));
  return Cat("lsa-v1-d", dimension_, "-", hex);
}

std::string LsaEmbedder::Serialize() const {
  std::string out(kMagic, sizeof(kMagic));
  Put<uint32_t>(&out, kVersion);
  Put<uint32_t>(&out, static_cast<uint32_t>(dimension_));
  Put<uint32_t>(&out, static_cast<uint32_t>(stem_length_));
  Put<uint32_t>(&out, static_cast<uint32_t>(char_ngram_));
  Put<uint32_t>(&out, static_cast<uint32_t>(features_.size()));
  for (float s : singular_values_) Put<float>(&out, s);
  for (size_t i = 0; i < features_.size(); ++i) {
    Put<uint32_t>(&out, static_cast<uint32_t>(features_[i].size()));
    out += features_[i];
    Put<float>(&out, idf_[i]);
  }
  out.append(reinterpret_cast<const char*>(projection_.data()), projection_.size() * sizeof(float));
  Put<uint64_t>(&out, Fnv1a64(out));
  return out;
}

void LsaEmbedder::Seal() {
  std::string bytes = Serialize();
  uint64_t h = 0;
  std::memcpy(&h, bytes.data() + bytes.size() - sizeof(h), sizeof(h));
  content_hash_ = h;
}

absl::StatusOr<std::unique_ptr<LsaEmbedder>> LsaEmbedder::Deserialize(std::string_view bytes,
                                                                      std::string_view source) {
  Reader r(bytes, source);
  std::string_view magic;
  LSA_RETURN_IF_ERROR(r.Bytes(sizeof(kMagic), &magic, "magic"));
  if (magic != std::string_view(kMagic, sizeof(kMagic))) {
    return r.Error("wrong magic (not an LSA model file)");
  }
  uint32_t version = 0, dim = 0, stem = 0, ngram = 0, nfeat = 0;
  LSA_RETURN_IF_ERROR(r.Get(&version, "version"));
  if (version != kVersion) {
    return r.Error(Cat("unsupported version ", version, " (expected ", kVersion, ")"));
  }
  LSA_RETURN_IF_ERROR(r.Get(&dim, "dimension"));
  LSA_RETURN_IF_ERROR(r.Get(&stem, "stem length"));
  LSA_RETURN_IF_ERROR(r.Get(&ngram, "n-gram length"));
  LSA_RETURN_IF_ERROR(r.Get(&nfeat, "feature count"));
  if (dim == 0 || dim > kMaxDimension) return r.Error(Cat("bad dimension ", dim));
  if (stem > static_cast<uint32_t>(kMaxFeatureOption) ||
      ngram > static_cast<uint32_t>(kMaxFeatureOption)) {
    return r.Error("bad feature options");
  }
  if (nfeat == 0 || nfeat > kMaxFeatures) {
    return r.Error(Cat("bad feature count ", nfeat));
  }
  // The checksum covers everything before it: verify before trusting sizes
  // any further.
  if (bytes.size() < sizeof(uint64_t)) return r.Error("truncated");
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - sizeof(stored), sizeof(stored));
  const std::string_view body = bytes.substr(0, bytes.size() - sizeof(stored));
  if (Fnv1a64(body) != stored) {
    return absl::InvalidArgumentError(
        Cat(source,
            ": invalid LSA model: checksum mismatch (file truncated or "
            "corrupt)"));
  }
  auto model = std::unique_ptr<LsaEmbedder>(new LsaEmbedder());
  model->dimension_ = static_cast<int>(dim);
  model->stem_length_ = static_cast<int>(stem);
  model->char_ngram_ = static_cast<int>(ngram);
  model->content_hash_ = stored;
  Reader body_reader(body, source);
  std::string_view skip;
  LSA_RETURN_IF_ERROR(body_reader.Bytes(r.pos(), &skip, "header"));
  LSA_RETURN_IF_ERROR(body_reader.Floats(dim, &model->singular_values_, "singular values"));
  model->features_.reserve(nfeat);
  model->idf_.reserve(nfeat);
  for (uint32_t i = 0; i < nfeat; ++i) {
    uint32_t len = 0;
    LSA_RETURN_IF_ERROR(body_reader.Get(&len, "feature length"));
    if (len == 0 || len > kMaxFeatureBytes) {
      return body_reader.Error(Cat("bad feature length ", len));
    }
    std::string_view text;
    LSA_RETURN_IF_ERROR(body_reader.Bytes(len, &text, "feature"));
    float idf = 0;
    LSA_RETURN_IF_ERROR(body_reader.Get(&idf, "idf"));
    if (!std::isfinite(idf)) return body_reader.Error("non-finite idf");
    if (!model->feature_index_.emplace(std::string(text), i).second) {
      return body_reader.Error("duplicate feature");
    }
    model->features_.emplace_back(text);
    model->idf_.push_back(idf);
  }
  LSA_RETURN_IF_ERROR(
      body_reader.Floats(static_cast<size_t>(nfeat) * dim, &model->projection_, "projection"));
  if (body_reader.pos() != body.size()) {
    return body_reader.Error("trailing bytes after the projection");
  }
  for (float x : model->projection_) {
    if (!std::isfinite(x)) return body_reader.Error("non-finite projection");
  }
  return model;
}

absl::StatusOr<std::unique_ptr<LsaEmbedder>> LsaEmbedder::Load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(Cat(path.string(), ": cannot open LSA model"));
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::DataLossError(Cat(path.string(), ": read error"));
  }
  return Deserialize(bytes, path.string());
}

absl::Status LsaEmbedder::Save(const std::filesystem::path& path) const {
  const std::string bytes = Serialize();
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return absl::UnavailableError(Cat(tmp.string(), ": cannot create LSA model file"));
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      return absl::DataLossError(Cat(tmp.string(), ": write failed"));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return absl::UnavailableError(
        Cat(path.string(), ": cannot rename model into place: ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace greffier::generate
