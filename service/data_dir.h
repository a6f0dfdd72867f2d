#ifndef GREFFIER_SERVICE_DATA_DIR_H_
#define GREFFIER_SERVICE_DATA_DIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "generate/embedder.h"
#include "index/index.h"
#include "index/retriever.h"

namespace greffier::service {

// The embedder a data directory uses: `embedding_model` when given (a GGUF embedding
// model); else the GGUF model that `greffier reembed --embedder gguf:FILE` recorded in it
// (embedder.gguf holds the model's path); else the corpus-trained LSA model stored in it
// (embedder.lsa, written by `greffier reembed --embedder lsa`); else the feature-hashing
// default that needs no model.
absl::StatusOr<std::unique_ptr<generate::Embedder>> LoadEmbedder(
    const std::string& data_dir, const std::string& embedding_model = "");

// Opens the index of `data_dir` with `embedder`. Read-only opens accept whatever embedder
// the directory was built with.
absl::StatusOr<std::unique_ptr<index::Index>> OpenIndex(const std::string& data_dir,
                                                        const generate::Embedder& embedder,
                                                        bool read_only,
                                                        const std::string& faiss_factory = "auto");

enum class EmbedderKind { kHashing, kLsa, kGguf };

// An embedder as `--embedder` names it: "hashing", "lsa" or "gguf:FILE" (a GGUF embedding
// model: BERT/MiniLM/bge with WordPiece, XLM-RoBERTa/e5/bge-m3 with unigram).
struct EmbedderSpec {
  EmbedderKind kind = EmbedderKind::kHashing;
  // The model file of kGguf. Default: "".
  std::string model_path;
};
// The `--embedder` values, for usage texts.
inline constexpr char kEmbedderChoices[] = "lsa|hashing|gguf:FILE.gguf";
absl::StatusOr<EmbedderSpec> ParseEmbedderSpec(const std::string& flag);

// Switches `index` (opened on `data_dir`) to a new embedder: for kLsa, trains the model on
// the stored passages and saves it in the directory; for kGguf, opens the model and records
// its path in the directory; then re-embeds every passage. Prints progress to stderr.
// Returns the embedder now in use.
absl::StatusOr<std::unique_ptr<generate::Embedder>> Reembed(index::Index& index,
                                                            const std::string& data_dir,
                                                            const EmbedderSpec& spec);
absl::StatusOr<std::unique_ptr<generate::Embedder>> Reembed(index::Index& index,
                                                            const std::string& data_dir,
                                                            EmbedderKind kind);

// Retrieval settings suited to `embedder`: hybrid fusion with a trained (LSA) model; BM25
// alone with the feature-hashing default, whose lexical vectors only add noise to BM25
// (measured: see the retrieval issue's note).
index::RetrieverOptions RetrieverOptionsFor(const generate::Embedder& embedder);

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_DATA_DIR_H_
