#ifndef GREFFIER_GENERATE_EMBEDDER_H_
#define GREFFIER_GENERATE_EMBEDDER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace greffier::generate {

// Turns text into a unit-length vector for dense retrieval.
// Implementations are thread-safe: Embed may be called from several threads at once.
class Embedder {
 public:
  virtual ~Embedder() = default;
  // A stable name that changes whenever the vectors would change (model, dimension, version).
  virtual std::string Identity() const = 0;
  virtual int Dimension() const = 0;
  // `is_query` lets asymmetric models (e5, bge) add their query/passage prefixes.
  virtual absl::StatusOr<std::vector<float>> Embed(std::string_view text, bool is_query) const = 0;
};

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_EMBEDDER_H_
