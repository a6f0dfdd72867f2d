#include "generate/encoder.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <utility>

#include "absl/status/status.h"
#include "generate/quant.h"
#include "generate/sha256.h"
#include "generate/str_util.h"

namespace greffier::generate {
namespace {

using Matrix = GgufEncoder::Matrix;

// Rows of weights per work item: their bytes stay in L1 while a tile of tokens
// streams past them.
constexpr int64_t kRowTile = 16;
// Tokens per work item: bounds the activations a tile touches (L2) and gives
// the pool enough items for short inputs.
constexpr int64_t kTokTile = 32;
// Bytes of each tensor's start that go into the identity hash: together with
// the metadata and tensor layout, enough to tell apart two files of the same
// shape (other training, other seed) without reading gigabytes at startup.
constexpr uint64_t kHashedTensorBytes = 4096;
// Floats of attention scores held at once (64 MiB).
constexpr int64_t kScoreFloats = int64_t{16} << 20;

// Vectorizable exp and GELU. libm's expf and erff are calls the compiler cannot vectorize;
// in softmax and the feed-forward activation they cost as much as the attention products.
// Plain loops over arrays, no calls, so that -O3 vectorizes them.

// e^x for each element, relative error below 2e-7 for x in [-87, 88]; below -87 the result
// is about 1e-38 instead of a denormal (softmax and erf only need "negligible" there).
void ExpInPlace(float* x, int64_t n) {
  // The clamp gets its own loop: fused with the body below, GCC does not vectorize it.
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    v = v < -87.f ? -87.f : v;
    v = v > 88.f ? 88.f : v;
    x[i] = v;
  }
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    // v = k ln2 + r with |r| <= ln2 / 2; ln2 split in two for an exact k ln2.
    // Round to nearest by adding 1.5 * 2^23: the sum's low mantissa bits then hold k as an
    // integer. No call (unlike nearbyint) and no float-to-int conversion.
    const float biased = v * 1.44269504088896341f + 12582912.f;
    const float k = biased - 12582912.f;
    const float r = (v - k * 0.693145751953125f) - k * 1.428606765330187045e-06f;
    // Taylor series of e^r to degree 7: remainder below 2e-8 for |r| <= 0.35.
    float p = 1.f / 5040.f;
    p = p * r + 1.f / 720.f;
    p = p * r + 1.f / 120.f;
    p = p * r + 1.f / 24.f;
    p = p * r + 1.f / 6.f;
    p = p * r + 0.5f;
    p = p * r + 1.f;
    p = p * r + 1.f;
    const int32_t ki = std::bit_cast<int32_t>(biased) - std::bit_cast<int32_t>(12582912.f);
    const int32_t bits = (ki + 127) << 23;
    x[i] = p * std::bit_cast<float>(bits);
  }
}

// BERT's "gelu", x * (1 + erf(x / sqrt 2)) / 2, in place. erf from Abramowitz & Stegun
// 7.1.26 (absolute error below 1.5e-7), not the tanh approximation, which differs by up to
// ~1e-3 and would show in the vectors. `tmp` holds n floats of scratch.
void GeluInPlace(float* x, int64_t n, float* tmp) {
  for (int64_t i = 0; i < n; ++i) {
    const float z = x[i] * 0.70710678118654752f;
    tmp[i] = -z * z;
  }
  ExpInPlace(tmp, n);
  for (int64_t i = 0; i < n; ++i) {
    const float z = std::abs(x[i]) * 0.70710678118654752f;
    const float t = 1.f / (1.f + 0.3275911f * z);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    const float erf_abs = 1.f - p * t * tmp[i];
    const float erf = x[i] < 0 ? -erf_abs : erf_abs;
    x[i] = 0.5f * x[i] * (1.f + erf);
  }
}

// One product of a matrix multiplication: y[t][r] = w.Row(r) . x[t] + bias[r].
struct MatJob {
  const Matrix* w;
  const std::vector<float>* bias;
  float* y;  // n_tok rows of w->rows floats
};

// Computes every job for the n_tok rows of `x` (each w->cols floats; all jobs
// share cols). Activations are quantized once for all jobs whose weight type
// needs it. Work items are (job, row tile, token tile), claimed dynamically.
void MatMul(const KernelSet& ks, ThreadPool& pool, const float* x, int64_t n_tok,
            std::initializer_list<MatJob> job_list) {
  const MatJob* jobs = job_list.begin();
  const int n_jobs = static_cast<int>(job_list.size());
  const int64_t k = jobs[0].w->cols;
  const int64_t nb = k / 32;
  bool need_q = false;
  for (int j = 0; j < n_jobs; ++j) need_q |= UsesQuantizedActs(jobs[j].w->type);
  std::vector<int8_t> aq;
  std::vector<uint8_t> aqu;
  std::vector<float> ad, as, ad8;
  if (need_q) {
    aq.resize(n_tok * k);
    aqu.resize(n_tok * k);
    ad.resize(n_tok * nb);
    as.resize(n_tok * nb);
    ad8.resize(n_tok * nb * 8);
    pool.ParallelFor(n_tok, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        ks.quantize_acts(k, x + t * k, aq.data() + t * k, ad.data() + t * nb, as.data() + t * nb);
        // The optional layouts that multi-token SIMD kernels read.
        for (int64_t b = 0; b < nb; ++b) {
          std::fill_n(ad8.data() + (t * nb + b) * 8, 8, ad[t * nb + b]);
        }
        for (int64_t i = 0; i < k; ++i) {
          aqu[t * k + i] = static_cast<uint8_t>(aq[t * k + i] ^ 0x80);
        }
      }
    });
  }
  const int64_t tok_tiles = (n_tok + kTokTile - 1) / kTokTile;
  std::vector<int64_t> items_before(n_jobs);
  int64_t total = 0;
  for (int j = 0; j < n_jobs; ++j) {
    items_before[j] = total;
    total += (jobs[j].w->rows + kRowTile - 1) / kRowTile * tok_tiles;
  }
  const int64_t grain = std::max<int64_t>(1, total / (4 * pool.size()));
  pool.ParallelFor(total, grain, [&](int64_t i0, int64_t i1, int) {
    for (int64_t item = i0; item < i1; ++item) {
      int j = n_jobs - 1;
      while (items_before[j] > item) --j;
      const MatJob& job = jobs[j];
      const Matrix& w = *job.w;
      const int64_t local = item - items_before[j];
      const int64_t r0 = local / tok_tiles * kRowTile, r1 = std::min(r0 + kRowTile, w.rows);
      const int64_t t0 = local % tok_tiles * kTokTile, t1 = std::min(t0 + kTokTile, n_tok);
      const int code = static_cast<int>(w.type);
      const float* bias = job.bias->data();
      float out[kMaxCols];
      auto store = [&](int64_t t, int nc, int64_t r) {
        for (int c = 0; c < nc; ++c) job.y[(t + c) * w.rows + r] = out[c] + bias[r];
      };
      for (int64_t t = t0; t < t1; t += kMaxCols) {
        const int nc = static_cast<int>(std::min<int64_t>(kMaxCols, t1 - t));
        if (UsesQuantizedActs(w.type)) {
          QuantizedRow xr[kMaxCols];
          for (int c = 0; c < nc; ++c) {
            const int64_t tc = t + c;
            xr[c] = {aq.data() + tc * k, ad.data() + tc * nb, as.data() + tc * nb,
                     ad8.data() + tc * nb * 8, aqu.data() + tc * k};
          }
          for (int64_t r = r0; r < r1; ++r) {
            if (ks.dot_q_multi[code] != nullptr) {
              ks.dot_q_multi[code](k, w.Row(r), xr, nc, out);
            } else {
              for (int c = 0; c < nc; ++c) out[c] = ks.dot_q[code](k, w.Row(r), xr[c]);
            }
            store(t, nc, r);
          }
        } else {
          const float* xr[kMaxCols];
          for (int c = 0; c < nc; ++c) xr[c] = x + (t + c) * k;
          for (int64_t r = r0; r < r1; ++r) {
            if (ks.dot_f_multi[code] != nullptr) {
              ks.dot_f_multi[code](k, w.Row(r), xr, nc, out);
            } else {
              for (int c = 0; c < nc; ++c) out[c] = ks.dot_f[code](k, w.Row(r), xr[c]);
            }
            store(t, nc, r);
          }
        }
      }
    }
  });
}

// One float product: y[t * ldy + r] = w[r * ldw ..] . x[t * ldx ..] over k floats, for
// r < w_rows and the caller's n_tok rows t (attention's strided head slices).
struct FloatJob {
  const float* w;
  int64_t w_rows, ldw;
  const float* x;
  int64_t ldx;
  float* y;
  int64_t ldy;
};

// Runs every job on the F32 kernels, several tokens per pass over a weight row. Work items
// are (job, row tile, token tile), claimed dynamically.
void FloatMatMul(const KernelSet& ks, ThreadPool& pool, int64_t k, int64_t n_tok,
                 const std::vector<FloatJob>& jobs) {
  const int code = static_cast<int>(GgmlType::kF32);
  const DotFFn dot = ks.dot_f[code];
  const DotFMultiFn dot_multi = ks.dot_f_multi[code];
  const int64_t tok_tiles = (n_tok + kTokTile - 1) / kTokTile;
  const int64_t row_tiles = (jobs.empty() ? 0 : (jobs[0].w_rows + kRowTile - 1) / kRowTile);
  const int64_t per_job = row_tiles * tok_tiles;
  const int64_t total = per_job * static_cast<int64_t>(jobs.size());
  const int64_t grain = std::max<int64_t>(1, total / (4 * pool.size()));
  pool.ParallelFor(total, grain, [&](int64_t i0, int64_t i1, int) {
    for (int64_t item = i0; item < i1; ++item) {
      const FloatJob& job = jobs[item / per_job];
      const int64_t local = item % per_job;
      const int64_t r0 = local / tok_tiles * kRowTile, r1 = std::min(r0 + kRowTile, job.w_rows);
      const int64_t t0 = local % tok_tiles * kTokTile, t1 = std::min(t0 + kTokTile, n_tok);
      float out[kMaxCols];
      const float* xr[kMaxCols];
      for (int64_t t = t0; t < t1; t += kMaxCols) {
        const int nc = static_cast<int>(std::min<int64_t>(kMaxCols, t1 - t));
        for (int c = 0; c < nc; ++c) xr[c] = job.x + (t + c) * job.ldx;
        for (int64_t r = r0; r < r1; ++r) {
          const float* wr = job.w + r * job.ldw;
          if (dot_multi != nullptr) {
            dot_multi(k, wr, xr, nc, out);
          } else {
            for (int c = 0; c < nc; ++c) out[c] = dot(k, wr, xr[c]);
          }
          for (int c = 0; c < nc; ++c) job.y[(t + c) * job.ldy + r] = out[c];
        }
      }
    }
  });
}

// x = LayerNorm(x + add) * w + b over each of n rows of `e` floats (post-norm
// residual); `add` may be nullptr. Statistics in double: rows of up to a few
// thousand floats lose digits otherwise when the mean is large.
void AddNorm(float* x, const float* add, int64_t n, int64_t e, const std::vector<float>& w,
             const std::vector<float>& b, float eps) {
  for (int64_t t = 0; t < n; ++t) {
    float* row = x + t * e;
    if (add != nullptr) {
      const float* a = add + t * e;
      for (int64_t i = 0; i < e; ++i) row[i] += a[i];
    }
    double mean = 0;
    for (int64_t i = 0; i < e; ++i) mean += row[i];
    mean /= static_cast<double>(e);
    double var = 0;
    for (int64_t i = 0; i < e; ++i) var += (row[i] - mean) * (row[i] - mean);
    var /= static_cast<double>(e);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < e; ++i) {
      row[i] = static_cast<float>((row[i] - mean) * inv) * w[i] + b[i];
    }
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view PoolingName(Pooling p) {
  switch (p) {
    case Pooling::kNone:
      return "none";
    case Pooling::kMean:
      return "mean";
    case Pooling::kCls:
      return "cls";
    case Pooling::kLast:
      return "last";
  }
  return "?";
}

bool IsE5Name(std::string_view name) {
  const std::string n = Lower(name);
  for (size_t at = n.find("e5"); at != std::string::npos; at = n.find("e5", at + 1)) {
    const bool left = at == 0 || !std::isalnum(static_cast<unsigned char>(n[at - 1]));
    const bool right = at + 2 == n.size() || !std::isalnum(static_cast<unsigned char>(n[at + 2]));
    if (left && right) return true;
  }
  return false;
}

GgufEncoder::~GgufEncoder() = default;

absl::StatusOr<std::unique_ptr<GgufEncoder>> GgufEncoder::Open(const EncoderOptions& options) {
  if (options.model_path.empty()) return absl::InvalidArgumentError("no encoder model path");
  auto e = std::unique_ptr<GgufEncoder>(new GgufEncoder());
  absl::Status s = e->Load(options);
  if (!s.ok()) return s;
  return e;
}

absl::Status GgufEncoder::Load(const EncoderOptions& options) {
  auto file = GgufFile::Open(options.model_path);
  if (!file.ok()) return file.status();
  file_ = std::move(*file);
  const GgufFile& f = *file_;
  auto err = [&](std::string_view why) {
    return absl::InvalidArgumentError(Cat("encoder model ", f.path(), ": ", why));
  };
  auto arch = f.GetString("general.architecture");
  if (!arch.ok()) return arch.status();
  if (*arch != "bert") {
    return absl::UnimplementedError(Cat("encoder model ", f.path(), ": architecture '", *arch,
                                        "' is not supported (supported: bert)"));
  }
  EncoderConfig& c = config_;
  c.arch = *arch;
  const std::string p = c.arch + ".";
  auto count = [&](const std::string& key, int* out, bool required,
                   uint64_t fallback) -> absl::Status {
    absl::StatusOr<uint64_t> v = required ? f.GetUint(key) : f.GetUintOr(key, fallback);
    if (!v.ok()) return v.status();
    if (*v == 0 || *v > (1u << 24)) return err(Cat("key '", key, "' has an invalid value ", *v));
    *out = static_cast<int>(*v);
    return absl::OkStatus();
  };
  absl::Status s;
  int ctx_key = 0;
  if (!(s = count(p + "embedding_length", &c.n_embd, true, 0)).ok() ||
      !(s = count(p + "block_count", &c.n_layer, true, 0)).ok() ||
      !(s = count(p + "attention.head_count", &c.n_head, true, 0)).ok() ||
      !(s = count(p + "feed_forward_length", &c.n_ff, true, 0)).ok() ||
      !(s = count(p + "context_length", &ctx_key, false, 1u << 24)).ok()) {
    return s;
  }
  if (c.n_embd % c.n_head != 0) {
    return err(
        Cat("embedding length ", c.n_embd, " is not a multiple of the head count ", c.n_head));
  }
  auto eps = f.GetFloatOr(p + "attention.layer_norm_epsilon", 1e-12f);
  if (!eps.ok()) return eps.status();
  if (!(*eps >= 0 && *eps < 1)) return err(Cat("layer norm epsilon ", *eps, " is invalid"));
  c.eps = *eps;
  auto pooling = f.GetUintOr(p + "pooling_type", 1);
  if (!pooling.ok()) return pooling.status();
  if (*pooling > 3) {
    return absl::UnimplementedError(Cat("encoder model ", f.path(), ": pooling type ", *pooling,
                                        " is not supported (0 none, 1 mean, 2 cls, 3 last)"));
  }
  // "none" yields token vectors, which retrieval cannot use: average them, as
  // sentence-transformers' default pooling does.
  c.pooling = *pooling == 0 ? Pooling::kMean : static_cast<Pooling>(*pooling);
  if (!options.pooling.empty()) {
    if (options.pooling == "mean") {
      c.pooling = Pooling::kMean;
    } else if (options.pooling == "cls") {
      c.pooling = Pooling::kCls;
    } else if (options.pooling == "last") {
      c.pooling = Pooling::kLast;
    } else {
      return absl::InvalidArgumentError(
          Cat("unknown pooling '", options.pooling, "' (known: mean, cls, last)"));
    }
  }
  auto name = f.GetStringOr("general.name", "");
  if (!name.ok()) return name.status();
  c.name = name->empty() ? std::filesystem::path(f.path()).stem().string() : *name;

  auto tokenizer = Tokenizer::FromGguf(f);
  if (!tokenizer.ok()) {
    return absl::Status(tokenizer.status().code(),
                        Cat("encoder model ", f.path(), ": ", tokenizer.status().message()));
  }
  tokenizer_ = std::move(*tokenizer);

  // rows == 0: any number of rows, at least one.
  auto matrix = [&](const std::string& tname, int64_t cols, int64_t rows, bool required,
                    Matrix* out) -> absl::Status {
    const GgufTensorInfo* t = f.FindTensor(tname);
    if (t == nullptr) {
      return required ? err(Cat("tensor '", tname, "' is missing")) : absl::OkStatus();
    }
    absl::Status st = CheckSupportedType(t->type, tname);
    if (!st.ok()) return st;
    if (t->n_dims > 2 || static_cast<int64_t>(t->ne[0]) != cols ||
        (rows > 0 && static_cast<int64_t>(t->ne[1]) != rows) || t->ne[1] == 0) {
      return err(Cat("tensor '", tname, "' has shape [", t->ne[0], ", ", t->ne[1], "], expected [",
                     cols, ", ", rows > 0 ? Cat(rows) : std::string("rows"), "]"));
    }
    if (cols % BlockElems(t->type) != 0 || (UsesQuantizedActs(t->type) && cols % 32 != 0)) {
      return err(Cat("tensor '", tname, "': rows of ", cols, " elements do not fit type ",
                     GgmlTypeName(t->type)));
    }
    out->type = t->type;
    out->cols = cols;
    out->rows = static_cast<int64_t>(t->ne[1]);
    out->row_bytes = RowBytes(t->type, cols);
    out->data = f.TensorData(*t);
    return absl::OkStatus();
  };
  auto vec = [&](const std::string& tname, int64_t n, std::vector<float>* out) -> absl::Status {
    const GgufTensorInfo* t = f.FindTensor(tname);
    if (t == nullptr) return err(Cat("tensor '", tname, "' is missing"));
    absl::Status st = CheckSupportedType(t->type, tname);
    if (!st.ok()) return st;
    if (static_cast<int64_t>(t->n_elements) != n || n % BlockElems(t->type) != 0) {
      return err(Cat("tensor '", tname, "' has ", t->n_elements, " elements, expected ", n));
    }
    out->resize(n);
    DequantizeRow(t->type, f.TensorData(*t), out->data(), n);
    return absl::OkStatus();
  };

  const int E = c.n_embd;
  if (!(s = matrix("token_embd.weight", E, 0, true, &token_embd_)).ok() ||
      !(s = matrix("token_types.weight", E, 0, false, &token_types_)).ok() ||
      !(s = matrix("position_embd.weight", E, 0, true, &position_embd_)).ok() ||
      !(s = vec("token_embd_norm.weight", E, &embd_norm_w_)).ok() ||
      !(s = vec("token_embd_norm.bias", E, &embd_norm_b_)).ok()) {
    return s;
  }
  c.n_vocab = static_cast<int>(token_embd_.rows);
  c.n_token_types = static_cast<int>(token_types_.rows);
  c.n_ctx = static_cast<int>(std::min<int64_t>(ctx_key, position_embd_.rows));
  if (c.n_ctx < 3) {
    return err(Cat("context length ", c.n_ctx,
                   " leaves no room for text between the begin and "
                   "end tokens"));
  }
  if (tokenizer_->vocab_size() > c.n_vocab) {
    return err(Cat("the tokenizer has ", tokenizer_->vocab_size(),
                   " tokens but token_embd.weight only ", c.n_vocab, " rows"));
  }
  layers_.resize(c.n_layer);
  for (int i = 0; i < c.n_layer; ++i) {
    Layer& l = layers_[i];
    const std::string b = Cat("blk.", i, ".");
    if (!(s = matrix(b + "attn_q.weight", E, E, true, &l.wq)).ok() ||
        !(s = vec(b + "attn_q.bias", E, &l.bq)).ok() ||
        !(s = matrix(b + "attn_k.weight", E, E, true, &l.wk)).ok() ||
        !(s = vec(b + "attn_k.bias", E, &l.bk)).ok() ||
        !(s = matrix(b + "attn_v.weight", E, E, true, &l.wv)).ok() ||
        !(s = vec(b + "attn_v.bias", E, &l.bv)).ok() ||
        !(s = matrix(b + "attn_output.weight", E, E, true, &l.wo)).ok() ||
        !(s = vec(b + "attn_output.bias", E, &l.bo)).ok() ||
        !(s = vec(b + "attn_output_norm.weight", E, &l.attn_norm_w)).ok() ||
        !(s = vec(b + "attn_output_norm.bias", E, &l.attn_norm_b)).ok() ||
        !(s = matrix(b + "ffn_up.weight", E, c.n_ff, true, &l.w_up)).ok() ||
        !(s = vec(b + "ffn_up.bias", c.n_ff, &l.b_up)).ok() ||
        !(s = matrix(b + "ffn_down.weight", c.n_ff, E, true, &l.w_down)).ok() ||
        !(s = vec(b + "ffn_down.bias", E, &l.b_down)).ok() ||
        !(s = vec(b + "layer_output_norm.weight", E, &l.out_norm_w)).ok() ||
        !(s = vec(b + "layer_output_norm.bias", E, &l.out_norm_b)).ok()) {
      return s;
    }
  }

  if (options.max_tokens < 3) {
    return absl::InvalidArgumentError(Cat("max_tokens ", options.max_tokens, " is below 3"));
  }
  max_tokens_ = std::min(options.max_tokens, c.n_ctx);
  const bool e5 = IsE5Name(c.name);
  query_prefix_ = options.query_prefix.value_or(e5 ? "query: " : "");
  passage_prefix_ = options.passage_prefix.value_or(e5 ? "passage: " : "");
  kernels_ = options.kernels != nullptr ? options.kernels : &BestKernels();
  pool_ = std::make_unique<ThreadPool>(options.threads);

  // Identity: what determines the vectors, cheaply. The file name keeps it
  // readable; the hash tells apart files that share a name.
  Sha256 h;
  auto put = [&](const void* data, size_t n) { h.Update(data, n); };
  auto put_u64 = [&](uint64_t v) { put(&v, sizeof v); };
  for (const auto& [key, value] : f.metadata()) {
    put_u64(key.size());
    put(key.data(), key.size());
    put_u64(static_cast<uint64_t>(value.type));
    put_u64(static_cast<uint64_t>(value.array_type));
    put_u64(value.array_count);
    put_u64(value.size);
    put(value.data, value.size);
  }
  for (const GgufTensorInfo& t : f.tensors()) {
    put_u64(t.name.size());
    put(t.name.data(), t.name.size());
    put_u64(static_cast<uint64_t>(t.type));
    for (uint64_t d : t.ne) put_u64(d);
    put(f.TensorData(t), std::min(t.size_bytes, kHashedTensorBytes));
  }
  identity_ = Cat("gguf:", std::filesystem::path(f.path()).filename().string(), ":",
                  h.HexDigest().substr(0, 12), ":", c.n_embd);
  return absl::OkStatus();
}

std::vector<int32_t> GgufEncoder::Tokenize(std::string_view text, bool is_query) const {
  const std::string& prefix = is_query ? query_prefix_ : passage_prefix_;
  std::vector<int32_t> body;
  if (prefix.empty()) {
    body = tokenizer_->Encode(text, /*add_special=*/false);
  } else {
    std::string s = prefix;
    s.append(text.data(), text.size());
    body = tokenizer_->Encode(s, /*add_special=*/false);
  }
  const int32_t bos = tokenizer_->bos_id(), eos = tokenizer_->eos_id();
  const size_t room = static_cast<size_t>(max_tokens_) - (bos >= 0) - (eos >= 0);
  if (body.size() > room) body.resize(room);
  std::vector<int32_t> ids;
  ids.reserve(body.size() + 2);
  if (bos >= 0) ids.push_back(bos);
  ids.insert(ids.end(), body.begin(), body.end());
  if (eos >= 0) ids.push_back(eos);
  return ids;
}

absl::StatusOr<std::vector<float>> GgufEncoder::HiddenStates(
    const std::vector<int32_t>& ids) const {
  const EncoderConfig& c = config_;
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) return absl::InvalidArgumentError("no tokens to encode");
  if (n > max_tokens_) {
    return absl::InvalidArgumentError(Cat(n, " tokens exceed the limit of ", max_tokens_));
  }
  for (int32_t id : ids) {
    if (id < 0 || id >= c.n_vocab) {
      return absl::InvalidArgumentError(
          Cat("token id ", id, " is outside the vocabulary (", c.n_vocab, ")"));
    }
  }
  const int64_t E = c.n_embd, F = c.n_ff, hd = E / c.n_head;
  const KernelSet& ks = *kernels_;
  ThreadPool& pool = *pool_;

  // Embeddings: word + token type 0 (single-segment input) + position.
  std::vector<float> x(n * E), row(E);
  for (int64_t t = 0; t < n; ++t) {
    float* xt = x.data() + t * E;
    DequantizeRow(token_embd_.type, token_embd_.Row(ids[t]), xt, E);
    DequantizeRow(position_embd_.type, position_embd_.Row(t), row.data(), E);
    for (int64_t i = 0; i < E; ++i) xt[i] += row[i];
    if (token_types_.data != nullptr) {
      DequantizeRow(token_types_.type, token_types_.Row(0), row.data(), E);
      for (int64_t i = 0; i < E; ++i) xt[i] += row[i];
    }
  }
  AddNorm(x.data(), nullptr, n, E, embd_norm_w_, embd_norm_b_, c.eps);

  std::vector<float> q(n * E), k(n * E), v(n * E), att(n * E), tmp(n * E), h(n * F);
  // Attention scores of as many heads at a time as fit kScoreFloats (all heads up to 1024
  // tokens with 16 heads; long-context models set max_tokens high).
  const int64_t heads_per_pass = std::clamp<int64_t>(kScoreFloats / (n * n), 1, c.n_head);
  std::vector<float> vt(n * E), s(heads_per_pass * n * n);
  std::vector<FloatJob> score_jobs, out_jobs;
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  for (const Layer& l : layers_) {
    MatMul(ks, pool, x.data(), n,
           {{&l.wq, &l.bq, q.data()}, {&l.wk, &l.bk, k.data()}, {&l.wv, &l.bv, v.data()}});
    // Bidirectional attention over the whole input, as two products per head on the
    // float kernels: scores S = (Q K^T) / sqrt(hd), then softmax rows, then S V. V is
    // transposed first so that both products read contiguous rows.
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t i = 0; i < E; ++i) vt[i * n + t] = v[t * E + i];
    }
    for (float& a : q) a *= scale;
    for (int64_t h0 = 0; h0 < c.n_head; h0 += heads_per_pass) {
      const int64_t nh = std::min<int64_t>(heads_per_pass, c.n_head - h0);
      score_jobs.clear();
      out_jobs.clear();
      for (int64_t j = 0; j < nh; ++j) {
        const int64_t hh = h0 + j;
        float* sj = s.data() + j * n * n;
        score_jobs.push_back({k.data() + hh * hd, n, E, q.data() + hh * hd, E, sj, n});
        out_jobs.push_back({vt.data() + hh * hd * n, hd, n, sj, n, att.data() + hh * hd, E});
      }
      FloatMatMul(ks, pool, hd, n, score_jobs);
      pool.ParallelFor(nh * n, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          float* row = s.data() + r * n;
          float max = -INFINITY;
          for (int64_t p = 0; p < n; ++p) max = std::max(max, row[p]);
          for (int64_t p = 0; p < n; ++p) row[p] -= max;
          ExpInPlace(row, n);
          float sum = 0;
          for (int64_t p = 0; p < n; ++p) sum += row[p];
          const float inv = 1.f / sum;
          for (int64_t p = 0; p < n; ++p) row[p] *= inv;
        }
      });
      FloatMatMul(ks, pool, n, n, out_jobs);
    }
    MatMul(ks, pool, att.data(), n, {{&l.wo, &l.bo, tmp.data()}});
    AddNorm(x.data(), tmp.data(), n, E, l.attn_norm_w, l.attn_norm_b, c.eps);
    MatMul(ks, pool, x.data(), n, {{&l.w_up, &l.b_up, h.data()}});
    pool.ParallelFor(n, [&](int64_t t0, int64_t t1) {
      std::vector<float> scratch(F);
      for (int64_t t = t0; t < t1; ++t) GeluInPlace(h.data() + t * F, F, scratch.data());
    });
    MatMul(ks, pool, h.data(), n, {{&l.w_down, &l.b_down, tmp.data()}});
    AddNorm(x.data(), tmp.data(), n, E, l.out_norm_w, l.out_norm_b, c.eps);
  }
  return x;
}

absl::StatusOr<std::vector<float>> GgufEncoder::EmbedTokens(const std::vector<int32_t>& ids) const {
  absl::StatusOr<std::vector<float>> hidden = HiddenStates(ids);
  if (!hidden.ok()) return hidden.status();
  const int64_t E = config_.n_embd, n = static_cast<int64_t>(ids.size());
  std::vector<double> pooled(E, 0.0);
  switch (config_.pooling) {
    case Pooling::kNone:  // Load maps "none" to mean
    case Pooling::kMean:
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t i = 0; i < E; ++i) pooled[i] += (*hidden)[t * E + i];
      }
      for (double& p : pooled) p /= static_cast<double>(n);
      break;
    case Pooling::kCls:
      for (int64_t i = 0; i < E; ++i) pooled[i] = (*hidden)[i];
      break;
    case Pooling::kLast:
      for (int64_t i = 0; i < E; ++i) pooled[i] = (*hidden)[(n - 1) * E + i];
      break;
  }
  double norm = 0;
  for (double p : pooled) norm += p * p;
  norm = std::sqrt(norm);
  if (!(norm > 0) || !std::isfinite(norm)) {
    return absl::InternalError("the encoder produced a zero or non-finite vector");
  }
  std::vector<float> out(E);
  for (int64_t i = 0; i < E; ++i) out[i] = static_cast<float>(pooled[i] / norm);
  return out;
}

absl::StatusOr<std::vector<float>> GgufEncoder::Embed(std::string_view text, bool is_query) const {
  return EmbedTokens(Tokenize(text, is_query));
}

}  // namespace greffier::generate
