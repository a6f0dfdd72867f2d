// What lets the index scale: BM25 with dynamic pruning over postings held in memory, and the
// FAISS index chosen by corpus size (exact, then IVF trained on the vectors held).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "index/index.h"
#include "index/vector_index.h"
#include "tests/common/test_util.h"

namespace greffier::index {
namespace {

constexpr int kDim = 16;

IndexOptions Options(const std::string& path) {
  IndexOptions o;
  o.path = path;
  o.embedder_id = "test-embedder";
  o.dimension = kDim;
  return o;
}

// A unit vector near cluster `c` (clusters are the axes and their opposites).
std::vector<float> Near(int c, std::mt19937_64& rng, float spread = 0.3f) {
  std::normal_distribution<float> noise(0.0f, spread / std::sqrt(static_cast<float>(kDim)));
  std::vector<float> v(kDim);
  for (float& x : v) x = noise(rng);
  v[c % kDim] += (c / kDim) % 2 == 0 ? 1.0f : -1.0f;
  float n = 0;
  for (float x : v) n += x * x;
  for (float& x : v) x /= std::sqrt(n);
  return v;
}

// French-looking random text: words of a small Zipf vocabulary.
class TextGen {
 public:
  explicit TextGen(uint64_t seed) : rng_(seed) {
    const char* syllables[] = {"ma", "ri", "con", "seil", "bu", "dget", "vo", "te", "pu", "li"};
    std::mt19937_64 vocab_rng(1);
    while (words_.size() < 300) {
      std::string w;
      for (int i = 2 + static_cast<int>(vocab_rng() % 3); i > 0; --i) {
        w += syllables[vocab_rng() % std::size(syllables)];
      }
      words_.push_back(w);
    }
    std::vector<double> weights;
    for (size_t i = 0; i < words_.size(); ++i) weights.push_back(1.0 / (i + 1.0));
    pick_ = std::discrete_distribution<size_t>(weights.begin(), weights.end());
  }
  std::string Text(size_t words) {
    std::string s;
    for (size_t i = 0; i < words; ++i) s += (i ? " " : "") + words_[pick_(rng_)];
    return s;
  }
  std::mt19937_64& rng() { return rng_; }
  const std::vector<std::string>& words() const { return words_; }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> words_;
  std::discrete_distribution<size_t> pick_;
};

Index::AddResult AddRandomDoc(Index& index, TextGen& gen, int n, const std::string& source,
                              std::vector<std::string> labels = {},
                              std::optional<uint64_t> replace = std::nullopt) {
  DocumentRecord d;
  d.source_path = source;
  d.content_hash = source + "-" + std::to_string(gen.rng()());
  d.title = gen.Text(2);
  d.access_labels = std::move(labels);
  std::vector<PassageRecord> passages(n);
  std::vector<std::vector<float>> vectors;
  for (auto& p : passages) {
    p.page_start = p.page_end = 1;
    p.text = gen.Text(5 + gen.rng()() % 40);
    vectors.push_back(Near(static_cast<int>(gen.rng()() % (2 * kDim)), gen.rng()));
  }
  auto r = index.AddDocument(d, passages, vectors, replace);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Index::AddResult{};
}

// The writer prunes over its postings in memory; a read-only reader beside it scores every
// posting read from RocksDB: both must give exactly the same ranking, labels applied, after
// additions, replacements and deletions, and again after a restart (postings reloaded).
TEST(IndexBm25PruningTest, SameResultsAsExhaustiveAfterWritesAndRestart) {
  testing::ScratchDir dir;
  TextGen gen(5);
  std::vector<uint64_t> docs;
  auto compare = [&](Index& pruned, const std::string& when) {
    IndexOptions o = Options(dir.path().string());
    o.read_only = true;
    o.bm25_dynamic_pruning = false;
    auto exhaustive = Index::Open(o);
    ASSERT_TRUE(exhaustive.ok()) << exhaustive.status();
    SearchFilter rh;
    rh.caller_labels = {"rh"};
    // Every word alone, then random queries.
    std::vector<std::string> queries = gen.words();
    for (int q = 0; q < 80; ++q) queries.push_back(gen.Text(1 + q % 6));
    for (size_t q = 0; q < queries.size(); ++q) {
      const std::string& query = queries[q];
      const size_t k = 1 + q % 20;
      for (const SearchFilter& filter : {SearchFilter(), rh}) {
        auto a = pruned.SearchLexical(query, k, filter);
        auto e = (*exhaustive)->SearchLexical(query, k, filter);
        ASSERT_TRUE(a.ok() && e.ok());
        ASSERT_EQ(a->size(), e->size()) << when << ": " << query;
        for (size_t i = 0; i < a->size(); ++i) {
          EXPECT_EQ((*a)[i].passage_id, (*e)[i].passage_id) << when << ": " << query;
          EXPECT_EQ((*a)[i].score, (*e)[i].score) << when << ": " << query;
          auto passage = pruned.GetPassage((*a)[i].passage_id);
          ASSERT_TRUE(passage.ok()) << "deleted passage returned";
          if (filter.caller_labels.empty()) {
            auto doc = pruned.GetDocument(passage->document_id);
            ASSERT_TRUE(doc.ok());
            EXPECT_TRUE(doc->access_labels.empty()) << "labelled passage without the label";
          }
        }
      }
    }
  };
  {
    auto index = Index::Open(Options(dir.path().string()));
    ASSERT_TRUE(index.ok()) << index.status();
    for (int i = 0; i < 120; ++i) {
      std::vector<std::string> labels;
      if (i % 5 == 0) labels = {"rh"};
      docs.push_back(
          AddRandomDoc(**index, gen, 1 + i % 7, "d" + std::to_string(i), labels).document_id);
    }
    compare(**index, "after adds");
    for (int i = 0; i < 30; ++i) {
      const size_t victim = gen.rng()() % docs.size();
      if (i % 2 == 0) {
        ASSERT_TRUE((*index)->DeleteDocument(docs[victim]).ok());
        docs.erase(docs.begin() + static_cast<long>(victim));
      } else {
        docs[victim] =
            AddRandomDoc(**index, gen, 3, "r" + std::to_string(i), {}, docs[victim]).document_id;
      }
    }
    compare(**index, "after deletes and replacements");
  }
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_GT((*index)->Stats().postings_bytes, 0u);
  compare(**index, "after restart");
}

IndexOptions AutoOptions(const std::string& path) {
  IndexOptions o = Options(path);
  o.faiss_factory = "auto";
  o.faiss_auto_flat_limit = 400;
  return o;
}

// Adds a document of `n` passages whose vectors lie near random clusters; appends each
// (passage id, vector) to `truth` when given.
absl::StatusOr<Index::AddResult> AddClustered(
    Index& index, int n, std::mt19937_64& rng,
    std::vector<std::pair<uint64_t, std::vector<float>>>* truth = nullptr,
    std::vector<std::string> labels = {}) {
  std::vector<PassageRecord> passages(n);
  std::vector<std::vector<float>> vectors;
  for (auto& p : passages) {
    p.text = "texte";
    vectors.push_back(Near(static_cast<int>(rng() % (2 * kDim)), rng));
  }
  DocumentRecord d;
  d.source_path = d.content_hash = "s" + std::to_string(rng());
  d.access_labels = std::move(labels);
  auto r = index.AddDocument(d, passages, vectors, std::nullopt);
  if (r.ok() && truth != nullptr) {
    for (size_t i = 0; i < r->passage_ids.size(); ++i) {
      truth->emplace_back(r->passage_ids[i], vectors[i]);
    }
  }
  return r;
}

// Recall@10 of the index against exact search over `truth`.
double Recall(Index& index, const std::vector<std::pair<uint64_t, std::vector<float>>>& truth,
              std::mt19937_64& rng) {
  double recall = 0;
  const int queries = 40;
  for (int q = 0; q < queries; ++q) {
    const auto& anchor = truth[rng() % truth.size()].second;
    std::vector<float> query = anchor;
    std::set<std::pair<float, uint64_t>> exact;
    for (const auto& [id, v] : truth) {
      float dot = 0;
      for (int i = 0; i < kDim; ++i) dot += v[i] * query[i];
      exact.emplace(-dot, id);
    }
    std::set<uint64_t> top;
    for (auto it = exact.begin(); top.size() < 10; ++it) top.insert(it->second);
    auto hits = index.SearchDense(query, 10, {});
    EXPECT_TRUE(hits.ok());
    size_t hit = 0;
    for (const auto& h : *hits) hit += top.count(h.passage_id);
    recall += static_cast<double>(hit) / 10.0;
  }
  return recall / queries;
}

// "auto" keeps exact search while the corpus is small, then trains IVF on the vectors held,
// retrains when the corpus has grown enough, never returns deleted passages, and survives a
// restart from its snapshot plus the vectors past the watermark.
TEST(IndexFaissChoiceTest, FlatThenTrainedIvfThenRetrained) {
  testing::ScratchDir dir;
  std::mt19937_64 rng(3);
  std::vector<std::pair<uint64_t, std::vector<float>>> truth;
  auto add = [&](Index& index, int n) {
    auto r = AddClustered(index, n, rng, &truth);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Index::AddResult();
  };
  std::vector<Index::AddResult> added;
  {
    auto index = Index::Open(AutoOptions(dir.path().string()));
    ASSERT_TRUE(index.ok()) << index.status();
    for (int i = 0; i < 35; ++i) added.push_back(add(**index, 10));
    EXPECT_EQ((*index)->Stats().vector_index, "Flat");
    EXPECT_DOUBLE_EQ(Recall(**index, truth, rng), 1.0);
    for (int i = 0; i < 10; ++i) added.push_back(add(**index, 10));
    (*index)->WaitForBackgroundWork();
    // 450 vectors: IVF with 64 lists (the smallest), trained on what is held.
    EXPECT_EQ((*index)->Stats().vector_index, "IVF64,Flat nprobe=16");
    EXPECT_EQ((*index)->Stats().vectors, 450u);
    EXPECT_GE(Recall(**index, truth, rng), 0.95);
    // Deleted passages never come back, even though IVF keeps removed ids' lists.
    ASSERT_TRUE((*index)->DeleteDocument(added[3].document_id).ok());
    std::erase_if(truth, [&](const auto& t) {
      return std::count(added[3].passage_ids.begin(), added[3].passage_ids.end(), t.first) > 0;
    });
    EXPECT_EQ((*index)->Stats().vectors, 440u);
    for (int c = 0; c < 2 * kDim; ++c) {
      auto hits = (*index)->SearchDense(Near(c, rng, 0), 50, {});
      ASSERT_TRUE(hits.ok());
      for (const auto& h : *hits) {
        EXPECT_TRUE((*index)->GetPassage(h.passage_id).ok()) << "deleted " << h.passage_id;
      }
    }
    ASSERT_TRUE((*index)->Snapshot().ok());
    // Past 1024 vectors 4·sqrt(n) reaches 128 lists: retrained.
    for (int i = 0; i < 60; ++i) added.push_back(add(**index, 10));
    (*index)->WaitForBackgroundWork();
    EXPECT_EQ((*index)->Stats().vector_index, "IVF128,Flat nprobe=16");
    EXPECT_GE(Recall(**index, truth, rng), 0.95);
  }
  // The destructor snapshotted IVF128; reopening keeps it.
  auto index = Index::Open(AutoOptions(dir.path().string()));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->Stats().vector_index, "IVF128,Flat nprobe=16");
  EXPECT_EQ((*index)->Stats().vectors, truth.size());
  EXPECT_GE(Recall(**index, truth, rng), 0.95);
}

// Past `faiss_auto_compress_limit`, "auto" retrains IVF with 8-bit codes; search stays close
// to exact, deletions hold, and the compressed index survives a restart and keeps growing.
TEST(IndexFaissChoiceTest, IvfCompressesPastTheLimit) {
  testing::ScratchDir dir;
  std::mt19937_64 rng(5);
  std::vector<std::pair<uint64_t, std::vector<float>>> truth;
  auto options = [&] {
    IndexOptions o = AutoOptions(dir.path().string());
    o.faiss_auto_compress_limit = 800;
    return o;
  };
  auto add = [&](Index& index, int n) {
    auto r = AddClustered(index, n, rng, &truth);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Index::AddResult();
  };
  {
    auto index = Index::Open(options());
    ASSERT_TRUE(index.ok()) << index.status();
    for (int i = 0; i < 45; ++i) add(**index, 10);
    (*index)->WaitForBackgroundWork();
    EXPECT_EQ((*index)->Stats().vector_index, "IVF64,Flat nprobe=16");
    // 800 vectors: same number of lists, but codes instead of floats.
    Index::AddResult victim = add(**index, 10);
    for (int i = 0; i < 35; ++i) add(**index, 10);
    (*index)->WaitForBackgroundWork();
    EXPECT_EQ((*index)->Stats().vector_index, "IVF64,SQ8 nprobe=16");
    EXPECT_EQ((*index)->Stats().vectors, 810u);
    EXPECT_GE(Recall(**index, truth, rng), 0.95);
    ASSERT_TRUE((*index)->DeleteDocument(victim.document_id).ok());
    std::erase_if(truth, [&](const auto& t) {
      return std::count(victim.passage_ids.begin(), victim.passage_ids.end(), t.first) > 0;
    });
    for (int c = 0; c < 2 * kDim; ++c) {
      auto hits = (*index)->SearchDense(Near(c, rng, 0), 50, {});
      ASSERT_TRUE(hits.ok());
      for (const auto& h : *hits) {
        EXPECT_EQ(std::count(victim.passage_ids.begin(), victim.passage_ids.end(), h.passage_id), 0)
            << "deleted " << h.passage_id;
      }
    }
  }
  auto index = Index::Open(options());
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->Stats().vector_index, "IVF64,SQ8 nprobe=16");
  EXPECT_EQ((*index)->Stats().vectors, truth.size());
  EXPECT_GE(Recall(**index, truth, rng), 0.95);
  // Retrained from its own (decoded) codes when the list count doubles.
  for (int i = 0; i < 30; ++i) add(**index, 10);
  (*index)->WaitForBackgroundWork();
  EXPECT_EQ((*index)->Stats().vector_index, "IVF128,SQ8 nprobe=16");
  EXPECT_EQ((*index)->Stats().vectors, truth.size());
  EXPECT_GE(Recall(**index, truth, rng), 0.95);
}

// Writing a snapshot's file holds no lock, and writes that make a snapshot due leave it to a
// background thread: while one is stuck (its temporary file is a FIFO nobody reads yet),
// writes and searches go on. What was added meanwhile is kept after a restart.
TEST(IndexSnapshotTest, WritingTheFileBlocksNeitherWritersNorSearches) {
  testing::ScratchDir dir;
  std::mt19937_64 rng(9);
  IndexOptions o = Options(dir.path().string());
  o.snapshot_every = 1;  // every write makes a snapshot due
  auto index = Index::Open(o);
  ASSERT_TRUE(index.ok()) << index.status();
  auto add = [&](int n) { return AddClustered(**index, n, rng); };
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(add(100).ok());  // 2,000 vectors: > a pipe's buffer
  (*index)->WaitForBackgroundWork();                        // the snapshots those writes started
  const std::string fifo = (dir.path() / "vectors.faiss.tmp").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  absl::Status snapshot_status;
  std::thread snapshot([&] { snapshot_status = (*index)->Snapshot(); });
  // Opening the read end returns once the snapshot has serialised and opened its file; its
  // writes then fill the pipe and stop.
  const int fd = ::open(fifo.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  auto write = std::async(std::launch::async, [&] { return add(10); });
  const bool went_on = write.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  EXPECT_TRUE(went_on) << "a write waited for the snapshot's file";
  auto hits = (*index)->SearchDense(Near(0, rng, 0), 5, {});
  EXPECT_TRUE(hits.ok());
  EXPECT_EQ((*index)->Stats().vectors, 2010u);
  // Drain the pipe; fsync then fails on a FIFO, which the snapshot reports.
  char buffer[65536];
  size_t drained = 0;
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) drained += static_cast<size_t>(n);
  ::close(fd);
  snapshot.join();
  ASSERT_TRUE(write.get().ok());
  EXPECT_GT(drained, 2000u * kDim * sizeof(float));
  EXPECT_FALSE(snapshot_status.ok());
  std::filesystem::remove(fifo);
  // A real snapshot now, more writes past it, then a restart: everything is there.
  ASSERT_TRUE((*index)->Snapshot().ok());
  ASSERT_TRUE(add(5).ok());
  index->reset();
  index = Index::Open(o);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->Stats().vectors, 2015u);
}

// A writer using "auto" is killed at random points around the switch to IVF; after reopening
// (snapshot + vectors past the watermark + tombstones), FAISS agrees exactly with RocksDB.
TEST(IndexFaissChoiceTest, RecoveryAfterKillAroundTraining) {
  for (int round = 0; round < 3; ++round) {
    testing::ScratchDir dir;
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto index = Index::Open(AutoOptions(dir.path().string()));
      if (!index.ok()) _exit(3);
      std::mt19937_64 rng(round);
      std::vector<uint64_t> docs;
      const int stop = 30 + round * 15;  // before, at and after the switch to IVF
      for (int i = 0; i < stop; ++i) {
        std::vector<PassageRecord> passages(10);
        std::vector<std::vector<float>> vectors;
        for (auto& p : passages) {
          p.text = "texte";
          vectors.push_back(Near(static_cast<int>(rng() % (2 * kDim)), rng));
        }
        DocumentRecord d;
        d.source_path = "s" + std::to_string(i);
        d.content_hash = d.source_path;
        auto r = (*index)->AddDocument(d, passages, vectors, std::nullopt);
        if (!r.ok()) _exit(4);
        docs.push_back(r->document_id);
        if (i % 9 == 4 && !(*index)->Snapshot().ok()) _exit(5);
        if (i % 7 == 3) (void)(*index)->DeleteDocument(docs[rng() % docs.size()]);
      }
      raise(SIGKILL);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    auto index = Index::Open(AutoOptions(dir.path().string()));
    ASSERT_TRUE(index.ok()) << index.status();
    IndexStats stats = (*index)->Stats();
    EXPECT_EQ(stats.vectors, stats.passages) << stats.vector_index;
    std::set<uint64_t> found;
    std::mt19937_64 rng(99);
    for (int c = 0; c < 2 * kDim; ++c) {
      auto hits = (*index)->SearchDense(Near(c, rng, 0), 1000, {});
      ASSERT_TRUE(hits.ok());
      for (const auto& h : *hits) {
        EXPECT_TRUE((*index)->GetPassage(h.passage_id).ok()) << "stale vector " << h.passage_id;
        found.insert(h.passage_id);
      }
    }
    // Every stored passage is reachable (each is some cluster's neighbour).
    if (stats.vector_index == "Flat") {
      EXPECT_EQ(found.size(), stats.passages);
    }
  }
}

// The snapshot is read in place: damaged files are DataLoss (never a crash), and the index
// then rebuilds FAISS from RocksDB.
TEST(IndexFaissChoiceTest, DamagedSnapshotsAreErrorsAndRebuilt) {
  testing::ScratchDir dir;
  std::mt19937_64 rng(8);
  {
    auto index = Index::Open(AutoOptions(dir.path().string()));
    ASSERT_TRUE(index.ok());
    std::vector<PassageRecord> passages(500);
    std::vector<std::vector<float>> vectors;
    for (auto& p : passages) {
      p.text = "texte";
      vectors.push_back(Near(static_cast<int>(rng() % (2 * kDim)), rng));
    }
    DocumentRecord d;
    d.source_path = d.content_hash = "big";
    ASSERT_TRUE((*index)->AddDocument(d, passages, vectors, std::nullopt).ok());
    ASSERT_TRUE((*index)->Snapshot().ok());
  }
  const std::filesystem::path snap = dir.path() / "vectors.faiss";
  std::string bytes;
  {
    std::ifstream in(snap, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  SnapshotInfo info;
  auto good = VectorIndex::Load(snap.string(), &info);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ((*good)->size(), 500u);
  EXPECT_EQ(info.watermark, 500u);
  for (const std::string& damaged : {bytes.substr(0, bytes.size() - 7), bytes + "xyz",
                                     "GFVY" + bytes.substr(4), bytes.substr(0, 30)}) {
    {
      std::ofstream out(snap, std::ios::binary | std::ios::trunc);
      out << damaged;
    }
    EXPECT_FALSE(VectorIndex::Load(snap.string(), &info).ok());
    auto index = Index::Open(AutoOptions(dir.path().string()));
    ASSERT_TRUE(index.ok()) << index.status();
    EXPECT_EQ((*index)->Stats().vectors, 500u);
    EXPECT_EQ((*index)->Stats().vector_index, "IVF64,Flat nprobe=16");
  }
}

// An explicit factory that needs training ("IVF8,Flat") is exact search until 39 vectors per
// centroid (at least 256 centroids' worth) arrived, then trained on them; filters and
// deletions work on the trained index, and the choice survives a restart.
TEST(IndexFaissChoiceTest, ExplicitIvfFactoryIsTrainedWhenEnoughVectors) {
  testing::ScratchDir dir;
  std::mt19937_64 rng(4);
  IndexOptions o = Options(dir.path().string());
  o.faiss_factory = "IVF8,Flat";
  std::vector<Index::AddResult> added;
  auto add = [&](Index& index, int n, std::vector<std::string> labels) {
    auto r = AddClustered(index, n, rng, nullptr, std::move(labels));
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) added.push_back(*r);
  };
  {
    auto index = Index::Open(o);
    ASSERT_TRUE(index.ok()) << index.status();
    add(**index, 5000, {});
    add(**index, 100, {"rh"});
    EXPECT_EQ((*index)->Stats().vector_index, "Flat");
    ASSERT_TRUE((*index)->Snapshot().ok());
  }
  auto index = Index::Open(o);  // the pending training survives the restart
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->Stats().vector_index, "Flat");
  add(**index, 5000, {});
  (*index)->WaitForBackgroundWork();
  EXPECT_EQ((*index)->Stats().vector_index, "IVF8,Flat nprobe=8");
  EXPECT_EQ((*index)->Stats().vectors, 10100u);
  const std::set<uint64_t> secret(added[1].passage_ids.begin(), added[1].passage_ids.end());
  SearchFilter rh;
  rh.caller_labels = {"rh"};
  rh.document_ids = {added[1].document_id};
  for (int c = 0; c < 2 * kDim; ++c) {
    auto hits = (*index)->SearchDense(Near(c, rng, 0), 30, {});
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ(hits->size(), 30u);
    for (const auto& h : *hits) EXPECT_EQ(secret.count(h.passage_id), 0u);
    hits = (*index)->SearchDense(Near(c, rng, 0), 5, rh);
    ASSERT_TRUE(hits.ok());
    for (const auto& h : *hits) EXPECT_EQ(secret.count(h.passage_id), 1u);
  }
  ASSERT_TRUE((*index)->DeleteDocument(added[1].document_id).ok());
  EXPECT_EQ((*index)->Stats().vectors, 10000u);
  auto hits = (*index)->SearchDense(Near(0, rng, 0), 5, rh);
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE(hits->empty());
}

// Growth runs in the background: writes, deletions and a snapshot (which prunes tombstones)
// land while the new index is being built; the new index replays them before it replaces
// the old one, so it holds exactly the stored passages. Also with growth inline.
TEST(IndexFaissChoiceTest, BackgroundGrowthReplaysWhatChangedMeanwhile) {
  for (bool background : {true, false}) {
    testing::ScratchDir dir;
    std::mt19937_64 rng(5);
    IndexOptions o = AutoOptions(dir.path().string());
    o.faiss_background_growth = background;
    Index* live = nullptr;
    std::vector<uint64_t> docs;
    int hook_calls = 0;
    std::mutex test_mu;  // the hook adds from the growth thread while the test thread adds
    auto add = [&](Index& index, int n) {
      std::lock_guard lock(test_mu);
      auto r = AddClustered(index, n, rng);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) docs.push_back(r->document_id);
    };
    o.faiss_growth_hook_for_testing = [&]() {
      ++hook_calls;
      // The old index serves meanwhile.
      EXPECT_EQ(live->Stats().vector_index, "Flat");
      uint64_t second, fifth;
      {
        std::lock_guard lock(test_mu);
        second = docs[2];
        fifth = docs[5];
      }
      ASSERT_TRUE(live->DeleteDocument(second).ok());
      ASSERT_TRUE(live->Snapshot().ok());
      add(*live, 30);
      ASSERT_TRUE(live->DeleteDocument(fifth).ok());
    };
    // Written after the lock-free replay: the replay under the write lock must catch them.
    o.faiss_growth_replay_hook_for_testing = [&]() {
      uint64_t eighth;
      {
        std::lock_guard lock(test_mu);
        eighth = docs[8];
      }
      add(*live, 7);
      ASSERT_TRUE(live->DeleteDocument(eighth).ok());
    };
    {
      auto index = Index::Open(o);
      ASSERT_TRUE(index.ok()) << index.status();
      live = index->get();
      for (int i = 0; i < 41; ++i) add(**index, 10);
      (*index)->WaitForBackgroundWork();
      EXPECT_EQ(hook_calls, background ? 1 : 0);
      IndexStats stats = (*index)->Stats();
      EXPECT_EQ(stats.vector_index, "IVF64,Flat nprobe=16");
      EXPECT_EQ(stats.vectors, stats.passages);
      EXPECT_EQ(stats.passages, background ? 410u - 20u + 30u + 7u - 10u : 410u);
      // Every vector belongs to a stored passage.
      std::set<uint64_t> found;
      for (int c = 0; c < 2 * kDim; ++c) {
        auto hits = (*index)->SearchDense(Near(c, rng, 0), 500, {});
        ASSERT_TRUE(hits.ok());
        for (const auto& h : *hits) {
          EXPECT_TRUE((*index)->GetPassage(h.passage_id).ok()) << "stale " << h.passage_id;
        }
      }
    }
    live = nullptr;
    o.faiss_growth_hook_for_testing = nullptr;
    o.faiss_growth_replay_hook_for_testing = nullptr;
    auto index = Index::Open(o);
    ASSERT_TRUE(index.ok()) << index.status();
    IndexStats stats = (*index)->Stats();
    EXPECT_EQ(stats.vector_index, "IVF64,Flat nprobe=16");
    EXPECT_EQ(stats.vectors, stats.passages);
  }
}

// Searches run while a writer adds and deletes, snapshots are written (under the shared lock)
// and FAISS grows in the background: no error, and no result is ever a deleted passage.
TEST(IndexConcurrencyTest, SearchesDuringWritesSnapshotsAndGrowth) {
  testing::ScratchDir dir;
  IndexOptions o = AutoOptions(dir.path().string());
  o.snapshot_every = 50;
  auto index = Index::Open(o);
  ASSERT_TRUE(index.ok()) << index.status();
  std::atomic<bool> done{false};
  std::atomic<int> errors{0}, searches{0};
  auto reader = [&](uint64_t seed) {
    TextGen gen(seed);
    std::mt19937_64 rng(seed);
    while (!done) {
      auto lexical = (*index)->SearchLexical(gen.Text(3), 10, {});
      auto dense = (*index)->SearchDense(Near(static_cast<int>(rng() % 32), rng), 10, {});
      if (!lexical.ok() || !dense.ok()) ++errors;
      ++searches;
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // let the writer in
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  TextGen gen(3);
  std::vector<uint64_t> docs;
  for (int i = 0; i < 60; ++i) {
    docs.push_back(AddRandomDoc(**index, gen, 10, "d" + std::to_string(i)).document_id);
    if (i % 10 == 9) {
      const size_t victim = gen.rng()() % docs.size();
      ASSERT_TRUE((*index)->DeleteDocument(docs[victim]).ok());
      docs.erase(docs.begin() + static_cast<long>(victim));
    }
  }
  (*index)->WaitForBackgroundWork();
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(errors, 0);
  EXPECT_GT(searches, 0);
  IndexStats stats = (*index)->Stats();
  EXPECT_EQ(stats.vectors, stats.passages);
  EXPECT_NE(stats.vector_index, "Flat");
}

}  // namespace
}  // namespace greffier::index
