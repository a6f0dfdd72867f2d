// Ask latency with the built-in extractive answerer on a synthetic archive.
//
//   build/tests/bench/ask_bench [--passages 10000] [--questions 300]
//
// Builds a scratch index of French-like text documents through the normal ingestion path,
// then asks questions made from words of random passages, and prints one table: time to the
// first event (passages) and to the final event, p50/p99, plus ingestion throughput.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "generate/hashing_embedder.h"
#include "ingest/ingester.h"
#include "service/ask_pipeline.h"
#include "service/data_dir.h"

namespace {

using Clock = std::chrono::steady_clock;

const char* kSyllables[] = {"ar",  "re",  "te",   "mu",  "ni",   "ci",  "pa", "li", "dé",  "li",
                            "bé",  "ra",  "tion", "con", "seil", "ser", "vi", "ce", "pu",  "bli",
                            "que", "ges", "ta",   "for", "ma",   "lo",  "ca", "ré", "gle", "ment"};

std::vector<std::string> MakeVocabulary(std::mt19937& rng, size_t n) {
  std::vector<std::string> words;
  std::uniform_int_distribution<int> len(2, 4);
  std::uniform_int_distribution<size_t> syl(0, std::size(kSyllables) - 1);
  while (words.size() < n) {
    std::string w;
    for (int i = len(rng); i > 0; --i) w += kSyllables[syl(rng)];
    words.push_back(w);
  }
  return words;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  size_t passages = 10000, questions = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--passages") passages = std::stoul(argv[i + 1]);
    if (flag == "--questions") questions = std::stoul(argv[i + 1]);
  }
  using namespace greffier;
  std::mt19937 rng(7);
  std::vector<std::string> vocab = MakeVocabulary(rng, 20000);
  // Zipf-like word choice: common words are common.
  std::vector<double> weights(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) weights[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  auto sentence = [&](size_t words) {
    std::string s;
    for (size_t w = 0; w < words; ++w) absl::StrAppend(&s, w ? " " : "", vocab[pick(rng)]);
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s + ".";
  };

  std::string dir =
      (std::filesystem::temp_directory_path() / absl::StrCat("greffier-ask-bench-", getpid()))
          .string();
  generate::HashingEmbedder embedder;
  auto index = service::OpenIndex(dir, embedder, false);
  if (!index.ok()) {
    std::fprintf(stderr, "%s\n", index.status().ToString().c_str());
    return 1;
  }
  ingest::IngesterOptions io;
  io.index = index->get();
  io.embedder = &embedder;
  auto ingester = ingest::Ingester::Open(io);
  if (!ingester.ok()) return 1;
  // Documents of five articles of about 700 characters: about five passages each.
  auto start = Clock::now();
  size_t docs = 0;
  while ((*index)->Stats().passages < passages) {
    std::string text;
    for (int article = 1; article <= 5; ++article) {
      absl::StrAppend(&text, "Article ", article, "\n");
      for (int s = 0; s < 6; ++s) absl::StrAppend(&text, sentence(14), " ");
      text += "\n\n";
    }
    auto r = (*ingester)->Ingest(text, absl::StrCat("doc-", docs++, ".txt"), {});
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  double ingest_s = std::chrono::duration<double>(Clock::now() - start).count();
  const size_t stored = (*index)->Stats().passages;

  service::AskPipelineOptions options;
  options.retriever = service::RetrieverOptionsFor(embedder);
  service::AskPipeline pipeline(index->get(), &embedder, nullptr, options);
  service::Caller caller{"bench", {}, false};
  std::vector<double> first_ms, final_ms;
  size_t refused = 0;
  std::uniform_int_distribution<uint64_t> any_passage(1, stored);
  for (size_t q = 0; q < questions; ++q) {
    auto p = (*index)->GetPassage(any_passage(rng));
    if (!p.ok()) continue;
    // A question from five words of the passage.
    std::vector<std::string> words;
    for (size_t pos = 0; pos < p->text.size();) {
      size_t end = p->text.find_first_of(" \n.", pos);
      if (end == std::string::npos) end = p->text.size();
      if (end > pos + 3) words.push_back(p->text.substr(pos, end - pos));
      pos = end + 1;
    }
    std::shuffle(words.begin(), words.end(), rng);
    words.resize(std::min<size_t>(words.size(), 5));
    std::string question;
    for (const auto& w : words) absl::StrAppend(&question, question.empty() ? "" : " ", w);
    question += " ?";
    greffier::v1::AskRequest req;
    req.set_question(question);
    auto t0 = Clock::now();
    double first = 0;
    auto final = pipeline.Ask(
        req, caller,
        [&](const greffier::v1::AskEvent& e) {
          if (e.has_passages()) {
            first = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          }
          return true;
        },
        nullptr);
    if (!final.ok()) continue;
    final_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    first_ms.push_back(first);
    refused += final->refused();
  }
  std::printf(
      "ask_bench --passages %zu --questions %zu (extractive answerer, BM25, audit synced)\n\n",
      passages, questions);
  std::printf(
      "| passages | ingest passages/s | first event p50 ms | p99 ms | final event p50 ms | p99 ms "
      "| refused |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %zu | %.0f | %.2f | %.2f | %.2f | %.2f | %zu/%zu |\n", stored,
              static_cast<double>(stored) / ingest_s, Percentile(first_ms, 0.5),
              Percentile(first_ms, 0.99), Percentile(final_ms, 0.5), Percentile(final_ms, 0.99),
              refused, final_ms.size());
  index->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
