// A data directory switched to a GGUF embedding model: `--embedder gguf:FILE` parsing,
// re-embedding, the recorded model reopened by LoadEmbedder, and clear errors when the index
// is opened with another embedder.

#include <gtest/gtest.h>

#include "generate/hashing_embedder.h"
#include "generate/model_maker.h"
#include "ingest/ingester.h"
#include "service/data_dir.h"
#include "tests/common/test_util.h"

namespace greffier::service {
namespace {

TEST(EmbedderSpecTest, ParsesTheEmbedderFlag) {
  auto g = ParseEmbedderSpec("gguf:/models/e5.gguf");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->kind, EmbedderKind::kGguf);
  EXPECT_EQ(g->model_path, "/models/e5.gguf");
  EXPECT_EQ(ParseEmbedderSpec("lsa")->kind, EmbedderKind::kLsa);
  EXPECT_EQ(ParseEmbedderSpec("hashing")->kind, EmbedderKind::kHashing);
  EXPECT_FALSE(ParseEmbedderSpec("gguf:").ok());
  EXPECT_FALSE(ParseEmbedderSpec("bert").ok());
}

TEST(EmbedderGgufTest, ReembedRecordsTheModelAndMismatchesAreClearErrors) {
  testing::ScratchDir dir;
  auto make = [&](const std::string& name, uint64_t seed) {
    generate::MakeModelOptions mo;
    mo.shape = generate::BertTinyShape();
    mo.type = "f16";
    mo.seed = seed;
    const std::string path = (dir.path() / name).string();
    EXPECT_TRUE(generate::WriteRandomModel(mo, path).ok());
    return path;
  };
  const std::string model = make("minilm.gguf", 1), other = make("other.gguf", 2);
  const std::string data = (dir.path() / "data").string();

  generate::HashingEmbedder hashing;
  std::string gguf_id;
  {
    auto index = OpenIndex(data, hashing, false);
    ASSERT_TRUE(index.ok()) << index.status();
    ingest::IngesterOptions io;
    io.index = index->get();
    io.embedder = &hashing;
    auto ingester = ingest::Ingester::Open(io);
    ASSERT_TRUE(ingester.ok()) << ingester.status();
    ingest::IngestMetadata meta;
    meta.title = "Contrat";
    auto r = (*ingester)->Ingest("Le délai de paiement du contrat est de trente jours.\n",
                                 "contrat.txt", meta);
    ASSERT_TRUE(r.ok()) << r.status();
    EmbedderSpec spec;
    spec.kind = EmbedderKind::kGguf;
    spec.model_path = model;
    auto e = Reembed(**index, data, spec);
    ASSERT_TRUE(e.ok()) << e.status();
    gguf_id = (*e)->Identity();
    EXPECT_EQ(gguf_id.rfind("gguf:minilm.gguf:", 0), 0u) << gguf_id;
    EXPECT_EQ((*index)->embedder_id(), gguf_id);
    EXPECT_EQ((*index)->dimension(), 32);
  }
  // The directory now names its model: plain opens use it.
  auto loaded = LoadEmbedder(data);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Identity(), gguf_id);
  {
    auto index = OpenIndex(data, **loaded, false);
    ASSERT_TRUE(index.ok()) << index.status();
  }
  // Another embedder is refused, naming both.
  auto with_hashing = OpenIndex(data, hashing, false);
  ASSERT_FALSE(with_hashing.ok());
  EXPECT_NE(with_hashing.status().message().find(gguf_id), std::string::npos);
  auto other_model = LoadEmbedder(data, other);
  ASSERT_TRUE(other_model.ok());
  EXPECT_NE((*other_model)->Identity(), gguf_id);
  auto with_other = OpenIndex(data, **other_model, false);
  ASSERT_FALSE(with_other.ok());
  EXPECT_NE(with_other.status().message().find("reembed"), std::string::npos);
  // A missing model is an error that names the record.
  std::filesystem::rename(model, model + ".moved");
  auto gone = LoadEmbedder(data);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("embedder.gguf"), std::string::npos) << gone.status();
  std::filesystem::rename(model + ".moved", model);
  // Back to hashing: the record goes away.
  {
    auto index = OpenIndex(data, **loaded, false);
    ASSERT_TRUE(index.ok());
    ASSERT_TRUE(Reembed(**index, data, EmbedderKind::kHashing).ok());
  }
  auto back = LoadEmbedder(data);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)->Identity(), hashing.Identity());
}

}  // namespace
}  // namespace greffier::service
