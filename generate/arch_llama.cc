// Llama 2/3, Mistral, TinyLlama: the GGUF converter permutes Q/K rows so
// that rope rotates adjacent pairs; biases are optional.
#include "generate/model.h"

namespace greffier::generate {

const ArchSpec& LlamaArch() {
  static const ArchSpec spec{"llama", RopeStyle::kNorm, false};
  return spec;
}

}  // namespace greffier::generate
