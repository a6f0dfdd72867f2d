#include "index/index.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <random>

#include "index/audit_log.h"
#include "tests/common/test_util.h"

namespace greffier::index {
namespace {

constexpr int kDim = 16;

// A unit vector pointing mostly along axis `axis`.
std::vector<float> Axis(int axis, float noise = 0.0f) {
  std::vector<float> v(kDim, noise);
  v[axis % kDim] = 1.0f;
  float n = 0;
  for (float x : v) n += x * x;
  for (float& x : v) x /= std::sqrt(n);
  return v;
}

IndexOptions Options(const std::string& path) {
  IndexOptions o;
  o.path = path;
  o.embedder_id = "test-embedder";
  o.dimension = kDim;
  return o;
}

DocumentRecord Doc(const std::string& source, const std::string& hash) {
  DocumentRecord d;
  d.source_path = source;
  d.content_hash = hash;
  d.title = source;
  d.pages = {{PageSource::kTextLayer, 10, 0, ""}};
  return d;
}

std::vector<PassageRecord> Passages(int n) {
  std::vector<PassageRecord> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].page_start = out[i].page_end = 1;
    out[i].text = "passage " + std::to_string(i);
  }
  return out;
}

Index::AddResult AddDoc(Index& index, const std::string& source, const std::string& hash,
                        std::vector<int> axes, std::optional<uint64_t> replace = std::nullopt,
                        std::vector<std::string> labels = {}) {
  std::vector<std::vector<float>> vectors;
  for (int a : axes) vectors.push_back(Axis(a));
  DocumentRecord d = Doc(source, hash);
  d.access_labels = std::move(labels);
  auto r = index.AddDocument(d, Passages(static_cast<int>(axes.size())), vectors, replace);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Index::AddResult{};
}

TEST(IndexTest, AddSearchGetAndPersist) {
  testing::ScratchDir dir;
  uint64_t doc_id;
  std::vector<uint64_t> pids;
  {
    auto index = Index::Open(Options(dir.path().string()));
    ASSERT_TRUE(index.ok()) << index.status();
    auto r = AddDoc(**index, "a.pdf", "h1", {0, 1, 2});
    doc_id = r.document_id;
    pids = r.passage_ids;
    ASSERT_EQ(pids.size(), 3u);
    auto hits = (*index)->SearchDense(Axis(1), 1, {});
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_EQ((*hits)[0].passage_id, pids[1]);
  }
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok()) << index.status();
  auto doc = (*index)->GetDocument(doc_id);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->passage_ids, pids);
  auto p = (*index)->GetPassage(pids[2]);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->document_id, doc_id);
  EXPECT_EQ(p->text, "passage 2");
  auto hits = (*index)->SearchDense(Axis(2), 1, {});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].passage_id, pids[2]);
  EXPECT_EQ((*index)->Stats().vectors, 3u);
}

TEST(IndexTest, LookupsByHashAndSource) {
  testing::ScratchDir dir;
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok());
  auto r = AddDoc(**index, "dir/a.pdf", "hash-a", {0});
  auto by_hash = (*index)->FindByContentHash("hash-a");
  ASSERT_TRUE(by_hash.ok());
  EXPECT_EQ(by_hash->value_or(0), r.document_id);
  auto by_source = (*index)->FindBySource("dir/a.pdf");
  ASSERT_TRUE(by_source.ok());
  EXPECT_EQ(by_source->value_or(0), r.document_id);
  EXPECT_FALSE((*index)->FindByContentHash("other")->has_value());
}

TEST(IndexTest, ReplaceRemovesOldPassagesAtomically) {
  testing::ScratchDir dir;
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok());
  auto v1 = AddDoc(**index, "a.pdf", "h1", {3, 4});
  auto v2 = AddDoc(**index, "a.pdf", "h2", {5}, v1.document_id);
  EXPECT_TRUE(absl::IsNotFound((*index)->GetDocument(v1.document_id).status()));
  EXPECT_TRUE(absl::IsNotFound((*index)->GetPassage(v1.passage_ids[0]).status()));
  EXPECT_FALSE((*index)->FindByContentHash("h1")->has_value());
  EXPECT_EQ((*index)->FindBySource("a.pdf")->value_or(0), v2.document_id);
  auto hits = (*index)->SearchDense(Axis(3), 10, {});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].passage_id, v2.passage_ids[0]);
}

TEST(IndexTest, DeleteThenRestartNeverReturnsDeletedPassages) {
  testing::ScratchDir dir;
  uint64_t gone, kept;
  {
    auto index = Index::Open(Options(dir.path().string()));
    ASSERT_TRUE(index.ok());
    gone = AddDoc(**index, "gone.pdf", "h1", {7}).document_id;
    kept = AddDoc(**index, "kept.pdf", "h2", {8}).document_id;
    ASSERT_TRUE((*index)->Snapshot().ok());  // the snapshot still holds `gone`
    auto n = (*index)->DeleteDocument(gone);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1u);
    EXPECT_TRUE(absl::IsNotFound((*index)->DeleteDocument(gone).status()));
  }
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok());
  auto hits = (*index)->SearchDense(Axis(7), 10, {});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  auto p = (*index)->GetPassage((*hits)[0].passage_id);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->document_id, kept);
}

TEST(IndexTest, FiltersApplyInsideSearch) {
  testing::ScratchDir dir;
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok());
  // Ten public passages close to the query, one labelled passage exactly on it.
  for (int i = 0; i < 10; ++i)
    AddDoc(**index, "pub" + std::to_string(i), "p" + std::to_string(i), {9});
  auto secret = AddDoc(**index, "secret.pdf", "s", {9}, std::nullopt, {"rh"});
  SearchFilter anonymous;
  auto hits = (*index)->SearchDense(Axis(9), 20, anonymous);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), 10u);
  for (const auto& h : *hits) EXPECT_NE(h.passage_id, secret.passage_ids[0]);
  SearchFilter hr;
  hr.caller_labels = {"rh"};
  hr.document_ids = {secret.document_id};
  hits = (*index)->SearchDense(Axis(9), 1, hr);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);  // filtered inside FAISS: the one slot is not wasted
  EXPECT_EQ((*hits)[0].passage_id, secret.passage_ids[0]);
  EXPECT_FALSE((*index)->DocumentVisible(secret.document_id, anonymous));
  EXPECT_TRUE((*index)->DocumentVisible(secret.document_id, hr));
}

TEST(IndexTest, OtherEmbedderIsAClearError) {
  testing::ScratchDir dir;
  { ASSERT_TRUE(Index::Open(Options(dir.path().string())).ok()); }
  IndexOptions o = Options(dir.path().string());
  o.embedder_id = "another-model";
  auto index = Index::Open(o);
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(index.status().message().find("test-embedder"), std::string::npos);
}

TEST(IndexTest, SecondOpenOfTheSameDirectoryIsRefused) {
  testing::ScratchDir dir;
  auto first = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(first.ok());
  auto second = Index::Open(Options(dir.path().string()));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("lock"), std::string::npos) << second.status();
}

// A child process writes documents and dies by SIGKILL at a random point (no destructor, no
// final snapshot). After reopening, FAISS must agree exactly with RocksDB.
TEST(IndexCrashTest, FaissAgreesWithRocksDbAfterKill) {
  for (int round = 0; round < 3; ++round) {
    testing::ScratchDir dir;
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto index = Index::Open(Options(dir.path().string()));
      if (!index.ok()) _exit(3);
      std::mt19937 rng(round);
      std::vector<uint64_t> docs;
      for (int i = 0; i < 40; ++i) {
        auto r = (*index)->AddDocument(Doc("d" + std::to_string(i), "h" + std::to_string(i)),
                                       Passages(2), {Axis(i), Axis(i + 1)}, std::nullopt);
        if (!r.ok()) _exit(4);
        docs.push_back(r->document_id);
        if (i % 10 == 5 && !(*index)->Snapshot().ok()) _exit(5);
        if (i % 7 == 3) {
          (void)(*index)->DeleteDocument(docs[rng() % docs.size()]);
        }
      }
      raise(SIGKILL);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

    auto index = Index::Open(Options(dir.path().string()));
    ASSERT_TRUE(index.ok()) << index.status();
    IndexStats stats = (*index)->Stats();
    EXPECT_EQ(stats.vectors, stats.passages);
    // Every vector FAISS returns belongs to a stored passage, and every stored passage is found.
    size_t found = 0;
    for (int axis = 0; axis < kDim; ++axis) {
      auto hits = (*index)->SearchDense(Axis(axis), 200, {});
      ASSERT_TRUE(hits.ok());
      for (const auto& h : *hits) {
        EXPECT_TRUE((*index)->GetPassage(h.passage_id).ok()) << "stale vector " << h.passage_id;
      }
      found = std::max(found, hits->size());
    }
    EXPECT_EQ(found, stats.passages);
  }
}

}  // namespace
}  // namespace greffier::index

namespace greffier::index {
namespace {

Index::AddResult AddText(Index& index, const std::string& source, const std::string& title,
                         const std::vector<std::string>& texts,
                         std::optional<uint64_t> replace = std::nullopt) {
  DocumentRecord d = Doc(source, "hash-" + source + texts[0]);
  d.title = title;
  std::vector<PassageRecord> passages(texts.size());
  std::vector<std::vector<float>> vectors;
  for (size_t i = 0; i < texts.size(); ++i) {
    passages[i].page_start = passages[i].page_end = 1;
    passages[i].text = texts[i];
    vectors.push_back(Axis(static_cast<int>(i)));
  }
  auto r = index.AddDocument(d, passages, vectors, replace);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Index::AddResult{};
}

TEST(IndexLexicalTest, Bm25FindsInflectedFormsAndReferences) {
  testing::ScratchDir dir;
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok());
  auto a = AddText(**index, "a.pdf", "Délibérations du conseil",
                   {"Le conseil municipal a adopté les délibérations relatives aux tarifs.",
                    "Vu l'article L. 2121-29 du code général des collectivités territoriales."});
  AddText(**index, "b.pdf", "Arrêté de voirie",
          {"Le stationnement est interdit rue de la République pendant les travaux."});
  auto hits = (*index)->SearchLexical("délibération tarif", 5, {});
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].passage_id, a.passage_ids[0]);
  hits = (*index)->SearchLexical("L.2121-29", 5, {});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].passage_id, a.passage_ids[1]);
  // The title is indexed with every passage of its document.
  hits = (*index)->SearchLexical("voirie", 5, {});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
}

TEST(IndexLexicalTest, DeleteAndReplaceUpdatePostingsExactly) {
  testing::ScratchDir dir;
  uint64_t v2_passage;
  {
    auto index = Index::Open(Options(dir.path().string()));
    ASSERT_TRUE(index.ok());
    auto v1 = AddText(**index, "a.pdf", "Note", {"La cantine ferme en août."});
    auto other = AddText(**index, "b.pdf", "Autre", {"La piscine ferme en juillet."});
    auto v2 = AddText(**index, "a.pdf", "Note", {"La cantine ferme en septembre."}, v1.document_id);
    v2_passage = v2.passage_ids[0];
    auto hits = (*index)->SearchLexical("août", 5, {});
    ASSERT_TRUE(hits.ok());
    EXPECT_TRUE(hits->empty());
    ASSERT_TRUE((*index)->DeleteDocument(other.document_id).ok());
    hits = (*index)->SearchLexical("piscine", 5, {});
    ASSERT_TRUE(hits.ok());
    EXPECT_TRUE(hits->empty());
  }
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok());
  auto hits = (*index)->SearchLexical("cantine septembre", 5, {});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].passage_id, v2_passage);
  // Only one passage is left: the common word's document frequency went back to 1, so its
  // coverage of the query is total.
  auto coverage = (*index)->QueryCoverage("cantine", v2_passage);
  ASSERT_TRUE(coverage.ok());
  EXPECT_DOUBLE_EQ(*coverage, 1.0);
  coverage = (*index)->QueryCoverage("cantine piscine", v2_passage);
  ASSERT_TRUE(coverage.ok());
  EXPECT_GT(*coverage, 0.0);
  EXPECT_LT(*coverage, 1.0);
}

TEST(IndexLexicalTest, CoverageForgivesOneTypoInALongTerm) {
  testing::ScratchDir dir;
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok());
  auto a = AddText(**index, "a.pdf", "Note",
                   {"Les colonies allemandes passent aux Britanniques. Le port reste ouvert."});
  AddText(**index, "b.pdf", "Autre", {"La piscine ferme en juillet."});
  auto coverage = [&](const std::string& q) {
    auto c = (*index)->QueryCoverage(q, a.passage_ids[0]);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : -1.0;
  };
  const double right = coverage("colonies allemandes");
  EXPECT_DOUBLE_EQ(right, 1.0);
  // One letter substituted, dropped, doubled or swapped: still the passage's word.
  EXPECT_DOUBLE_EQ(coverage("colonies allemendes"), 1.0);
  EXPECT_DOUBLE_EQ(coverage("colonies allmandes"), 1.0);
  EXPECT_DOUBLE_EQ(coverage("colonies alllemandes"), 1.0);
  EXPECT_DOUBLE_EQ(coverage("colonies allemadnes"), 1.0);
  // Two edits, or a short word, are another word.
  EXPECT_LT(coverage("colonies alemendes"), 1.0);
  EXPECT_LT(coverage("colonies pont"), 1.0);  // "port" is one letter away, but short
  EXPECT_LT(coverage("colonies piscine"), 1.0);
}

TEST(IndexLexicalTest, LabelsFilterLexicalSearchToo) {
  testing::ScratchDir dir;
  auto index = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(index.ok());
  DocumentRecord d = Doc("secret.pdf", "s");
  d.access_labels = {"rh"};
  std::vector<PassageRecord> passages(1);
  passages[0].text = "Prime exceptionnelle de madame Martin.";
  ASSERT_TRUE((*index)->AddDocument(d, passages, {Axis(0)}, std::nullopt).ok());
  auto hits = (*index)->SearchLexical("prime exceptionnelle Martin", 5, {});
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE(hits->empty());
  SearchFilter hr;
  hr.caller_labels = {"rh"};
  hits = (*index)->SearchLexical("prime exceptionnelle Martin", 5, hr);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), 1u);
}

}  // namespace
}  // namespace greffier::index

namespace greffier::index {
namespace {

TEST(IndexReembedTest, SwitchesEmbedderAndRebuildsVectors) {
  testing::ScratchDir dir;
  uint64_t pid;
  {
    auto index = Index::Open(Options(dir.path().string()));
    ASSERT_TRUE(index.ok());
    pid = AddDoc(**index, "a.pdf", "h1", {0, 1}).passage_ids[1];
    // Every passage now points along axis 3 of an 8-dimensional space.
    auto st =
        (*index)->Reembed("other-embedder", 8, [](const PassageRecord&, const DocumentRecord&) {
          std::vector<float> v(8, 0.0f);
          v[3] = 1.0f;
          return absl::StatusOr<std::vector<float>>(v);
        });
    ASSERT_TRUE(st.ok()) << st;
    std::vector<float> q(8, 0.0f);
    q[3] = 1.0f;
    auto hits = (*index)->SearchDense(q, 5, {});
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ(hits->size(), 2u);
  }
  // The old embedder is refused now; the new one opens with its vectors.
  EXPECT_FALSE(Index::Open(Options(dir.path().string())).ok());
  IndexOptions o = Options(dir.path().string());
  o.embedder_id = "other-embedder";
  o.dimension = 8;
  auto index = Index::Open(o);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->Stats().vectors, 2u);
  std::vector<float> q(8, 0.0f);
  q[3] = 1.0f;
  auto hits = (*index)->SearchDense(q, 5, {});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_TRUE((*hits)[0].passage_id == pid || (*hits)[1].passage_id == pid);
}

TEST(IndexReadOnlyTest, ReadsBesideAWriterAndAcceptsItsEmbedder) {
  testing::ScratchDir dir;
  auto writer = Index::Open(Options(dir.path().string()));
  ASSERT_TRUE(writer.ok());
  auto added = AddDoc(**writer, "a.pdf", "h1", {2});
  AuditRecord record;
  record.caller = "alice";
  record.kind = "ask";
  ASSERT_TRUE((*writer)->audit().Append(record).ok());
  IndexOptions o;
  o.path = dir.path().string();
  o.read_only = true;
  o.any_embedder = true;
  auto reader = Index::Open(o);  // the writer still holds the lock
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->embedder_id(), "test-embedder");
  EXPECT_EQ((*reader)->dimension(), kDim);
  EXPECT_TRUE((*reader)->GetPassage(added.passage_ids[0]).ok());
  auto v = (*reader)->audit().Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->records_checked, 1u);
  EXPECT_FALSE((*reader)->AddDocument(Doc("b.pdf", "h2"), {}, {}, std::nullopt).ok());
  IndexOptions missing = o;
  missing.path = (dir.path() / "nothing-here").string();
  EXPECT_TRUE(absl::IsNotFound(Index::Open(missing).status()));
}

}  // namespace
}  // namespace greffier::index

namespace greffier::index {
namespace {

// Approximate indexes take their own search parameters; filters must work with them too.
TEST(IndexFactoryTest, HnswAndIvfSearchWithFilters) {
  for (const char* factory : {"HNSW16", "IVF4,Flat"}) {
    testing::ScratchDir dir;
    IndexOptions o = Options(dir.path().string());
    o.faiss_factory = factory;
    auto index = Index::Open(o);
    ASSERT_TRUE(index.ok()) << factory << ": " << index.status();
    // One batch large enough to train the IVF quantizer, then labelled and public documents.
    std::vector<int> axes;
    for (int i = 0; i < 64; ++i) axes.push_back(i % kDim);
    AddDoc(**index, "bulk.pdf", "bulk", axes);
    auto secret = AddDoc(**index, "secret.pdf", "s", {5}, std::nullopt, {"rh"});
    auto hits = (*index)->SearchDense(Axis(5), 10, {});
    ASSERT_TRUE(hits.ok()) << factory << ": " << hits.status();
    EXPECT_FALSE(hits->empty()) << factory;
    for (const auto& h : *hits) EXPECT_NE(h.passage_id, secret.passage_ids[0]) << factory;
    SearchFilter hr;
    hr.caller_labels = {"rh"};
    hr.document_ids = {secret.document_id};
    hits = (*index)->SearchDense(Axis(5), 1, hr);
    ASSERT_TRUE(hits.ok()) << factory;
    ASSERT_EQ(hits->size(), 1u) << factory;
    EXPECT_EQ((*hits)[0].passage_id, secret.passage_ids[0]) << factory;
  }
}

}  // namespace
}  // namespace greffier::index
