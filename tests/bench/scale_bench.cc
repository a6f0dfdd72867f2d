// Index scale: ingest-to-index throughput, Retrieve latency, memory, and the FAISS index's
// recall against exact search, on a synthetic archive.
//
//   build/tests/bench/scale_bench [--passages 1000000] [--queries 500] [--faiss HNSW32]
//
// Passages are random French-like sentences (Zipf word frequencies) written straight into the
// index (one document of 10 passages per write batch, BM25 postings included), embedded by the
// default hashing embedder. Retrieval is what the server does with that embedder (BM25), and
// dense search is timed separately for the chosen FAISS index and for exact search.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "generate/hashing_embedder.h"
#include "index/index.h"
#include "index/retriever.h"

namespace {

using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

long MaxRssMb() {
  struct rusage u = {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace greffier;
  size_t passages = 1000000, queries = 500;
  std::string factory = "HNSW32";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--passages") passages = std::stoul(argv[i + 1]);
    if (flag == "--queries") queries = std::stoul(argv[i + 1]);
    if (flag == "--faiss") factory = argv[i + 1];
  }
  std::mt19937 rng(11);
  const char* syl[] = {"ar", "re",   "te",  "mu",   "ni",  "ci", "pa", "li", "de",  "bo",
                       "ra", "tion", "con", "seil", "ser", "vi", "ce", "pu", "que", "ment"};
  std::vector<std::string> vocab;
  std::uniform_int_distribution<int> len(2, 4);
  std::uniform_int_distribution<size_t> pick_syl(0, std::size(syl) - 1);
  while (vocab.size() < 50000) {
    std::string w;
    for (int i = len(rng); i > 0; --i) w += syl[pick_syl(rng)];
    vocab.push_back(w);
  }
  std::vector<double> weights(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) weights[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  auto text = [&](size_t words) {
    std::string s;
    for (size_t w = 0; w < words; ++w) absl::StrAppend(&s, w ? " " : "", vocab[pick(rng)]);
    return s + ".";
  };

  generate::HashingEmbedder embedder;
  std::string base =
      (std::filesystem::temp_directory_path() / absl::StrCat("greffier-scale-", getpid())).string();
  index::IndexOptions o;
  o.path = base;
  o.embedder_id = embedder.Identity();
  o.dimension = embedder.Dimension();
  o.faiss_factory = factory;
  auto idx = index::Index::Open(o);
  if (!idx.ok()) {
    std::fprintf(stderr, "%s\n", idx.status().ToString().c_str());
    return 1;
  }
  auto start = Clock::now();
  size_t written = 0, doc = 0;
  std::vector<std::vector<float>> sample_vectors;
  while (written < passages) {
    index::DocumentRecord d;
    d.source_path = absl::StrCat("doc-", doc);
    d.content_hash = absl::StrCat("h", doc++);
    d.title = text(4);
    std::vector<index::PassageRecord> ps(10);
    std::vector<std::vector<float>> vs;
    for (auto& p : ps) {
      p.page_start = p.page_end = 1;
      p.text = text(60);
      vs.push_back(*embedder.Embed(p.text, false));
    }
    auto r = (*idx)->AddDocument(d, ps, vs, std::nullopt);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    written += ps.size();
    if (written % 100000 == 0) {
      std::fprintf(stderr, "\r%zu passages, %.0f/s", written,
                   static_cast<double>(written) /
                       std::chrono::duration<double>(Clock::now() - start).count());
    }
  }
  const double ingest_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr, "\n");

  // Questions: five words of random stored passages.
  std::uniform_int_distribution<uint64_t> any(1, written);
  std::vector<std::string> qs;
  while (qs.size() < queries) {
    auto p = (*idx)->GetPassage(any(rng));
    if (!p.ok()) continue;
    std::vector<std::string> words;
    size_t pos = 0;
    while (pos < p->text.size()) {
      size_t end = p->text.find_first_of(" .", pos);
      if (end == std::string::npos) end = p->text.size();
      if (end > pos) words.push_back(p->text.substr(pos, end - pos));
      pos = end + 1;
    }
    std::shuffle(words.begin(), words.end(), rng);
    words.resize(std::min<size_t>(5, words.size()));
    std::string q;
    for (const auto& w : words) absl::StrAppend(&q, q.empty() ? "" : " ", w);
    qs.push_back(q);
  }
  index::RetrieverOptions ro;
  ro.use_dense = false;  // what the server does with the default embedder
  index::Retriever retriever(idx->get(), ro);
  std::vector<double> retrieve_ms, dense_ms;
  double recall = 0;
  for (const auto& q : qs) {
    auto t0 = Clock::now();
    auto hits = retriever.Retrieve(q, {}, 10, index::SearchFilter());
    retrieve_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!hits.ok()) {
      std::fprintf(stderr, "retrieve: %s\n", hits.status().ToString().c_str());
      return 1;
    }
    std::vector<float> v = *embedder.Embed(q, true);
    t0 = Clock::now();
    auto approx = (*idx)->SearchDense(v, 10, index::SearchFilter());
    dense_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!approx.ok()) {
      std::fprintf(stderr, "dense search: %s\n", approx.status().ToString().c_str());
      return 1;
    }
    // Exact top-10 by brute force over the stored vectors is what Flat returns: compare to it.
    (void)approx;
  }
  // Recall of the approximate index against exact search, on a sample of the queries.
  if (factory != "Flat") {
    index::IndexOptions exact_o = o;
    exact_o.path = base + "-exact";
    exact_o.faiss_factory = "Flat";
    // The exact index is rebuilt from the same vectors by copying the directory.
    idx->reset();
    std::filesystem::copy(base, exact_o.path, std::filesystem::copy_options::recursive);
    std::filesystem::remove(std::filesystem::path(exact_o.path) / "vectors.faiss");
    auto exact = index::Index::Open(exact_o);
    auto approx_idx = index::Index::Open(o);
    if (!exact.ok() || !approx_idx.ok()) {
      std::fprintf(stderr, "reopen: %s %s\n", exact.status().ToString().c_str(),
                   approx_idx.status().ToString().c_str());
      return 1;
    }
    size_t n = std::min<size_t>(qs.size(), 200);
    for (size_t i = 0; i < n; ++i) {
      std::vector<float> v = *embedder.Embed(qs[i], true);
      auto a = (*approx_idx)->SearchDense(v, 10, index::SearchFilter());
      auto e = (*exact)->SearchDense(v, 10, index::SearchFilter());
      if (!a.ok() || !e.ok()) {
        std::fprintf(stderr, "recall: %s %s\n", a.status().ToString().c_str(),
                     e.status().ToString().c_str());
        return 1;
      }
      std::set<uint64_t> truth;
      for (const auto& h : *e) truth.insert(h.passage_id);
      size_t hit = 0;
      for (const auto& h : *a) hit += truth.count(h.passage_id);
      recall += truth.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(truth.size());
    }
    recall /= static_cast<double>(n);
    exact->reset();
    approx_idx->reset();
    std::filesystem::remove_all(exact_o.path);
  } else {
    recall = 1.0;
    idx->reset();
  }
  std::filesystem::remove_all(base);
  std::printf("scale_bench --passages %zu --queries %zu --faiss %s\n\n", passages, queries,
              factory.c_str());
  std::printf(
      "| passages | ingest passages/s | Retrieve (BM25) p50 / p99 ms | dense %s p50 / p99 ms | "
      "dense recall@10 vs exact | max RSS MB |\n",
      factory.c_str());
  std::printf("|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %zu | %.0f | %.2f / %.2f | %.2f / %.2f | %.3f | %ld |\n", written,
              static_cast<double>(written) / ingest_s, Percentile(retrieve_ms, 0.5),
              Percentile(retrieve_ms, 0.99), Percentile(dense_ms, 0.5), Percentile(dense_ms, 0.99),
              recall, MaxRssMb());
  return 0;
}
