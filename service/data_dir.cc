#include "service/data_dir.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "generate/hashing_embedder.h"
#include "generate/lsa_embedder.h"
#include "index/status_macros.h"
#include "ingest/ingester.h"

namespace greffier::service {
namespace {

constexpr char kLsaFile[] = "embedder.lsa";

}  // namespace

index::RetrieverOptions RetrieverOptionsFor(const generate::Embedder& embedder) {
  index::RetrieverOptions o;
  o.use_dense = embedder.Identity().rfind("hashing", 0) != 0;
  return o;
}

absl::StatusOr<std::unique_ptr<generate::Embedder>> LoadEmbedder(const std::string& data_dir) {
  std::filesystem::path lsa = std::filesystem::path(data_dir) / kLsaFile;
  std::error_code ec;
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
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<generate::Embedder> embedder;
  std::filesystem::path lsa_path = std::filesystem::path(data_dir) / kLsaFile;
  std::filesystem::path next_path = lsa_path;
  next_path += ".next";
  if (kind == EmbedderKind::kLsa) {
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
  if (ec) return absl::UnavailableError(absl::StrCat("cannot install the model: ", ec.message()));
  std::fprintf(stderr, "reembed: done in %.1f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return embedder;
}

}  // namespace greffier::service
