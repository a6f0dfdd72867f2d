// Embedding throughput of the native encoder on a random model shaped like all-MiniLM-L6-v2
// (hidden 384, 6 layers, 12 heads, FFN 1536, vocabulary 30522), F16 and Q8_0, at 1 and 2
// threads. Prints figures; asserts nothing about time.
//
// usage: encoder_bench [PASSAGES [WORDS_PER_PASSAGE [THREADS...]]]
// Defaults: 40 passages of 200 words (each word one token, so 202 tokens with [CLS]/[SEP]),
// threads 1 and 2.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "generate/encoder.h"
#include "generate/model_maker.h"

namespace gen = greffier::generate;

// CPU seconds used by the whole process (all threads): on a shared machine, throughput per
// CPU-second is steadier than per wall-clock second.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

int main(int argc, char** argv) {
  const int n_passages = argc > 1 ? std::atoi(argv[1]) : 40;
  const int n_words = argc > 2 ? std::atoi(argv[2]) : 200;
  std::vector<int> thread_counts;
  for (int i = 3; i < argc; ++i) thread_counts.push_back(std::atoi(argv[i]));
  if (thread_counts.empty()) thread_counts = {1, 2};
  if (n_passages <= 0 || n_words <= 0) {
    std::fprintf(stderr, "usage: encoder_bench [PASSAGES [WORDS_PER_PASSAGE [THREADS...]]]\n");
    return 2;
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("greffier-encoder-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);

  // Words of the maker's vocabulary ("w<N>" fillers and a few real words): one token each.
  std::vector<std::string> passages;
  uint64_t s = 12345;
  for (int p = 0; p < n_passages; ++p) {
    std::string text;
    for (int w = 0; w < n_words; ++w) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      const int pick = static_cast<int>((s >> 33) % 30000);
      if (pick < 3000) {
        text += "the ";
      } else {
        text += 'w';
        text += std::to_string(pick);
        text += ' ';
      }
    }
    passages.push_back(text);
  }

  std::printf(
      "| model | type | threads | tokens/passage | passages/s | tokens/s | ms/passage | "
      "passages/CPU-s |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const char* type : {"f16", "q8_0"}) {
    gen::MakeModelOptions mo;
    mo.shape = gen::MiniLmL6Shape();
    mo.type = type;
    const std::string path = (dir / (std::string("minilm-l6-") + type + ".gguf")).string();
    absl::Status st = gen::WriteRandomModel(mo, path);
    if (!st.ok()) {
      std::fprintf(stderr, "encoder_bench: %s\n", std::string(st.message()).c_str());
      return 1;
    }
    for (int threads : thread_counts) {
      gen::EncoderOptions eo;
      eo.model_path = path;
      eo.threads = threads;
      auto enc = gen::GgufEncoder::Open(eo);
      if (!enc.ok()) {
        std::fprintf(stderr, "encoder_bench: %s\n", enc.status().ToString().c_str());
        return 1;
      }
      // One warm-up pass maps the weights in.
      if (!(*enc)->Embed(passages[0], false).ok()) return 1;
      size_t tokens = 0;
      for (const auto& p : passages) tokens += (*enc)->Tokenize(p, false).size();
      auto t0 = std::chrono::steady_clock::now();
      const double cpu0 = CpuSeconds();
      for (const auto& p : passages) {
        auto v = (*enc)->Embed(p, false);
        if (!v.ok()) {
          std::fprintf(stderr, "encoder_bench: %s\n", v.status().ToString().c_str());
          return 1;
        }
      }
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double cpu = CpuSeconds() - cpu0;
      std::printf("| minilm-l6 (random) | %s | %d | %.0f | %.1f | %.0f | %.1f | %.1f |\n", type,
                  (*enc)->n_threads(), static_cast<double>(tokens) / n_passages, n_passages / secs,
                  tokens / secs, 1000 * secs / n_passages, n_passages / cpu);
      std::fflush(stdout);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
