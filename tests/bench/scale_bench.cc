// Index scale: ingest-to-index throughput, Retrieve latency (BM25, dense, hybrid), memory, and
// the FAISS index's recall@10 against exact search, on a synthetic archive.
//
//   build/tests/bench/scale_bench [--passages 1000000] [--queries 500] [--recall-queries 200]
//       [--dim 384] [--clusters 1000] [--faiss auto] [--flat-limit 100000]
//       [--compress-limit 2000000] [--nprobe 0] [--check-exhaustive 0] [--snapshot-every 20000]
//       [--doc-noise 0.6] [--passage-noise 0.8] [--query-noise 0.3]
//       [--ef-search 128] [--ef-construction 80]
//
// Documents of 10 passages are written through Index::AddDocument (RocksDB batch, BM25
// postings, FAISS), one in ten carrying an access label the querying caller lacks, so every
// search runs with a filter. Passage text is random French-like words with Zipf frequencies
// (60 words, title of 4). Vectors imitate an embedder's: a mixture of Gaussians on the unit
// sphere in `dim` dimensions (cluster centre → document centre, noise 0.6 → passage, noise
// 0.8, relative norms), regenerated from seeds so exact search needs no second copy. A query
// takes 5 words of a random visible passage and that passage's vector plus noise 0.3.
// After ingest the index is closed and reopened (snapshot + postings load are timed), then
// the three retrievals are timed, and recall@10 of the FAISS index in use is measured against
// exact inner-product search over all vectors.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "index/index.h"
#include "index/retriever.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kPassagesPerDoc = 10;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}
double Ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

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

long RssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  }
  return 0;
}

uint64_t Mix(uint64_t x, uint64_t salt) {
  x += 0x9E3779B97F4A7C15ull * (salt + 1);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

float Dot(const float* a, const float* b, int n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float dot = 0;
  for (; i < n; ++i) dot += a[i] * b[i];
  for (float x : acc) dot += x;
  return dot;
}

void Normalize(std::vector<float>& v) {
  double n = 0;
  for (float x : v) n += static_cast<double>(x) * x;
  const float inv = static_cast<float>(1.0 / std::sqrt(std::max(n, 1e-30)));
  for (float& x : v) x *= inv;
}

// Embedding-like vectors, reproducible from (document, passage) indexes.
class VectorGen {
 public:
  VectorGen(int dim, size_t clusters, float doc_noise, float passage_noise, float query_noise)
      : dim_(dim), doc_noise_(doc_noise), passage_noise_(passage_noise), query_noise_(query_noise) {
    std::mt19937_64 rng(1);
    std::normal_distribution<float> g(0.0f, 1.0f);
    centers_.resize(clusters);
    for (auto& c : centers_) {
      c.resize(dim);
      for (float& x : c) x = g(rng);
      Normalize(c);
    }
  }
  std::vector<float> DocCenter(size_t doc) const {
    std::mt19937_64 rng(Mix(doc, 1));
    std::vector<float> v = centers_[rng() % centers_.size()];
    Perturb(v, doc_noise_, rng);
    return v;
  }
  std::vector<float> Passage(const std::vector<float>& doc_center, size_t passage) const {
    std::mt19937_64 rng(Mix(passage, 2));
    std::vector<float> v = doc_center;
    Perturb(v, passage_noise_, rng);
    return v;
  }
  std::vector<float> Query(const std::vector<float>& passage_vector, size_t salt) const {
    std::mt19937_64 rng(Mix(salt, 3));
    std::vector<float> v = passage_vector;
    Perturb(v, query_noise_, rng);
    return v;
  }

 private:
  // Adds Gaussian noise of expected norm `scale` to a unit vector, then normalises.
  void Perturb(std::vector<float>& v, float scale, std::mt19937_64& rng) const {
    std::normal_distribution<float> g(0.0f, scale / std::sqrt(static_cast<float>(dim_)));
    for (float& x : v) x += g(rng);
    Normalize(v);
  }
  int dim_;
  float doc_noise_, passage_noise_, query_noise_;
  std::vector<std::vector<float>> centers_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace greffier;
  size_t passages = 1000000, queries = 500, recall_queries = 200, clusters = 1000;
  size_t check_exhaustive = 0;
  int dim = 384, nprobe = 0, ef_search = 128, ef_construction = 80;
  uint64_t flat_limit = 100000, compress_limit = 2000000, snapshot_every = 20000;
  std::string factory = "auto";
  float doc_noise = 0.6f, passage_noise = 0.8f, query_noise = 0.3f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--passages") {
      passages = std::stoul(value);
    } else if (flag == "--queries") {
      queries = std::stoul(value);
    } else if (flag == "--recall-queries") {
      recall_queries = std::stoul(value);
    } else if (flag == "--dim") {
      dim = std::stoi(value);
    } else if (flag == "--clusters") {
      clusters = std::stoul(value);
    } else if (flag == "--faiss") {
      factory = value;
    } else if (flag == "--flat-limit") {
      flat_limit = std::stoull(value);
    } else if (flag == "--compress-limit") {
      compress_limit = std::stoull(value);
    } else if (flag == "--nprobe") {
      nprobe = std::stoi(value);
    } else if (flag == "--ef-search") {
      ef_search = std::stoi(value);
    } else if (flag == "--ef-construction") {
      ef_construction = std::stoi(value);
    } else if (flag == "--check-exhaustive") {
      check_exhaustive = std::stoul(value);
    } else if (flag == "--snapshot-every") {
      snapshot_every = std::stoull(value);
    } else if (flag == "--doc-noise") {
      doc_noise = std::stof(value);
    } else if (flag == "--passage-noise") {
      passage_noise = std::stof(value);
    } else if (flag == "--query-noise") {
      query_noise = std::stof(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  const auto bench_start = Clock::now();
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
  VectorGen gen(dim, clusters, doc_noise, passage_noise, query_noise);

  std::string base =
      (std::filesystem::temp_directory_path() / absl::StrCat("greffier-scale-", getpid())).string();
  index::IndexOptions o;
  o.path = base;
  o.embedder_id = "synthetic";
  o.dimension = dim;
  o.faiss_factory = factory;
  o.faiss_auto_flat_limit = flat_limit;
  o.faiss_auto_compress_limit = compress_limit;
  o.faiss_nprobe = nprobe;
  o.faiss_hnsw_ef_search = ef_search;
  o.faiss_hnsw_ef_construction = ef_construction;
  o.snapshot_every = snapshot_every;
  auto idx = index::Index::Open(o);
  if (!idx.ok()) {
    std::fprintf(stderr, "%s\n", idx.status().ToString().c_str());
    return 1;
  }
  auto start = Clock::now();
  size_t written = 0, docs = 0;
  double slowest_add_s = 0;
  std::vector<bool> labelled;
  while (written < passages) {
    index::DocumentRecord d;
    d.source_path = absl::StrCat("doc-", docs);
    d.content_hash = absl::StrCat("h", docs);
    d.title = text(4);
    if (docs % 10 == 3) d.access_labels = {"rh"};
    labelled.push_back(docs % 10 == 3);
    std::vector<index::PassageRecord> ps(kPassagesPerDoc);
    std::vector<std::vector<float>> vs;
    const std::vector<float> center = gen.DocCenter(docs);
    for (size_t i = 0; i < ps.size(); ++i) {
      ps[i].page_start = ps[i].page_end = 1;
      ps[i].text = text(60);
      vs.push_back(gen.Passage(center, written + i));
    }
    auto t0 = Clock::now();
    auto r = (*idx)->AddDocument(d, ps, vs, std::nullopt);
    slowest_add_s = std::max(slowest_add_s, Seconds(t0));
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    ++docs;
    written += ps.size();
    if (written % 50000 == 0) {
      std::fprintf(stderr, "%zu passages, %.0f/s, %s, RSS %ld MB\n", written,
                   static_cast<double>(written) / Seconds(start),
                   (*idx)->Stats().vector_index.c_str(), RssMb());
    }
  }
  const double ingest_s = Seconds(start);
  const long rss_after_ingest = RssMb();

  // Restart: final snapshot, then open (catalogue, postings into memory, FAISS snapshot).
  start = Clock::now();
  idx->reset();
  const double close_s = Seconds(start);
  start = Clock::now();
  idx = index::Index::Open(o);
  if (!idx.ok()) {
    std::fprintf(stderr, "reopen: %s\n", idx.status().ToString().c_str());
    return 1;
  }
  const double open_s = Seconds(start);
  const index::IndexStats stats = (*idx)->Stats();
  const long rss_after_open = RssMb();

  // Queries from random visible passages.
  std::uniform_int_distribution<size_t> any(0, written - 1);
  struct Query {
    std::string text;
    std::vector<float> vector;
  };
  std::vector<Query> qs;
  while (qs.size() < queries) {
    const size_t i = any(rng);
    if (labelled[i / kPassagesPerDoc]) continue;
    auto p = (*idx)->GetPassage(i + 1);
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
    Query q;
    for (const auto& w : words) absl::StrAppend(&q.text, q.text.empty() ? "" : " ", w);
    q.vector = gen.Query(gen.Passage(gen.DocCenter(i / kPassagesPerDoc), i), qs.size());
    qs.push_back(std::move(q));
  }

  index::RetrieverOptions lexical_only, dense_only, hybrid;
  lexical_only.use_dense = false;
  dense_only.use_lexical = false;
  index::Retriever bm25_retriever(idx->get(), lexical_only);
  index::Retriever dense_retriever(idx->get(), dense_only);
  index::Retriever hybrid_retriever(idx->get(), hybrid);
  std::vector<double> bm25_ms, dense_ms, hybrid_ms, lexical_search_ms, dense_search_ms;
  const index::SearchFilter caller;  // no labels: one document in ten is hidden
  for (const Query& q : qs) {
    auto t0 = Clock::now();
    auto a = bm25_retriever.Retrieve(q.text, {}, 10, caller);
    bm25_ms.push_back(Ms(t0));
    t0 = Clock::now();
    auto b = dense_retriever.Retrieve(q.text, q.vector, 10, caller);
    dense_ms.push_back(Ms(t0));
    t0 = Clock::now();
    auto c = hybrid_retriever.Retrieve(q.text, q.vector, 10, caller);
    hybrid_ms.push_back(Ms(t0));
    t0 = Clock::now();
    auto d = (*idx)->SearchLexical(q.text, 50, caller);
    lexical_search_ms.push_back(Ms(t0));
    t0 = Clock::now();
    auto e = (*idx)->SearchDense(q.vector, 50, caller);
    dense_search_ms.push_back(Ms(t0));
    if (!a.ok() || !b.ok() || !c.ok() || !d.ok() || !e.ok()) {
      std::fprintf(stderr, "retrieve failed\n");
      return 1;
    }
    if (a->empty() || b->empty() || c->empty()) {
      std::fprintf(stderr, "empty results for '%s'\n", q.text.c_str());
      return 1;
    }
  }

  // Pruned BM25 against scoring every posting (a read-only view beside the writer).
  size_t exhaustive_mismatches = 0;
  std::vector<double> exhaustive_ms;
  if (check_exhaustive > 0) {
    index::IndexOptions ro = o;
    ro.read_only = true;
    ro.bm25_dynamic_pruning = false;
    auto exhaustive = index::Index::Open(ro);
    if (!exhaustive.ok()) {
      std::fprintf(stderr, "exhaustive: %s\n", exhaustive.status().ToString().c_str());
      return 1;
    }
    for (size_t i = 0; i < std::min(check_exhaustive, qs.size()); ++i) {
      auto a = (*idx)->SearchLexical(qs[i].text, 50, caller);
      auto t0 = Clock::now();
      auto e = (*exhaustive)->SearchLexical(qs[i].text, 50, caller);
      exhaustive_ms.push_back(Ms(t0));
      if (!a.ok() || !e.ok()) return 1;
      bool same = a->size() == e->size();
      for (size_t j = 0; same && j < a->size(); ++j) {
        same = (*a)[j].passage_id == (*e)[j].passage_id && (*a)[j].score == (*e)[j].score;
      }
      exhaustive_mismatches += !same;
    }
  }

  // Recall@10 of the FAISS index against exact search over every vector (all labels visible).
  start = Clock::now();
  const size_t nr = std::min(recall_queries, qs.size());
  index::SearchFilter everyone;
  everyone.ignore_labels = true;
  using Entry = std::pair<float, uint64_t>;  // min-heap of the best 10
  std::vector<std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>>> best(nr);
  for (size_t doc = 0; doc < docs; ++doc) {
    const std::vector<float> center = gen.DocCenter(doc);
    for (size_t j = 0; j < kPassagesPerDoc; ++j) {
      const size_t i = doc * kPassagesPerDoc + j;
      const std::vector<float> v = gen.Passage(center, i);
      for (size_t q = 0; q < nr; ++q) {
        const float dot = Dot(qs[q].vector.data(), v.data(), dim);
        auto& heap = best[q];
        if (heap.size() < 10) {
          heap.emplace(dot, i + 1);
        } else if (dot > heap.top().first) {
          heap.pop();
          heap.emplace(dot, i + 1);
        }
      }
    }
  }
  double recall = 0;
  for (size_t q = 0; q < nr; ++q) {
    std::set<uint64_t> truth;
    for (auto heap = best[q]; !heap.empty(); heap.pop()) truth.insert(heap.top().second);
    auto hits = (*idx)->SearchDense(qs[q].vector, 10, everyone);
    if (!hits.ok()) return 1;
    size_t hit = 0;
    for (const auto& h : *hits) hit += truth.count(h.passage_id);
    recall += static_cast<double>(hit) / static_cast<double>(truth.size());
  }
  recall /= static_cast<double>(std::max<size_t>(nr, 1));
  const double recall_s = Seconds(start);

  idx->reset();
  std::filesystem::remove_all(base);
  std::printf(
      "scale_bench --passages %zu --queries %zu --dim %d --faiss %s --nprobe %d --doc-noise %.2f "
      "--passage-noise %.2f --query-noise %.2f (wall %.0f s)\n\n",
      passages, queries, dim, factory.c_str(), nprobe, doc_noise, passage_noise, query_noise,
      Seconds(bench_start));
  std::printf("| passages | ingest passages/s (slowest write) | close / open s | FAISS index |\n");
  std::printf("|---:|---:|---:|---|\n");
  std::printf("| %zu | %.0f (%.1f s) | %.1f / %.1f | %s |\n\n", written,
              static_cast<double>(written) / ingest_s, slowest_add_s, close_s, open_s,
              stats.vector_index.c_str());
  std::printf(
      "| p50 / p99 ms | BM25 Retrieve | dense Retrieve | hybrid Retrieve | "
      "SearchLexical k=50 | SearchDense k=50 |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  std::printf(
      "| %zu queries | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f "
      "|\n\n",
      qs.size(), Percentile(bm25_ms, 0.5), Percentile(bm25_ms, 0.99), Percentile(dense_ms, 0.5),
      Percentile(dense_ms, 0.99), Percentile(hybrid_ms, 0.5), Percentile(hybrid_ms, 0.99),
      Percentile(lexical_search_ms, 0.5), Percentile(lexical_search_ms, 0.99),
      Percentile(dense_search_ms, 0.5), Percentile(dense_search_ms, 0.99));
  std::printf(
      "| recall@10 vs exact (%zu queries, %.0f s) | BM25 postings in memory MB | RSS MB "
      "after ingest / after reopen / peak |\n",
      nr, recall_s);
  std::printf("|---:|---:|---:|\n");
  std::printf("| %.3f | %.0f | %ld / %ld / %ld |\n", recall,
              static_cast<double>(stats.postings_bytes) / (1 << 20), rss_after_ingest,
              rss_after_open, MaxRssMb());
  if (check_exhaustive > 0) {
    std::printf(
        "\nexhaustive BM25 (k=50) on %zu queries: p50 / p99 %.2f / %.2f ms, %zu rankings "
        "differ from the pruned search\n",
        exhaustive_ms.size(), Percentile(exhaustive_ms, 0.5), Percentile(exhaustive_ms, 0.99),
        exhaustive_mismatches);
  }
  return exhaustive_mismatches == 0 ? 0 : 3;
}
