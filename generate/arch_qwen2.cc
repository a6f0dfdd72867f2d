// Qwen2 / Qwen2.5: NeoX-style rope (halves rotated together) and mandatory
// biases on the Q, K and V projections.
#include "generate/model.h"

namespace greffier::generate {

const ArchSpec& Qwen2Arch() {
  static const ArchSpec spec{"qwen2", RopeStyle::kNeox, true};
  return spec;
}

}  // namespace greffier::generate
