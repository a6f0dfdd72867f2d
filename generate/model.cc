#include "generate/model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "generate/kernels.h"
#include "generate/quant.h"
#include "generate/str_util.h"

namespace greffier::generate {

const ArchSpec* FindArch(std::string_view name) {
  // One line per architecture.
  static const ArchSpec* const kTable[] = {&LlamaArch(), &Qwen2Arch()};
  for (const ArchSpec* a : kTable) {
    if (a->name == name) return a;
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<Model>> Model::Open(const std::string& path) {
  auto file = GgufFile::Open(path);
  if (!file.ok()) return file.status();
  auto model = std::unique_ptr<Model>(new Model());
  model->file_ = std::move(*file);
  model->file_mapped_ = true;
  absl::Status s = model->Load();
  if (!s.ok()) return s;
  return model;
}

absl::StatusOr<std::unique_ptr<Model>> Model::FromGguf(std::unique_ptr<GgufFile> file) {
  auto model = std::unique_ptr<Model>(new Model());
  model->file_ = std::move(file);
  absl::Status s = model->Load();
  if (!s.ok()) return s;
  return model;
}

void Model::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

// Repacks at load time: the matrix kernels read 16 rows at once, and a
// one-off copy costs far less than re-interleaving on every forward pass.
// One buffer for all matrices, so that huge-page rounding is paid once.
void Model::PackAll(const std::vector<WeightMatrix*>& matrices) {
  std::vector<WeightMatrix*> todo;
  std::vector<size_t> offsets;
  size_t total = 0;
  for (WeightMatrix* w : matrices) {
    // Only what this CPU's kernels read packed (a decoder with another
    // kernel set falls back to the unpacked rows).
    if (!HasPackedLayout(w->type) ||
        BestKernels().gemm_packed[static_cast<int>(w->type)] == nullptr) {
      continue;
    }
    todo.push_back(w);
    offsets.push_back(total);
    const size_t bytes =
        PackedPanelBytes(w->type, w->cols) * ((w->rows + kPackRows - 1) / kPackRows);
    total += (bytes + 63) & ~size_t{63};
  }
  if (todo.empty()) return;
  // Huge pages where the kernel allows them: generation streams every
  // weight once per token, and 4 KiB pages cost a TLB miss every 4 KiB.
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t align = total >= kHuge ? kHuge : 64;
  const size_t alloc = (total + align - 1) & ~(align - 1);
  auto* buf = static_cast<uint8_t*>(std::aligned_alloc(align, alloc));
  if (buf == nullptr) return;  // the unpacked kernels still work
  if (align == kHuge) madvise(buf, alloc, MADV_HUGEPAGE);
  packed_.reset(buf);
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (size_t m = 0; m < todo.size(); ++m) {
    WeightMatrix* w = todo[m];
    w->panel_bytes = PackedPanelBytes(w->type, w->cols);
    PackRows(w->type, w->data, w->row_bytes, w->rows, w->cols, buf + offsets[m]);
    w->packed = buf + offsets[m];
    if (file_mapped_) {
      // The forward pass reads the packed copy only: hand the mapped pages
      // back so resident memory stays one copy of the weights. Rows still
      // read from the mapping (tied token embeddings) fault back in.
      const uintptr_t begin = (reinterpret_cast<uintptr_t>(w->data) + page - 1) & ~(page - 1);
      const uintptr_t end =
          (reinterpret_cast<uintptr_t>(w->data) + w->row_bytes * w->rows) & ~(page - 1);
      if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
    }
  }
}

absl::Status Model::Load() {
  const GgufFile& f = *file_;
  auto err = [&](std::string_view why) {
    return absl::InvalidArgumentError(Cat("model ", f.path(), ": ", why));
  };
  auto arch_name = f.GetString("general.architecture");
  if (!arch_name.ok()) return arch_name.status();
  const ArchSpec* arch = FindArch(*arch_name);
  if (arch == nullptr) {
    return absl::UnimplementedError(Cat("model ", f.path(), ": architecture '", *arch_name,
                                        "' is not supported (supported: llama, qwen2)"));
  }
  ModelConfig& c = config_;
  c.arch = *arch_name;
  c.rope_style = arch->rope_style;
  const std::string p = c.arch + ".";
  // Reads a positive count that must fit an int.
  auto count = [&](const std::string& key, int* out, int64_t fallback,
                   bool required) -> absl::Status {
    absl::StatusOr<uint64_t> v = required ? f.GetUint(key) : f.GetUintOr(key, fallback);
    if (!v.ok()) return v.status();
    if (*v == 0 || *v > (1u << 30)) {
      return err(Cat("key '", key, "' has an invalid value ", *v));
    }
    *out = static_cast<int>(*v);
    return absl::OkStatus();
  };
  absl::Status s;
  if (!(s = count(p + "embedding_length", &c.n_embd, 0, true)).ok()) return s;
  if (!(s = count(p + "block_count", &c.n_layer, 0, true)).ok()) return s;
  if (!(s = count(p + "attention.head_count", &c.n_head, 0, true)).ok()) {
    return s;
  }
  if (!(s = count(p + "attention.head_count_kv", &c.n_head_kv, c.n_head, false)).ok()) {
    return s;
  }
  if (!(s = count(p + "feed_forward_length", &c.n_ff, 0, true)).ok()) return s;
  if (!(s = count(p + "context_length", &c.n_ctx_train, 2048, false)).ok()) {
    return s;
  }
  if (c.n_embd % c.n_head != 0) {
    return err(
        Cat("embedding length ", c.n_embd, " is not a multiple of the head count ", c.n_head));
  }
  if (!(s = count(p + "attention.key_length", &c.head_dim, c.n_embd / c.n_head, false)).ok()) {
    return s;
  }
  if (c.n_head % c.n_head_kv != 0) {
    return err(
        Cat("head count ", c.n_head, " is not a multiple of the KV head count ", c.n_head_kv));
  }
  if (!(s = count(p + "rope.dimension_count", &c.rope_dim, c.head_dim, false)).ok()) {
    return s;
  }
  if (c.rope_dim > c.head_dim || c.rope_dim % 2 != 0) {
    return err(Cat("rope dimension ", c.rope_dim, " invalid for head size ", c.head_dim));
  }
  auto eps = f.GetFloatOr(p + "attention.layer_norm_rms_epsilon", 1e-5f);
  if (!eps.ok()) return eps.status();
  c.rms_eps = *eps;
  auto theta = f.GetFloatOr(p + "rope.freq_base", 10000.f);
  if (!theta.ok()) return theta.status();
  c.rope_theta = *theta;
  if (!(c.rope_theta > 0)) return err("rope.freq_base must be positive");
  auto scaling = f.GetStringOr(p + "rope.scaling.type", "none");
  if (!scaling.ok()) return scaling.status();
  if (*scaling == "linear") {
    auto factor = f.GetFloatOr(p + "rope.scaling.factor", 1.f);
    if (!factor.ok()) return factor.status();
    if (!(*factor > 0)) return err("rope.scaling.factor must be positive");
    c.rope_linear_scale = *factor;
  } else if (*scaling != "none" && *scaling != "llama3") {
    // Llama 3 scaling comes as the rope_freqs tensor, read below.
    return absl::UnimplementedError(
        Cat("model ", f.path(), ": rope scaling '", *scaling, "' is not supported"));
  }

  auto matrix = [&](const std::string& name, int64_t cols, int64_t rows,
                    WeightMatrix* out) -> absl::Status {
    const GgufTensorInfo* t = f.FindTensor(name);
    if (t == nullptr) return err(Cat("tensor '", name, "' is missing"));
    absl::Status st = CheckSupportedType(t->type, name);
    if (!st.ok()) return st;
    if (t->n_dims > 2 || static_cast<int64_t>(t->ne[0]) != cols ||
        (rows > 0 && static_cast<int64_t>(t->ne[1]) != rows)) {
      return err(Cat("tensor '", name, "' has shape [", t->ne[0], ", ", t->ne[1], "], expected [",
                     cols, ", ", rows, "]"));
    }
    out->name = name;
    out->type = t->type;
    out->cols = cols;
    out->rows = static_cast<int64_t>(t->ne[1]);
    out->row_bytes = RowBytes(t->type, cols);
    out->data = f.TensorData(*t);
    weight_bytes_ += t->size_bytes;
    return absl::OkStatus();
  };
  auto vec = [&](const std::string& name, int64_t n, bool required,
                 std::vector<float>* out) -> absl::Status {
    const GgufTensorInfo* t = f.FindTensor(name);
    if (t == nullptr) {
      if (required) return err(Cat("tensor '", name, "' is missing"));
      out->clear();
      return absl::OkStatus();
    }
    absl::Status st = CheckSupportedType(t->type, name);
    if (!st.ok()) return st;
    if (static_cast<int64_t>(t->n_elements) != n) {
      return err(Cat("tensor '", name, "' has ", t->n_elements, " elements, expected ", n));
    }
    out->resize(n);
    DequantizeRow(t->type, f.TensorData(*t), out->data(), n);
    return absl::OkStatus();
  };

  s = matrix("token_embd.weight", c.n_embd, 0, &token_embd_);
  if (!s.ok()) return s;
  c.n_vocab = static_cast<int>(token_embd_.rows);
  weight_bytes_ -= token_embd_.row_bytes * token_embd_.rows;  // one row read
  if (f.FindTensor("output.weight") != nullptr) {
    s = matrix("output.weight", c.n_embd, c.n_vocab, &output_);
    if (!s.ok()) return s;
  } else {
    output_ = token_embd_;  // tied embeddings
    weight_bytes_ += token_embd_.row_bytes * token_embd_.rows;
  }
  if (!(s = vec("output_norm.weight", c.n_embd, true, &output_norm_)).ok()) {
    return s;
  }
  if (!(s = vec("rope_freqs.weight", c.rope_dim / 2, false, &rope_freqs_)).ok()) {
    return s;
  }
  const int q_dim = c.n_head * c.head_dim;
  const int kv_dim = c.n_head_kv * c.head_dim;
  layers_.resize(c.n_layer);
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = layers_[i];
    const std::string b = Cat("blk.", i, ".");
    if (!(s = vec(b + "attn_norm.weight", c.n_embd, true, &l.attn_norm)).ok() ||
        !(s = matrix(b + "attn_q.weight", c.n_embd, q_dim, &l.wq)).ok() ||
        !(s = matrix(b + "attn_k.weight", c.n_embd, kv_dim, &l.wk)).ok() ||
        !(s = matrix(b + "attn_v.weight", c.n_embd, kv_dim, &l.wv)).ok() ||
        !(s = matrix(b + "attn_output.weight", q_dim, c.n_embd, &l.wo)).ok() ||
        !(s = vec(b + "attn_q.bias", q_dim, arch->requires_qkv_bias, &l.bq)).ok() ||
        !(s = vec(b + "attn_k.bias", kv_dim, arch->requires_qkv_bias, &l.bk)).ok() ||
        !(s = vec(b + "attn_v.bias", kv_dim, arch->requires_qkv_bias, &l.bv)).ok() ||
        !(s = vec(b + "ffn_norm.weight", c.n_embd, true, &l.ffn_norm)).ok() ||
        !(s = matrix(b + "ffn_gate.weight", c.n_embd, c.n_ff, &l.w_gate)).ok() ||
        !(s = matrix(b + "ffn_up.weight", c.n_embd, c.n_ff, &l.w_up)).ok() ||
        !(s = matrix(b + "ffn_down.weight", c.n_ff, c.n_embd, &l.w_down)).ok()) {
      return s;
    }
  }
  // Not token_embd: it is only read row by row.
  std::vector<WeightMatrix*> to_pack = {&output_};
  for (LayerWeights& l : layers_) {
    to_pack.insert(to_pack.end(), {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down});
  }
  PackAll(to_pack);
  auto eos = f.GetUintOr("tokenizer.ggml.eos_token_id", UINT32_MAX);
  auto bos = f.GetUintOr("tokenizer.ggml.bos_token_id", UINT32_MAX);
  if (eos.ok() && *eos < static_cast<uint64_t>(c.n_vocab)) {
    eos_ = static_cast<int32_t>(*eos);
  }
  if (bos.ok() && *bos < static_cast<uint64_t>(c.n_vocab)) {
    bos_ = static_cast<int32_t>(*bos);
  }
  return absl::OkStatus();
}

}  // namespace greffier::generate
