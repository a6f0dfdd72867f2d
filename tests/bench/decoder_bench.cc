// Prompt-processing and generation speed of the native decoder on any GGUF
// model: `decoder_bench [--pp 512] [--tg 128] [--threads 1,2] MODEL.gguf...`.
// Prints one table (tokens/s). Random token ids: speed does not depend on
// the text.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "generate/decoder.h"
#include "generate/kernels.h"
#include "generate/model.h"

namespace gen = greffier::generate;

// CPU seconds of the whole process: on a shared machine, tokens per CPU
// second move less with other load than tokens per wall second.
double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int main(int argc, char** argv) {
  int pp = 512, tg = 128;
  std::vector<int> threads = {1, 2};
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--pp" || a == "--tg" || a == "--threads") && i + 1 < argc) {
      std::string v = argv[++i];
      if (a == "--pp") pp = std::atoi(v.c_str());
      if (a == "--tg") tg = std::atoi(v.c_str());
      if (a == "--threads") {
        threads.clear();
        size_t pos = 0;
        while (pos <= v.size()) {
          size_t c = v.find(',', pos);
          if (c == std::string::npos) c = v.size();
          threads.push_back(std::atoi(v.substr(pos, c - pos).c_str()));
          pos = c + 1;
        }
      }
    } else if (!a.empty() && a[0] != '-') {
      models.push_back(a);
    } else {
      std::fprintf(stderr,
                   "usage: decoder_bench [--pp N] [--tg N] [--threads 1,2] "
                   "MODEL.gguf...\n");
      return 2;
    }
  }
  if (models.empty()) {
    std::fprintf(stderr, "decoder_bench: no model given\n");
    return 2;
  }
  std::printf("kernels: %s\n", std::string(gen::SimdLevelName(gen::BestKernels().level)).c_str());
  std::printf("| %-40s | %7s | %14s | %14s | %14s | %14s |\n", "model", "threads",
              ("pp" + std::to_string(pp) + " tok/s").c_str(),
              ("tg" + std::to_string(tg) + " tok/s").c_str(), "pp tok/cpu-s", "tg tok/cpu-s");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(42, '-').c_str(), std::string(9, '-').c_str(),
              std::string(16, '-').c_str(), std::string(16, '-').c_str(),
              std::string(16, '-').c_str(), std::string(16, '-').c_str());
  using Clock = std::chrono::steady_clock;
  for (const std::string& path : models) {
    auto model = gen::Model::Open(path);
    if (!model.ok()) {
      std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
      return 1;
    }
    const int vocab = (*model)->config().n_vocab;
    std::vector<int32_t> prompt(pp);
    uint32_t s = 12345;
    for (int32_t& t : prompt) {
      s = s * 1664525u + 1013904223u;
      t = static_cast<int32_t>((s >> 8) % vocab);
    }
    std::string name = path.substr(path.find_last_of('/') + 1);
    for (int nt : threads) {
      gen::DecoderOptions o;
      o.n_threads = nt;
      o.n_ctx = pp + tg + 8;
      auto dec = gen::Decoder::Create(model->get(), o);
      if (!dec.ok()) return 1;
      std::vector<float> logits;
      // Warm-up: touches the weights once (page cache, mmap faults).
      if (!(*dec)->Forward({prompt[0]}, &logits).ok()) return 1;
      (*dec)->Truncate(0);
      auto t0 = Clock::now();
      double c0 = CpuSeconds();
      if (!(*dec)->Forward(prompt, &logits).ok()) return 1;
      double pp_s = std::chrono::duration<double>(Clock::now() - t0).count();
      double pp_cpu = CpuSeconds() - c0;
      // Generation after a short context, greedy, one token per pass.
      (*dec)->Truncate(0);
      if (!(*dec)->Forward({prompt[0]}, &logits).ok()) return 1;
      int32_t tok = 0;
      auto t1 = Clock::now();
      double c1 = CpuSeconds();
      for (int i = 0; i < tg; ++i) {
        tok = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        if (!(*dec)->Forward({tok}, &logits).ok()) return 1;
      }
      double tg_s = std::chrono::duration<double>(Clock::now() - t1).count();
      double tg_cpu = CpuSeconds() - c1;
      std::printf("| %-40s | %7d | %14.2f | %14.2f | %14.2f | %14.2f |\n", name.c_str(), nt,
                  pp / pp_s, tg / tg_s, pp / pp_cpu, tg / tg_cpu);
      std::fflush(stdout);
    }
  }
  return 0;
}
