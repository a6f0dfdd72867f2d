#include "service/data_dir.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "generate/encoder.h"
#include "generate/hashing_embedder.h"
#include "generate/lsa_embedder.h"
#include "index/status_macros.h"
#include "ingest/ingester.h"

namespace greffier::service {
namespace {

constexpr char kLsaFile[] = "embedder.lsa";
// One line: the absolute path of the GGUF embedding model the index was embedded with.
constexpr char kGgufFile[] = "embedder.gguf";

absl::StatusOr<std::unique_ptr<generate::Embedder>> OpenGguf(const std::string& path) {
  generate::EncoderOptions o;
  o.model_path = path;
  GREFFIER_ASSIGN_OR_RETURN(std::unique_ptr<generate::GgufEncoder> e,
                            generate::GgufEncoder::Open(o));
  return std::unique_ptr<generate::Embedder>(std::move(e));
}

}  // namespace

absl::StatusOr<EmbedderSpec> ParseEmbedderSpec(const std::string& flag) {
  EmbedderSpec spec;
  if (flag == "hashing") {
    spec.kind = EmbedderKind::kHashing;
  } else if (flag == "lsa") {
    spec.kind = EmbedderKind::kLsa;
  } else if (flag.rfind("gguf:", 0) == 0 && flag.size() > 5) {
    spec.kind = EmbedderKind::kGguf;
    spec.model_path = flag.substr(5);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--embedder must be ", kEmbedderChoices, ", not '", flag, "'"));
  }
  return spec;
}

index::RetrieverOptions RetrieverOptionsFor(const generate::Embedder& embedder) {
  index::RetrieverOptions o;
  o.use_dense = embedder.Identity().rfind("hashing", 0) != 0;
  return o;
}

absl::StatusOr<std::unique_ptr<generate::Embedder>> LoadEmbedder(
    const std::string& data_dir, const std::string& embedding_model) {
  if (!embedding_model.empty()) return OpenGguf(embedding_model);
  std::error_code ec;
  std::filesystem::path gguf = std::filesystem::path(data_dir) / kGgufFile;
  if (std::filesystem::exists(gguf, ec)) {
    std::ifstream in(gguf);
    std::string path;
    std::getline(in, path);
    if (path.empty()) {
      return absl::DataLossError(absl::StrCat(gguf.string(), " names no embedding model"));
    }
    absl::StatusOr<std::unique_ptr<generate::Embedder>> e = OpenGguf(path);
    if (!e.ok()) {
      return absl::Status(e.status().code(),
                          absl::StrCat("the embedding model recorded in ", gguf.string(), ": ",
                                       e.status().message()));
    }
    return e;
  }
  std::filesystem::path lsa = std::filesystem::path(data_dir) / kLsaFile;
  if (std::filesystem::exists(lsa, ec)) {
    GREFFIER_ASSIGN_OR_RETURN(std::unique_ptr<generate::LsaEmbedder> model,
                              generate::LsaEmbedder::Load(lsa));
    return std::unique_ptr<generate::Embedder>(std::move(model));
  }
  return std::unique_ptr<generate::Embedder>(std::make_unique<generate::HashingEmbedder>());
}

absl::StatusOr<std::unique_ptr<index::Index>> OpenIndex(const std::string& data_dir,
                                                        const generate::Embedder& embedder,
                                                        bool read_only,
                                                        const std::string& faiss_factory) {
  index::IndexOptions o;
  o.path = data_dir;
  o.embedder_id = embedder.Identity();
  o.dimension = embedder.Dimension();
  o.faiss_factory = faiss_factory;
  o.read_only = read_only;
  o.any_embedder = read_only;
  return index::Index::Open(o);
}

absl::StatusOr<std::unique_ptr<generate::Embedder>> Reembed(index::Index& index,
                                                            const std::string& data_dir,
                                                            EmbedderKind kind) {
  EmbedderSpec spec;
  spec.kind = kind;
  return Reembed(index, data_dir, spec);
}

absl::StatusOr<std::unique_ptr<generate::Embedder>> Reembed(index::Index& index,
                                                            const std::string& data_dir,
                                                            const EmbedderSpec& spec) {
  const EmbedderKind kind = spec.kind;
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<generate::Embedder> embedder;
  std::filesystem::path lsa_path = std::filesystem::path(data_dir) / kLsaFile;
  std::filesystem::path gguf_path = std::filesystem::path(data_dir) / kGgufFile;
  std::filesystem::path next_path = kind == EmbedderKind::kGguf ? gguf_path : lsa_path;
  next_path += ".next";
  if (kind == EmbedderKind::kGguf) {
    if (spec.model_path.empty()) return absl::InvalidArgumentError("no GGUF embedding model");
    std::error_code ec;
    std::filesystem::path model = std::filesystem::absolute(spec.model_path, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat(spec.model_path, ": ", ec.message()));
    GREFFIER_ASSIGN_OR_RETURN(embedder, OpenGguf(model.string()));
    // Recorded only once every passage is re-embedded (rename below).
    std::ofstream out(next_path, std::ios::trunc);
    out << model.string() << "\n";
    out.close();
    if (!out) {
      return absl::UnavailableError(absl::StrCat("cannot write ", next_path.string()));
    }
  } else if (kind == EmbedderKind::kLsa) {
    std::vector<std::string> texts;
    uint64_t after = 0;
    index::SearchFilter everything;
    everything.ignore_labels = true;  // training must see every passage
    for (;;) {
      GREFFIER_ASSIGN_OR_RETURN(std::vector<index::DocumentRecord> docs,
                                index.ListDocuments(after, 1000, everything));
      if (docs.empty()) break;
      for (const auto& d : docs) {
        after = d.id;
        for (uint64_t pid : d.passage_ids) {
          GREFFIER_ASSIGN_OR_RETURN(index::PassageRecord p, index.GetPassage(pid));
          texts.push_back(ingest::EmbeddingText(d.title, p.section_path, p.text));
        }
      }
    }
    std::fprintf(stderr, "reembed: training the LSA model on %zu passages\n", texts.size());
    GREFFIER_ASSIGN_OR_RETURN(std::unique_ptr<generate::LsaEmbedder> model,
                              generate::LsaEmbedder::Train(texts));
    GREFFIER_RETURN_IF_ERROR(model->Save(next_path));
    embedder = std::move(model);
  } else {
    embedder = std::make_unique<generate::HashingEmbedder>();
  }
  std::fprintf(stderr, "reembed: embedding every passage with %s\n", embedder->Identity().c_str());
  const generate::Embedder& e = *embedder;
  GREFFIER_RETURN_IF_ERROR(
      index.Reembed(e.Identity(), e.Dimension(),
                    [&](const index::PassageRecord& p, const index::DocumentRecord& d) {
                      return e.Embed(ingest::EmbeddingText(d.title, p.section_path, p.text), false);
                    }));
  std::error_code ec;
  if (kind == EmbedderKind::kLsa) {
    std::filesystem::rename(next_path, lsa_path, ec);
  } else {
    std::filesystem::remove(lsa_path, ec);
  }
  if (!ec && kind == EmbedderKind::kGguf) {
    std::filesystem::rename(next_path, gguf_path, ec);
  } else if (!ec) {
    std::filesystem::remove(gguf_path, ec);
  }
  if (ec) return absl::UnavailableError(absl::StrCat("cannot install the model: ", ec.message()));
  std::fprintf(stderr, "reembed: done in %.1f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return embedder;
}

}  // namespace greffier::service
