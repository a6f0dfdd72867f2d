#include "generate/decoder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "absl/status/status.h"
#include "generate/quant.h"
#include "generate/str_util.h"

namespace greffier::generate {
namespace {

constexpr int kRowTile = kPackRows;

void RmsNorm(const float* x, const float* w, int n, float eps, float* out) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  float scale = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
  for (int i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

// Rotates one head in place. cos/sin hold rope_dim/2 entries.
void Rope(float* h, int rope_dim, RopeStyle style, const float* cs, const float* sn) {
  const int half = rope_dim / 2;
  for (int i = 0; i < half; ++i) {
    int a = style == RopeStyle::kNorm ? 2 * i : i;
    int b = style == RopeStyle::kNorm ? 2 * i + 1 : i + half;
    float x0 = h[a], x1 = h[b];
    h[a] = x0 * cs[i] - x1 * sn[i];
    h[b] = x0 * sn[i] + x1 * cs[i];
  }
}

}  // namespace

std::string_view StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kMaxTokens:
      return "max_tokens";
    case StopReason::kEndOfSequence:
      return "end_of_sequence";
    case StopReason::kStopString:
      return "stop_string";
    case StopReason::kCancelled:
      return "cancelled";
    case StopReason::kCallback:
      return "callback";
    case StopReason::kContextFull:
      return "context_full";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<Decoder>> Decoder::Create(const Model* model,
                                                         const DecoderOptions& options) {
  if (model == nullptr) return absl::InvalidArgumentError("null model");
  auto d = std::unique_ptr<Decoder>(new Decoder());
  d->model_ = model;
  d->kernels_ = options.kernels != nullptr ? options.kernels : &BestKernels();
  d->pool_ = std::make_unique<ThreadPool>(options.n_threads);
  const ModelConfig& c = model->config();
  int n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min(c.n_ctx_train, 4096);
  if (n_ctx <= 0 || n_ctx > (1 << 20)) {
    return absl::InvalidArgumentError(Cat("invalid context size ", n_ctx));
  }
  d->n_batch_ = std::clamp(options.n_batch, 1, n_ctx);
  d->cache_.Init(c.n_layer, c.n_head_kv * c.head_dim, n_ctx);
  return d;
}

void Decoder::MatMul(const float* x, int n_tok, int ldx,
                     std::initializer_list<MatMulJob> jobs_list) {
  const MatMulJob* jobs = jobs_list.begin();
  const int n_jobs = static_cast<int>(jobs_list.size());
  const int64_t k = jobs[0].w->cols;
  const KernelSet& ks = *kernels_;
  // Packed matrices go through the matrix kernels (any token count).
  auto use_packed = [&](const WeightMatrix& w) {
    return w.packed != nullptr && ks.gemm_packed[static_cast<int>(w.type)] != nullptr;
  };
  bool need_q = false, need_multi = false;
  for (int j = 0; j < n_jobs; ++j) {
    need_q |= UsesQuantizedActs(jobs[j].w->type);
    need_multi |= UsesQuantizedActs(jobs[j].w->type) && !use_packed(*jobs[j].w) && n_tok > 1;
  }
  const int64_t nb = k / 32;
  if (need_q) {
    act_q_.resize(static_cast<size_t>(n_tok) * k);
    act_d_.resize(static_cast<size_t>(n_tok) * nb);
    act_s_.resize(static_cast<size_t>(n_tok) * nb);
    act_qsum_.resize(static_cast<size_t>(n_tok) * nb);
    act_qsum16_.resize(static_cast<size_t>(n_tok) * nb * 2);
    if (need_multi) {
      act_d8_.resize(static_cast<size_t>(n_tok) * nb * 8);
      act_qu_.resize(static_cast<size_t>(n_tok) * k);
    }
    auto quant = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        kernels_->quantize_acts(k, x + t * ldx, act_q_.data() + t * k, act_d_.data() + t * nb,
                                act_s_.data() + t * nb);
        const int8_t* q = act_q_.data() + t * k;
        for (int64_t b = 0; b < nb; ++b) {
          int32_t lo = 0, hi = 0;
          for (int j = 0; j < 16; ++j) {
            lo += q[32 * b + j];
            hi += q[32 * b + 16 + j];
          }
          act_qsum16_[(t * nb + b) * 2] = lo;
          act_qsum16_[(t * nb + b) * 2 + 1] = hi;
          act_qsum_[t * nb + b] = lo + hi;
        }
        if (need_multi) {
          float* d8 = act_d8_.data() + t * nb * 8;
          for (int64_t b = 0; b < nb; ++b) {
            std::fill(d8 + 8 * b, d8 + 8 * b + 8, act_d_[t * nb + b]);
          }
          uint8_t* qu = act_qu_.data() + t * k;
          for (int64_t j = 0; j < k; ++j) {
            qu[j] = static_cast<uint8_t>(q[j] ^ 0x80);
          }
        }
      }
    };
    if (n_tok >= 4) {
      pool_->ParallelFor(n_tok, quant);
    } else {
      quant(0, n_tok);
    }
    act_rows_.resize(n_tok);
    for (int t = 0; t < n_tok; ++t) {
      QuantizedRow& r = act_rows_[t];
      r.q = act_q_.data() + t * k;
      r.d = act_d_.data() + t * nb;
      r.s = act_s_.data() + t * nb;
      r.qsum = act_qsum_.data() + t * nb;
      r.qsum16 = act_qsum16_.data() + t * nb * 2;
    }
  }
  int64_t tiles_before[8];
  int64_t total = 0;
  for (int j = 0; j < n_jobs; ++j) {
    tiles_before[j] = total;
    total += (jobs[j].w->rows + kRowTile - 1) / kRowTile;
  }
  // A few chunks per thread: enough to balance, few enough that claiming
  // (a contended atomic) stays negligible next to the work.
  const int64_t grain = std::max<int64_t>(1, total / (4 * pool_->size()));
  pool_->ParallelFor(total, grain, [&](int64_t t0, int64_t t1, int) {
    for (int64_t tile = t0; tile < t1; ++tile) {
      int j = n_jobs - 1;
      while (tiles_before[j] > tile) --j;
      const MatMulJob& job = jobs[j];
      const WeightMatrix& w = *job.w;
      int64_t r0 = (tile - tiles_before[j]) * kRowTile;
      int64_t r1 = std::min<int64_t>(r0 + kRowTile, w.rows);
      const int code = static_cast<int>(w.type);
      if (use_packed(w)) {
        // Tiles are kRowTile = kPackRows rows: one panel each.
        ks.gemm_packed[code](k, w.packed + (r0 / kPackRows) * w.panel_bytes, act_rows_.data(),
                             n_tok, static_cast<int>(r1 - r0), job.y + r0, job.ldy);
      } else if (UsesQuantizedActs(w.type) && ks.dot_q_multi[code] != nullptr && n_tok > 1) {
        DotQMultiFn dot = ks.dot_q_multi[code];
        QuantizedRow xr[kMaxCols];
        float out[kMaxCols];
        for (int t = 0; t < n_tok; t += kMaxCols) {
          const int nc = std::min(kMaxCols, n_tok - t);
          for (int c = 0; c < nc; ++c) {
            xr[c] = {act_q_.data() + (t + c) * k, act_d_.data() + (t + c) * nb,
                     act_s_.data() + (t + c) * nb, act_d8_.data() + (t + c) * nb * 8,
                     act_qu_.data() + (t + c) * k};
          }
          for (int64_t r = r0; r < r1; ++r) {
            dot(k, w.Row(r), xr, nc, out);
            for (int c = 0; c < nc; ++c) {
              job.y[static_cast<int64_t>(t + c) * job.ldy + r] = out[c];
            }
          }
        }
      } else if (UsesQuantizedActs(w.type)) {
        DotQFn dot = ks.dot_q[code];
        for (int t = 0; t < n_tok; ++t) {
          QuantizedRow xr{act_q_.data() + t * k, act_d_.data() + t * nb, act_s_.data() + t * nb};
          float* y = job.y + static_cast<int64_t>(t) * job.ldy;
          for (int64_t r = r0; r < r1; ++r) y[r] = dot(k, w.Row(r), xr);
        }
      } else if (ks.dot_f_multi[code] != nullptr && n_tok > 1) {
        DotFMultiFn dot = ks.dot_f_multi[code];
        const float* xr[kMaxCols];
        float out[kMaxCols];
        for (int t = 0; t < n_tok; t += kMaxCols) {
          const int nc = std::min(kMaxCols, n_tok - t);
          for (int c = 0; c < nc; ++c) {
            xr[c] = x + static_cast<int64_t>(t + c) * ldx;
          }
          for (int64_t r = r0; r < r1; ++r) {
            dot(k, w.Row(r), xr, nc, out);
            for (int c = 0; c < nc; ++c) {
              job.y[static_cast<int64_t>(t + c) * job.ldy + r] = out[c];
            }
          }
        }
      } else {
        DotFFn dot = ks.dot_f[code];
        for (int t = 0; t < n_tok; ++t) {
          const float* xr = x + static_cast<int64_t>(t) * ldx;
          float* y = job.y + static_cast<int64_t>(t) * job.ldy;
          for (int64_t r = r0; r < r1; ++r) y[r] = dot(k, w.Row(r), xr);
        }
      }
    }
  });
}

void Decoder::Attention(int layer, int n_tok, int pos0) {
  const ModelConfig& c = model_->config();
  const int hd = c.head_dim;
  const int q_dim = c.n_head * hd;
  const int group = c.n_head / c.n_head_kv;
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  const int n_ctx = cache_.capacity();
  // One job per (token, KV head): the query heads sharing that KV head go
  // through each key and value together.
  scores_.resize(static_cast<size_t>(pool_->size()) * group * n_ctx);
  const int64_t total = static_cast<int64_t>(n_tok) * c.n_head_kv;
  const KernelSet& ks = *kernels_;
  const int kv_dim = c.n_head_kv * hd;
  pool_->ParallelFor(total, 1, [&](int64_t j0, int64_t j1, int ti) {
    float* sc = scores_.data() + static_cast<size_t>(ti) * group * n_ctx;
    for (int64_t job = j0; job < j1; ++job) {
      const int t = static_cast<int>(job / c.n_head_kv);
      const int kvh = static_cast<int>(job % c.n_head_kv);
      const int n_pos = pos0 + t + 1;
      const size_t head0 = static_cast<size_t>(t) * q_dim + static_cast<size_t>(kvh) * group * hd;
      ks.attn_scores(hd, n_pos, cache_.KT(layer, kvh * hd), n_ctx, q_.data() + head0, group, scale,
                     sc, n_ctx);
      for (int g = 0; g < group; ++g) ks.softmax(n_pos, sc + static_cast<size_t>(g) * n_ctx);
      ks.attn_values(hd, n_pos, cache_.V(layer, 0) + kvh * hd, kv_dim, sc, n_ctx, group,
                     att_.data() + head0);
    }
  });
}

absl::Status Decoder::Forward(const std::vector<int32_t>& tokens, std::vector<float>* logits,
                              bool all_logits) {
  const ModelConfig& c = model_->config();
  const int n_total = static_cast<int>(tokens.size());
  if (n_total == 0) return absl::InvalidArgumentError("no tokens to process");
  for (int32_t t : tokens) {
    if (t < 0 || t >= c.n_vocab) {
      return absl::InvalidArgumentError(
          Cat("token id ", t, " is outside the vocabulary (", c.n_vocab, ")"));
    }
  }
  if (position() + n_total > cache_.capacity()) {
    return absl::OutOfRangeError(
        Cat("context full: ", position(), " cached + ", n_total, " new > ", cache_.capacity()));
  }
  const int E = c.n_embd, hd = c.head_dim;
  const int q_dim = c.n_head * hd, kv_dim = c.n_head_kv * hd;
  const int V = c.n_vocab;
  logits->assign(static_cast<size_t>(all_logits ? n_total : 1) * V, 0.f);

  for (int start = 0; start < n_total; start += n_batch_) {
    const int n = std::min(n_batch_, n_total - start);
    const int pos0 = position();
    x_.resize(static_cast<size_t>(n) * E);
    xn_.resize(static_cast<size_t>(n) * std::max(E, q_dim));
    q_.resize(static_cast<size_t>(n) * q_dim);
    k_.resize(static_cast<size_t>(n) * kv_dim);
    v_.resize(static_cast<size_t>(n) * kv_dim);
    att_.resize(static_cast<size_t>(n) * q_dim);
    gate_.resize(static_cast<size_t>(n) * c.n_ff);
    up_.resize(static_cast<size_t>(n) * c.n_ff);
    const WeightMatrix& emb = model_->token_embd();
    for (int t = 0; t < n; ++t) {
      DequantizeRow(emb.type, emb.Row(tokens[start + t]), x_.data() + static_cast<size_t>(t) * E,
                    E);
    }
    // Rope angles per token, shared by every layer and head.
    const int half = c.rope_dim / 2;
    rope_cos_.resize(static_cast<size_t>(n) * half);
    rope_sin_.resize(static_cast<size_t>(n) * half);
    const std::vector<float>& ff = model_->rope_freq_factors();
    for (int t = 0; t < n; ++t) {
      double pos = (pos0 + t) / static_cast<double>(c.rope_linear_scale);
      for (int i = 0; i < half; ++i) {
        double freq = std::pow(static_cast<double>(c.rope_theta), -2.0 * i / c.rope_dim);
        if (!ff.empty()) freq /= ff[i];
        double a = pos * freq;
        rope_cos_[static_cast<size_t>(t) * half + i] = static_cast<float>(std::cos(a));
        rope_sin_[static_cast<size_t>(t) * half + i] = static_cast<float>(std::sin(a));
      }
    }

    // Per-token elementwise work, split across the pool for prompts (it
    // would otherwise run on one thread between parallel matrix products).
    auto per_token = [&](auto&& fn) {
      if (n >= 4) {
        pool_->ParallelFor(n, [&](int64_t t0, int64_t t1) {
          for (int64_t t = t0; t < t1; ++t) fn(static_cast<int>(t));
        });
      } else {
        for (int t = 0; t < n; ++t) fn(t);
      }
    };
    for (int l = 0; l < c.n_layer; ++l) {
      const LayerWeights& lw = model_->layers()[l];
      per_token([&](int t) {
        RmsNorm(x_.data() + static_cast<size_t>(t) * E, lw.attn_norm.data(), E, c.rms_eps,
                xn_.data() + static_cast<size_t>(t) * E);
      });
      MatMul(
          xn_.data(), n, E,
          {{&lw.wq, q_.data(), q_dim}, {&lw.wk, k_.data(), kv_dim}, {&lw.wv, v_.data(), kv_dim}});
      per_token([&](int t) {
        float* q = q_.data() + static_cast<size_t>(t) * q_dim;
        float* k = k_.data() + static_cast<size_t>(t) * kv_dim;
        float* v = v_.data() + static_cast<size_t>(t) * kv_dim;
        if (!lw.bq.empty()) {
          for (int i = 0; i < q_dim; ++i) q[i] += lw.bq[i];
          for (int i = 0; i < kv_dim; ++i) k[i] += lw.bk[i];
          for (int i = 0; i < kv_dim; ++i) v[i] += lw.bv[i];
        }
        const float* cs = rope_cos_.data() + static_cast<size_t>(t) * half;
        const float* sn = rope_sin_.data() + static_cast<size_t>(t) * half;
        for (int h = 0; h < c.n_head; ++h) {
          Rope(q + h * hd, c.rope_dim, c.rope_style, cs, sn);
        }
        for (int h = 0; h < c.n_head_kv; ++h) {
          Rope(k + h * hd, c.rope_dim, c.rope_style, cs, sn);
        }
        cache_.SetK(l, pos0 + t, k);
        std::memcpy(cache_.V(l, pos0 + t), v, kv_dim * sizeof(float));
      });
      Attention(l, n, pos0);
      // xn_ receives the attention output projection, then is added.
      MatMul(att_.data(), n, q_dim, {{&lw.wo, xn_.data(), E}});
      per_token([&](int t) {
        float* x = x_.data() + static_cast<size_t>(t) * E;
        float* xn = xn_.data() + static_cast<size_t>(t) * E;
        for (int i = 0; i < E; ++i) x[i] += xn[i];
        RmsNorm(x, lw.ffn_norm.data(), E, c.rms_eps, xn);
      });
      MatMul(xn_.data(), n, E,
             {{&lw.w_gate, gate_.data(), c.n_ff}, {&lw.w_up, up_.data(), c.n_ff}});
      per_token([&](int t) {
        float* g = gate_.data() + static_cast<size_t>(t) * c.n_ff;
        const float* u = up_.data() + static_cast<size_t>(t) * c.n_ff;
        kernels_->silu_mul(c.n_ff, g, u);
      });
      MatMul(gate_.data(), n, c.n_ff, {{&lw.w_down, xn_.data(), E}});
      per_token([&](int t) {
        float* x = x_.data() + static_cast<size_t>(t) * E;
        const float* xn = xn_.data() + static_cast<size_t>(t) * E;
        for (int i = 0; i < E; ++i) x[i] += xn[i];
      });
    }
    cache_.set_length(pos0 + n);

    // Final norm and output projection: every token, or the last one only.
    const bool last_batch = start + n == n_total;
    if (!all_logits && !last_batch) continue;
    const int first = all_logits ? 0 : n - 1;
    const int count = n - first;
    for (int t = first; t < n; ++t) {
      RmsNorm(x_.data() + static_cast<size_t>(t) * E, model_->output_norm().data(), E, c.rms_eps,
              xn_.data() + static_cast<size_t>(t - first) * E);
    }
    float* out = logits->data() + (all_logits ? static_cast<size_t>(start) * V : 0);
    MatMul(xn_.data(), count, E, {{&model_->output(), out, V}});
  }
  return absl::OkStatus();
}

absl::StatusOr<GenerateResult> Generate(Decoder* decoder, const std::vector<int32_t>& prompt,
                                        const GenerateOptions& options) {
  using Clock = std::chrono::steady_clock;
  GenerateResult result;
  if (prompt.empty()) return absl::InvalidArgumentError("empty prompt");
  if (!options.stop_strings.empty() && !options.detokenize) {
    return absl::InvalidArgumentError("stop strings need a detokenizer");
  }
  std::vector<int32_t> stop_tokens = options.stop_tokens;
  if (stop_tokens.empty() && decoder->model().eos_token() >= 0) {
    stop_tokens.push_back(decoder->model().eos_token());
  }
  decoder->Truncate(0);
  std::vector<float> logits;
  auto t0 = Clock::now();
  absl::Status s = decoder->Forward(prompt, &logits);
  if (!s.ok()) return s;
  auto t1 = Clock::now();
  result.prompt_tokens = static_cast<int>(prompt.size());
  result.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();

  Sampler sampler(options.sampling);
  std::vector<int32_t> history = prompt;
  size_t emitted = 0;  // bytes of result.text already streamed
  result.stop_reason = StopReason::kMaxTokens;
  for (int i = 0; i < options.max_tokens; ++i) {
    if (options.cancel != nullptr && options.cancel->load()) {
      result.stop_reason = StopReason::kCancelled;
      break;
    }
    int32_t tok = sampler.Sample(&logits, history);
    if (std::find(stop_tokens.begin(), stop_tokens.end(), tok) != stop_tokens.end()) {
      result.stop_reason = StopReason::kEndOfSequence;
      break;
    }
    result.tokens.push_back(tok);
    history.push_back(tok);
    bool stop = false;
    size_t releasable = 0;
    if (options.detokenize) {
      result.text += options.detokenize(tok);
      releasable = result.text.size();
      for (const std::string& ss : options.stop_strings) {
        if (ss.empty()) continue;
        size_t at = result.text.find(ss, emitted > ss.size() ? emitted - ss.size() : 0);
        if (at != std::string::npos) {
          result.text.resize(at);
          releasable = at;
          stop = true;
          break;
        }
      }
      if (!stop) {
        // Hold back a suffix that could begin a stop string.
        for (const std::string& ss : options.stop_strings) {
          if (ss.empty()) continue;
          for (size_t len = std::min(ss.size() - 1, result.text.size()); len > 0; --len) {
            if (result.text.compare(result.text.size() - len, len, ss, 0, len) == 0) {
              releasable = std::min(releasable, result.text.size() - len);
              break;
            }
          }
        }
      }
      releasable = std::max(releasable, emitted);
    }
    if (options.on_token) {
      std::string_view piece(result.text.data() + emitted, releasable - emitted);
      emitted = releasable;
      if (!options.on_token(tok, piece)) {
        result.stop_reason = StopReason::kCallback;
        break;
      }
    }
    if (stop) {
      result.stop_reason = StopReason::kStopString;
      break;
    }
    if (i + 1 == options.max_tokens) break;
    if (decoder->position() >= decoder->n_ctx()) {
      result.stop_reason = StopReason::kContextFull;
      break;
    }
    s = decoder->Forward({tok}, &logits);
    if (!s.ok()) return s;
  }
  if (options.on_token && emitted < result.text.size() &&
      result.stop_reason != StopReason::kCallback) {
    options.on_token(-1, std::string_view(result.text).substr(emitted));
  }
  result.generation_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return result;
}

}  // namespace greffier::generate
