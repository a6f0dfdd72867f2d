// Hybrid retrieval quality on a BEIR folder (corpus.jsonl, queries.jsonl,
// qrels.tsv): BM25 (French analyzer), dense retrieval with the embedders that
// need no model file (feature hashing; LSA trained on the corpus itself), and
// their fusions, all in memory with exact search.
//
//   hybrid_eval_bench DIR [--fields=text|title_text] [--dim=256]
//       [--stem=7] [--ngram=0] [--min_df=1] [--max_df=0.5]
//       [--max_features=50000] [--sv_power=-0.5] [--power_iterations=3]
//       [--depth=100] [--sweep] [--save=MODEL] [--embedders=hash,lsa]
//       [--time_training=N] [--train_chunk=N] [--prf_beta=X] [--prf_m=N]
//
// --time_training=N only times LSA training on N distinct passages made by
// pairing corpus texts, the second with altered words so that the vocabulary
// grows (for archives larger than the dev sets), then exits.
// Every query with qrels is ranked over the whole corpus. Each fusion takes
// the top `depth` of both lists. --sweep also prints weighted fusions, and
// fusions where the dense list is completed with the exact dense scores of
// the BM25 candidates. Experiments (both measured no better):
// --train_chunk=N trains LSA on N-word chunks instead of whole passages;
// --prf_beta=X adds latent pseudo-relevance feedback (query + X × mean of the
// top --prf_m hybrid hits' vectors, searched again) as "LSA+PRF".
// Timings: LSA training, corpus embedding, per-query embedding.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "generate/embedder.h"
#include "generate/hashing_embedder.h"
#include "generate/lsa_embedder.h"
#include "index/beir.h"
#include "index/bm25.h"
#include "index/fusion.h"
#include "index/text_analysis.h"

namespace {

using greffier::index::FusionMethod;
using greffier::index::FusionOptions;
using greffier::index::ScoredPassage;
using Ranking = std::vector<ScoredPassage>;

struct Config {
  std::string dir;
  bool title = false;
  greffier::generate::LsaEmbedderOptions lsa;
  size_t depth = 100;
  bool sweep = false;
  bool use_hash = true;
  bool use_lsa = true;
  std::string save;
  size_t time_training = 0;
  size_t train_chunk = 0;  // Words per training document; 0: whole passages.
  double prf_beta = 0;     // Latent pseudo-relevance feedback; 0: off.
  size_t prf_m = 3;
};

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
    } else if (const char* v = value("--dim=")) {
      config->lsa.dimension = std::atoi(v);
    } else if (const char* v = value("--stem=")) {
      config->lsa.stem_length = std::atoi(v);
    } else if (const char* v = value("--ngram=")) {
      config->lsa.char_ngram = std::atoi(v);
    } else if (const char* v = value("--min_df=")) {
      config->lsa.min_document_frequency = std::atoi(v);
    } else if (const char* v = value("--max_df=")) {
      config->lsa.max_document_fraction = std::atof(v);
    } else if (const char* v = value("--max_features=")) {
      config->lsa.max_features = std::atoi(v);
    } else if (const char* v = value("--sv_power=")) {
      config->lsa.singular_value_power = std::atof(v);
    } else if (const char* v = value("--power_iterations=")) {
      config->lsa.power_iterations = std::atoi(v);
    } else if (const char* v = value("--depth=")) {
      config->depth = static_cast<size_t>(std::atoi(v));
    } else if (const char* v = value("--save=")) {
      config->save = v;
    } else if (const char* v = value("--embedders=")) {
      std::string_view e = v;
      config->use_hash = e.find("hash") != std::string_view::npos;
      config->use_lsa = e.find("lsa") != std::string_view::npos;
    } else if (const char* v = value("--time_training=")) {
      config->time_training = static_cast<size_t>(std::atol(v));
    } else if (const char* v = value("--train_chunk=")) {
      config->train_chunk = static_cast<size_t>(std::atol(v));
    } else if (const char* v = value("--prf_beta=")) {
      config->prf_beta = std::atof(v);
    } else if (const char* v = value("--prf_m=")) {
      config->prf_m = static_cast<size_t>(std::atol(v));
    } else if (arg == "--sweep") {
      config->sweep = true;
    } else if (!arg.starts_with("--") && config->dir.empty()) {
      config->dir = arg;
    } else {
      return false;
    }
  }
  return !config->dir.empty() && config->depth > 0;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Scores and rankings of one query set, passage ids = corpus positions.
struct Run {
  std::vector<Ranking> per_query;  // Aligned with `queries` below.
};

struct Setup {
  const greffier::index::BeirDataset* data;
  std::vector<size_t> queries;  // Indices of queries with qrels.
  size_t depth;
};

void PrintRow(const Setup& s, const std::vector<Ranking>& rankings, const std::string& label) {
  greffier::index::RetrievalEvaluator evaluator;
  for (size_t q = 0; q < s.queries.size(); ++q) {
    const auto& query = s.data->queries[s.queries[q]];
    std::vector<std::string> ranked;
    for (size_t i = 0; i < rankings[q].size() && i < 20; ++i) {
      ranked.push_back(s.data->corpus[rankings[q][i].passage_id].id);
    }
    evaluator.AddQuery(s.data->qrels.at(query.id), ranked);
  }
  auto m = evaluator.Summary();
  std::printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", label.c_str(), m.recall_at_1,
              m.recall_at_5, m.recall_at_10, m.recall_at_20, m.mrr_at_10, m.ndcg_at_10);
  std::fflush(stdout);
}

std::vector<Ranking> Fuse(const std::vector<Ranking>& lexical, const std::vector<Ranking>& dense,
                          const FusionOptions& options) {
  std::vector<Ranking> out(lexical.size());
  for (size_t q = 0; q < lexical.size(); ++q) {
    for (const auto& h : greffier::index::FuseRankings(lexical[q], dense[q], options)) {
      out[q].push_back({h.passage_id, h.score});
    }
  }
  return out;
}

// Exact inner-product search of every query over the corpus.
// `completed` gets the same lists plus the BM25 candidates missing from them,
// with their exact dense scores, re-sorted: what an index that can score any
// passage's stored vector gives fusion.
bool DenseRankings(const Setup& s, const Config& config,
                   const greffier::generate::Embedder& embedder, const std::vector<Ranking>& bm25,
                   std::vector<Ranking>* out, std::vector<Ranking>* completed,
                   std::vector<Ranking>* prf = nullptr) {
  const auto& data = *s.data;
  const int dim = embedder.Dimension();
  auto start = std::chrono::steady_clock::now();
  std::vector<float> corpus(data.corpus.size() * dim);
  for (size_t i = 0; i < data.corpus.size(); ++i) {
    const auto& doc = data.corpus[i];
    std::string text = config.title ? doc.title + "\n" + doc.text : doc.text;
    auto v = embedder.Embed(text, false);
    if (!v.ok()) {
      std::fprintf(stderr, "%s\n", v.status().ToString().c_str());
      return false;
    }
    std::copy(v->begin(), v->end(), corpus.begin() + i * dim);
  }
  const double corpus_s = Seconds(start);
  double query_s = 0;
  out->assign(s.queries.size(), {});
  completed->assign(s.queries.size(), {});
  if (prf != nullptr) prf->assign(s.queries.size(), {});
  std::vector<ScoredPassage> all(data.corpus.size());
  auto better = [](const ScoredPassage& a, const ScoredPassage& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.passage_id < b.passage_id;
  };
  for (size_t q = 0; q < s.queries.size(); ++q) {
    auto qstart = std::chrono::steady_clock::now();
    auto v = embedder.Embed(data.queries[s.queries[q]].text, true);
    query_s += Seconds(qstart);
    if (!v.ok()) {
      std::fprintf(stderr, "%s\n", v.status().ToString().c_str());
      return false;
    }
    for (size_t i = 0; i < data.corpus.size(); ++i) {
      const float* d = corpus.data() + i * dim;
      float dot = 0;
      for (int c = 0; c < dim; ++c) dot += d[c] * (*v)[c];
      all[i] = {i, dot};
    }
    std::vector<ScoredPassage> exact = all;
    const size_t k = std::min(s.depth, all.size());
    std::partial_sort(all.begin(), all.begin() + k, all.end(), better);
    (*out)[q].assign(all.begin(), all.begin() + k);
    Ranking& c = (*completed)[q];
    c = (*out)[q];
    for (const auto& hit : bm25[q]) {
      bool listed = false;
      for (size_t i = 0; i < k && !listed; ++i) {
        listed = all[i].passage_id == hit.passage_id;
      }
      if (!listed) c.push_back(exact[hit.passage_id]);
    }
    std::sort(c.begin(), c.end(), better);
    if (prf == nullptr) continue;
    // Pseudo-relevance feedback in the latent space: move the query toward
    // the vectors of the best hybrid hits, then search again.
    FusionOptions fo;
    fo.method = FusionMethod::kMinMaxScore;
    fo.dense_weight = 0.5;
    auto fused = greffier::index::FuseRankings(bm25[q], (*out)[q], fo);
    std::vector<float> qv = *v;
    const size_t m = std::min<size_t>(config.prf_m, fused.size());
    for (size_t j = 0; j < m; ++j) {
      const float* d = corpus.data() + fused[j].passage_id * dim;
      for (int c2 = 0; c2 < dim; ++c2) {
        qv[c2] += static_cast<float>(config.prf_beta / m) * d[c2];
      }
    }
    for (size_t i = 0; i < data.corpus.size(); ++i) {
      const float* d = corpus.data() + i * dim;
      float dot = 0;
      for (int c2 = 0; c2 < dim; ++c2) dot += d[c2] * qv[c2];
      all[i] = {i, dot};
    }
    std::partial_sort(all.begin(), all.begin() + k, all.end(), better);
    (*prf)[q].assign(all.begin(), all.begin() + k);
  }
  std::printf(
      "%s: corpus embedded in %.2f s (%.0f us/passage), query embedding "
      "%.1f us mean\n",
      embedder.Identity().c_str(), corpus_s,
      1e6 * corpus_s / static_cast<double>(data.corpus.size()),
      1e6 * query_s / static_cast<double>(s.queries.size()));
  return true;
}

void PrintFusions(const Setup& s, const Config& config, const std::vector<Ranking>& bm25,
                  const std::vector<Ranking>& dense, const std::string& name) {
  // Explicit methods and weights: the library defaults may change.
  FusionOptions rrf;
  rrf.method = FusionMethod::kReciprocalRank;
  rrf.dense_weight = 1.0;
  PrintRow(s, Fuse(bm25, dense, rrf), "hybrid RRF k=60, BM25 + " + name);
  FusionOptions mm;
  mm.method = FusionMethod::kMinMaxScore;
  mm.dense_weight = 1.0;
  PrintRow(s, Fuse(bm25, dense, mm), "hybrid min-max 1:1, BM25 + " + name);
  FusionOptions z;
  z.method = FusionMethod::kZScore;
  z.dense_weight = 1.0;
  PrintRow(s, Fuse(bm25, dense, z), "hybrid z-score 1:1, BM25 + " + name);
  PrintRow(s, Fuse(bm25, dense, FusionOptions()),
           "hybrid default (min-max, dense x0.5), BM25 + " + name);
  if (!config.sweep) return;
  char label[200];
  for (double w : {0.3, 0.5, 0.7, 1.5, 2.0}) {
    FusionOptions o;
    o.method = FusionMethod::kReciprocalRank;
    o.dense_weight = w;
    std::snprintf(label, sizeof(label), "hybrid RRF k=60 dense x%.1f, BM25 + %s", w, name.c_str());
    PrintRow(s, Fuse(bm25, dense, o), label);
  }
  for (double k : {10.0, 30.0}) {
    FusionOptions o;
    o.method = FusionMethod::kReciprocalRank;
    o.dense_weight = 1.0;
    o.rrf_k = k;
    std::snprintf(label, sizeof(label), "hybrid RRF k=%.0f, BM25 + %s", k, name.c_str());
    PrintRow(s, Fuse(bm25, dense, o), label);
  }
  for (FusionMethod m : {FusionMethod::kMinMaxScore, FusionMethod::kZScore}) {
    for (double w : {0.3, 0.5, 0.7, 1.5, 2.0}) {
      FusionOptions o;
      o.method = m;
      o.dense_weight = w;
      std::snprintf(label, sizeof(label), "hybrid %s dense x%.1f, BM25 + %s",
                    m == FusionMethod::kMinMaxScore ? "min-max" : "z-score", w, name.c_str());
      PrintRow(s, Fuse(bm25, dense, o), label);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  if (!ParseArgs(argc, argv, &config)) {
    std::fprintf(stderr,
                 "usage: %s DIR [--fields=text|title_text] [--dim=N] "
                 "[--stem=N] [--ngram=N] [--min_df=N] [--max_df=X] "
                 "[--max_features=N] [--sv_power=X] [--power_iterations=N] "
                 "[--depth=N] [--sweep] [--save=MODEL] [--embedders=hash,lsa] "
                 "[--time_training=N] [--train_chunk=N] [--prf_beta=X] "
                 "[--prf_m=N]\n",
                 argv[0]);
    return 2;
  }
  auto data = greffier::index::ReadBeirDataset(config.dir);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  Setup s{&*data, {}, config.depth};
  for (size_t i = 0; i < data->queries.size(); ++i) {
    if (data->qrels.contains(data->queries[i].id)) s.queries.push_back(i);
  }
  std::printf("%s: %zu documents, %zu queries with qrels, fields %s\n", config.dir.c_str(),
              data->corpus.size(), s.queries.size(), config.title ? "title+text" : "text");

  // BM25.
  auto analyzer = greffier::index::FrenchAnalyzer::Create();
  if (!analyzer.ok()) {
    std::fprintf(stderr, "%s\n", analyzer.status().ToString().c_str());
    return 1;
  }
  greffier::index::MemoryPostings postings;
  std::vector<std::string> texts;
  for (size_t i = 0; i < data->corpus.size(); ++i) {
    const auto& doc = data->corpus[i];
    texts.push_back(config.title ? doc.title + "\n" + doc.text : doc.text);
    auto status = postings.Add(i, (*analyzer)->AnalyzeToStrings(texts.back()));
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return 1;
    }
  }
  greffier::index::Bm25Searcher searcher(&postings);
  std::vector<Ranking> bm25(s.queries.size());
  for (size_t q = 0; q < s.queries.size(); ++q) {
    auto hits = searcher.Search((*analyzer)->AnalyzeToStrings(data->queries[s.queries[q]].text),
                                config.depth);
    if (!hits.ok()) {
      std::fprintf(stderr, "%s\n", hits.status().ToString().c_str());
      return 1;
    }
    bm25[q] = std::move(*hits);
  }

  if (config.time_training > 0) {
    std::vector<std::string> many;
    const size_t n = texts.size();
    for (size_t i = 0; i < config.time_training; ++i) {
      // The second text's words get one of 13 suffixes, so the vocabulary
      // grows like a real archive's instead of repeating the corpus'.
      const std::string suffix = std::to_string(i % 13);
      std::string variant;
      for (char c : texts[(i / n + 1 + i * 7919) % n]) {
        if (c == ' ') variant.append(suffix);
        variant.push_back(c);
      }
      many.push_back(texts[i % n] + "\n" + variant);
    }
    size_t bytes = 0;
    for (const auto& t : many) bytes += t.size();
    auto start = std::chrono::steady_clock::now();
    auto lsa = greffier::generate::LsaEmbedder::Train(many, config.lsa);
    if (!lsa.ok()) {
      std::fprintf(stderr, "%s\n", lsa.status().ToString().c_str());
      return 1;
    }
    std::printf(
        "LSA trained on %zu passages (%zu bytes) in %.2f s: %zu "
        "features, dimension %d\n",
        many.size(), bytes, Seconds(start), (*lsa)->NumFeatures(), (*lsa)->Dimension());
    return 0;
  }

  std::vector<std::pair<std::string, std::vector<Ranking>>> dense;
  std::vector<std::pair<std::string, std::vector<Ranking>>> completed;
  if (config.use_hash) {
    greffier::generate::HashingEmbedder hashing;
    dense.emplace_back("hashing", std::vector<Ranking>());
    completed.emplace_back("hashing, BM25 candidates scored", std::vector<Ranking>());
    if (!DenseRankings(s, config, hashing, bm25, &dense.back().second, &completed.back().second)) {
      return 1;
    }
  }
  if (config.use_lsa) {
    std::vector<std::string> train = texts;
    if (config.train_chunk > 0) {
      train.clear();
      for (const auto& t : texts) {
        std::string chunk;
        size_t words = 0;
        for (char c : t) {
          chunk.push_back(c);
          if (c == ' ' && ++words == config.train_chunk) {
            train.push_back(chunk);
            chunk.clear();
            words = 0;
          }
        }
        if (!chunk.empty()) train.push_back(chunk);
      }
    }
    auto start = std::chrono::steady_clock::now();
    auto lsa = greffier::generate::LsaEmbedder::Train(train, config.lsa);
    if (!lsa.ok()) {
      std::fprintf(stderr, "%s\n", lsa.status().ToString().c_str());
      return 1;
    }
    std::printf(
        "LSA trained in %.2f s: %zu features, dimension %d, model %zu "
        "bytes\n",
        Seconds(start), (*lsa)->NumFeatures(), (*lsa)->Dimension(), (*lsa)->Serialize().size());
    if (!config.save.empty()) {
      auto status = (*lsa)->Save(config.save);
      if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        return 1;
      }
    }
    dense.emplace_back("LSA", std::vector<Ranking>());
    completed.emplace_back("LSA, BM25 candidates scored", std::vector<Ranking>());
    std::vector<Ranking> prf;
    if (!DenseRankings(s, config, **lsa, bm25, &dense.back().second, &completed.back().second,
                       config.prf_beta > 0 ? &prf : nullptr)) {
      return 1;
    }
    if (config.prf_beta > 0) dense.emplace_back("LSA+PRF", std::move(prf));
  }

  std::printf(
      "| ranking | R@1 | R@5 | R@10 | R@20 | MRR@10 | nDCG@10 |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n");
  PrintRow(s, bm25, "BM25");
  for (const auto& [name, rankings] : dense) {
    PrintRow(s, rankings, "dense " + name);
  }
  for (const auto& [name, rankings] : dense) {
    PrintFusions(s, config, bm25, rankings, name);
  }
  if (config.sweep) {
    // What a perfect per-query choice between the two lists could reach.
    for (const auto& [name, rankings] : dense) {
      for (size_t cut : {5, 20}) {
        size_t hit = 0;
        for (size_t q = 0; q < s.queries.size(); ++q) {
          const auto& rel = data->qrels.at(data->queries[s.queries[q]].id);
          auto found = [&](const Ranking& r) {
            for (size_t i = 0; i < r.size() && i < cut; ++i) {
              auto it = rel.find(data->corpus[r[i].passage_id].id);
              if (it != rel.end() && it->second > 0) return true;
            }
            return false;
          };
          if (found(bm25[q]) || found(rankings[q])) ++hit;
        }
        std::printf("oracle: relevant in BM25 or %s top %zu: %.3f\n", name.c_str(), cut,
                    static_cast<double>(hit) / static_cast<double>(s.queries.size()));
      }
    }
  }
  // Measured: no better than fusing the top-`depth` lists alone.
  for (const auto& [name, rankings] : completed) {
    if (config.sweep) PrintFusions(s, config, bm25, rankings, name);
  }
  return 0;
}
