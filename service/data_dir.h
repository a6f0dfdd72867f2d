#ifndef GREFFIER_SERVICE_DATA_DIR_H_
#define GREFFIER_SERVICE_DATA_DIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "generate/embedder.h"
#include "index/index.h"
#include "index/retriever.h"

namespace greffier::service {

// The embedder a data directory uses: the corpus-trained LSA model stored in it
// (embedder.lsa, written by `greffier reembed --embedder lsa`), else the feature-hashing
// default that needs no model.
absl::StatusOr<std::unique_ptr<generate::Embedder>> LoadEmbedder(const std::string& data_dir);

// Opens the index of `data_dir` with `embedder`. Read-only opens accept whatever embedder
// the directory was built with.
absl::StatusOr<std::unique_ptr<index::Index>> OpenIndex(const std::string& data_dir,
                                                        const generate::Embedder& embedder,
                                                        bool read_only,
                                                        const std::string& faiss_factory = "Flat");

enum class EmbedderKind { kHashing, kLsa };

// Switches `index` (opened on `data_dir`) to a new embedder: for kLsa, trains the model on
// the stored passages and saves it in the directory; then re-embeds every passage. Prints
// progress to stderr. Returns the embedder now in use.
absl::StatusOr<std::unique_ptr<generate::Embedder>> Reembed(index::Index& index,
                                                            const std::string& data_dir,
                                                            EmbedderKind kind);

// Retrieval settings suited to `embedder`: hybrid fusion with a trained (LSA) model; BM25
// alone with the feature-hashing default, whose lexical vectors only add noise to BM25
// (measured: see the retrieval issue's note).
index::RetrieverOptions RetrieverOptionsFor(const generate::Embedder& embedder);

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_DATA_DIR_H_
