// BM25 retrieval quality and latency on a BEIR folder (corpus.jsonl,
// queries.jsonl, qrels.tsv), with the French analyzer, all in memory.
//
//   bm25_eval_bench DIR [--fields=text|title_text] [--stemming=none|light|
//       snowball] [--accents_first=0|1] [--stop=0|1] [--k1=1.2] [--b=0.75]
//       [--grid] [--misses=N]
//
// --grid tries every analyzer variant and a k1/b grid and prints one row each;
// --misses=N prints N queries whose relevant document is not in the top 10.
// Latency is per query, analysis included, one thread.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "index/beir.h"
#include "index/bm25.h"
#include "index/text_analysis.h"

namespace {

using greffier::index::Bm25Searcher;
using greffier::index::FrenchAnalyzer;

struct Config {
  std::string dir;
  bool title = false;
  FrenchAnalyzer::Options analyzer;
  Bm25Searcher::Options bm25;
  bool grid = false;
  int misses = 0;  // Queries missed in the top 10 to print, for analysis.
};

const char* StemmingName(FrenchAnalyzer::Stemming s) {
  switch (s) {
    case FrenchAnalyzer::Stemming::kNone:
      return "none";
    case FrenchAnalyzer::Stemming::kLight:
      return "light";
    case FrenchAnalyzer::Stemming::kSnowball:
      return "snowball";
  }
  return "?";
}

bool ParseArgs(int argc, char** argv, Config* config) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&arg](std::string_view flag) -> const char* {
      if (!arg.starts_with(flag)) return nullptr;
      return arg.data() + flag.size();
    };
    if (const char* v = value("--fields=")) {
      std::string_view f = v;
      if (f != "text" && f != "title_text") return false;
      config->title = f == "title_text";
    } else if (const char* v = value("--stemming=")) {
      std::string_view s = v;
      if (s == "none") {
        config->analyzer.stemming = FrenchAnalyzer::Stemming::kNone;
      } else if (s == "light") {
        config->analyzer.stemming = FrenchAnalyzer::Stemming::kLight;
      } else if (s == "snowball") {
        config->analyzer.stemming = FrenchAnalyzer::Stemming::kSnowball;
      } else {
        return false;
      }
    } else if (const char* v = value("--accents_first=")) {
      config->analyzer.fold_accents_before_stemming = std::atoi(v) != 0;
    } else if (const char* v = value("--stop=")) {
      config->analyzer.remove_stop_words = std::atoi(v) != 0;
    } else if (const char* v = value("--k1=")) {
      config->bm25.k1 = std::atof(v);
    } else if (const char* v = value("--b=")) {
      config->bm25.b = std::atof(v);
    } else if (const char* v = value("--misses=")) {
      config->misses = std::atoi(v);
    } else if (arg == "--grid") {
      config->grid = true;
    } else if (!arg.starts_with("--") && config->dir.empty()) {
      config->dir = arg;
    } else {
      return false;
    }
  }
  return !config->dir.empty();
}

struct Prepared {
  greffier::index::MemoryPostings postings;
  std::vector<std::vector<std::string>> query_terms;
  double index_seconds = 0;
};

bool Prepare(const greffier::index::BeirDataset& data, const Config& config,
             FrenchAnalyzer* analyzer, Prepared* out) {
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < data.corpus.size(); ++i) {
    const auto& doc = data.corpus[i];
    std::string text = config.title ? doc.title + "\n" + doc.text : doc.text;
    auto status = out->postings.Add(i, analyzer->AnalyzeToStrings(text));
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return false;
    }
  }
  out->index_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return true;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Runs every query with qrels; prints one markdown row.
bool Run(const greffier::index::BeirDataset& data, const Config& config, FrenchAnalyzer* analyzer,
         const Prepared& prepared, std::string_view label) {
  Bm25Searcher searcher(&prepared.postings, config.bm25);
  greffier::index::RetrievalEvaluator evaluator;
  std::vector<double> latencies_us;
  int misses_left = config.misses;
  for (const auto& query : data.queries) {
    auto rel = data.qrels.find(query.id);
    if (rel == data.qrels.end()) continue;
    auto start = std::chrono::steady_clock::now();
    // Analysis is part of the query's cost.
    std::vector<std::string> terms = analyzer->AnalyzeToStrings(query.text);
    auto hits = searcher.Search(terms, 20);
    latencies_us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
    if (!hits.ok()) {
      std::fprintf(stderr, "query %s: %s\n", query.id.c_str(), hits.status().ToString().c_str());
      return false;
    }
    std::vector<std::string> ranked;
    for (const auto& hit : *hits) ranked.push_back(data.corpus[hit.passage_id].id);
    evaluator.AddQuery(rel->second, ranked);
    if (misses_left > 0) {
      auto pos = std::find(ranked.begin(), ranked.end(), rel->second.begin()->first);
      if (pos - ranked.begin() >= 10) {
        --misses_left;
        std::printf("MISS rank %ld: %s\n  terms:", pos - ranked.begin(), query.text.c_str());
        for (const auto& t : terms) std::printf(" %s", t.c_str());
        std::printf("\n  top1: %s\n", ranked.empty() ? "-" : ranked[0].c_str());
      }
    }
  }
  auto m = evaluator.Summary();
  std::printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.0f | %.0f | %zu |\n",
              std::string(label).c_str(), m.recall_at_1, m.recall_at_5, m.recall_at_10,
              m.recall_at_20, m.mrr_at_10, m.ndcg_at_10, Percentile(latencies_us, 0.50),
              Percentile(latencies_us, 0.99), m.queries);
  return true;
}

std::string Label(const Config& c) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%s %s%s%s k1=%.2f b=%.2f", c.title ? "title+text" : "text",
                StemmingName(c.analyzer.stemming),
                c.analyzer.stemming == FrenchAnalyzer::Stemming::kSnowball
                    ? (c.analyzer.fold_accents_before_stemming ? "(af)" : "(acc)")
                    : "",
                c.analyzer.remove_stop_words ? " stop" : " nostop", c.bm25.k1, c.bm25.b);
  return buf;
}

bool Evaluate(const greffier::index::BeirDataset& data, const Config& config,
              const std::vector<Bm25Searcher::Options>& bm25s) {
  auto analyzer = FrenchAnalyzer::Create(config.analyzer);
  if (!analyzer.ok()) {
    std::fprintf(stderr, "%s\n", analyzer.status().ToString().c_str());
    return false;
  }
  Prepared prepared;
  if (!Prepare(data, config, analyzer->get(), &prepared)) return false;
  for (const auto& bm25 : bm25s) {
    Config c = config;
    c.bm25 = bm25;
    if (!Run(data, c, analyzer->get(), prepared, Label(c))) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  if (!ParseArgs(argc, argv, &config)) {
    std::fprintf(stderr,
                 "usage: %s DIR [--fields=text|title_text] "
                 "[--stemming=none|light|snowball] [--accents_first=0|1] "
                 "[--stop=0|1] [--k1=X] [--b=X] [--grid]\n",
                 argv[0]);
    return 2;
  }
  auto data = greffier::index::ReadBeirDataset(config.dir);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  std::printf("%s: %zu documents, %zu queries, %zu with qrels\n", config.dir.c_str(),
              data->corpus.size(), data->queries.size(), data->qrels.size());
  std::printf(
      "| configuration | R@1 | R@5 | R@10 | R@20 | MRR@10 | nDCG@10 | p50 us | "
      "p99 us | queries "
      "|\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  if (!config.grid) {
    return Evaluate(*data, config, {config.bm25}) ? 0 : 1;
  }
  std::vector<Bm25Searcher::Options> bm25s;
  for (double k1 : {0.9, 1.2, 1.5, 2.0}) {
    for (double b : {0.5, 0.75, 0.9}) bm25s.push_back({k1, b});
  }
  using S = FrenchAnalyzer::Stemming;
  struct Variant {
    S stemming;
    bool accents_first;
    bool stop;
  };
  for (Variant v : {Variant{S::kNone, true, true}, Variant{S::kLight, true, true},
                    Variant{S::kSnowball, true, true}, Variant{S::kSnowball, false, true},
                    Variant{S::kSnowball, true, false}}) {
    Config c = config;
    c.analyzer.stemming = v.stemming;
    c.analyzer.fold_accents_before_stemming = v.accents_first;
    c.analyzer.remove_stop_words = v.stop;
    if (!Evaluate(*data, c, bm25s)) return 1;
  }
  return 0;
}
