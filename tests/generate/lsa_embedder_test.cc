#include "generate/lsa_embedder.h"

#include <cmath>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_util.h"

namespace greffier::generate {
namespace {

using ::testing::HasSubstr;

// Three topics; inside a topic, passages share some words but not all, so
// only co-occurrence links, e.g., « traceurs » and « navigateur ».
std::vector<std::string> Corpus() {
  return {
      // Cookies and trackers.
      "Un cookie est un petit fichier déposé par un site internet dans le "
      "navigateur de l'internaute.",
      "Les cookies et autres traceurs déposés dans le navigateur exigent le "
      "consentement de l'internaute.",
      "Le bandeau cookies du site internet doit permettre de refuser les "
      "traceurs aussi facilement que de les accepter.",
      "Supprimer les cookies du navigateur efface les traceurs publicitaires "
      "du site.",
      // Taxes.
      "La déclaration de revenus permet de calculer l'impôt sur le revenu du "
      "foyer fiscal.",
      "L'administration fiscale calcule l'impôt à partir de la déclaration "
      "des revenus du foyer.",
      "Le prélèvement à la source de l'impôt sur le revenu dépend du taux du "
      "foyer fiscal.",
      "Une erreur dans la déclaration fiscale peut être corrigée en ligne "
      "auprès de l'administration.",
      // Health.
      "Le médecin traitant coordonne le parcours de soins du patient à "
      "l'hôpital.",
      "Le dossier médical du patient est partagé entre le médecin et "
      "l'hôpital.",
      "Les soins à l'hôpital sont remboursés au patient par l'assurance "
      "maladie.",
      "L'assurance maladie rembourse les consultations du médecin traitant "
      "et les soins.",
  };
}

// One latent direction per topic: the classic LSA setting, where the topic
// structure is what the truncation keeps.
LsaEmbedderOptions SmallOptions() {
  LsaEmbedderOptions options;
  options.dimension = 3;
  options.singular_value_power = 0;
  return options;
}

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

std::vector<float> MustEmbed(const Embedder& e, const std::string& text, bool is_query = false) {
  auto v = e.Embed(text, is_query);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : std::vector<float>();
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteAll(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(LsaEmbedderTest, UnitVectorsOfTheModelDimension) {
  auto model = LsaEmbedder::Train(Corpus(), SmallOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->Dimension(), 3);
  auto v = MustEmbed(**model, "Les cookies du site internet");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_NEAR(Dot(v, v), 1.0, 1e-5);
  // Singular values come largest first.
  const auto& sv = (*model)->SingularValues();
  ASSERT_EQ(sv.size(), 3u);
  for (size_t i = 1; i < sv.size(); ++i) EXPECT_GE(sv[i - 1], sv[i]);
}

TEST(LsaEmbedderTest, DimensionIsCappedByTheCorpus) {
  LsaEmbedderOptions options;
  options.dimension = 256;  // Far more than 12 passages can give.
  auto model = LsaEmbedder::Train(Corpus(), options);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_LE((*model)->Dimension(), 12);
  EXPECT_EQ(MustEmbed(**model, "impôt").size(), static_cast<size_t>((*model)->Dimension()));
}

TEST(LsaEmbedderTest, RelatedTextsAreCloserThanUnrelatedOnes) {
  auto model = LsaEmbedder::Train(Corpus(), SmallOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  const LsaEmbedder& e = **model;
  auto cookies = MustEmbed(e, "Comment refuser les cookies d'un site ?", true);
  auto taxes = MustEmbed(e, "Comment corriger ma déclaration d'impôt ?", true);
  auto health = MustEmbed(e, "Qui rembourse les soins du médecin ?", true);
  const auto corpus = Corpus();
  for (size_t topic = 0; topic < 3; ++topic) {
    const auto& query = topic == 0 ? cookies : topic == 1 ? taxes : health;
    for (size_t d = 0; d < corpus.size(); ++d) {
      auto doc = MustEmbed(e, corpus[d]);
      if (d / 4 != topic) continue;
      // Each passage of the query's topic beats every passage of the others.
      for (size_t o = 0; o < corpus.size(); ++o) {
        if (o / 4 == topic) continue;
        EXPECT_GT(Dot(query, doc), Dot(query, MustEmbed(e, corpus[o])))
            << "query topic " << topic << ", passage " << d << " vs " << o;
      }
    }
  }
}

TEST(LsaEmbedderTest, CoOccurrenceLinksWordsNeverSeenTogetherInTheQuery) {
  auto model = LsaEmbedder::Train(Corpus(), SmallOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  // « traceurs » alone: closer to the cookie passage that lacks the word than
  // to any tax or health passage.
  auto query = MustEmbed(**model, "traceurs", true);
  const auto corpus = Corpus();
  const double cookie = Dot(query, MustEmbed(**model, corpus[0]));
  for (size_t o = 4; o < corpus.size(); ++o) {
    EXPECT_GT(cookie, Dot(query, MustEmbed(**model, corpus[o]))) << o;
  }
  EXPECT_GT(cookie, 0.3);
}

TEST(LsaEmbedderTest, UnknownWordsGiveTheZeroVector) {
  auto model = LsaEmbedder::Train(Corpus(), SmallOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  auto v = MustEmbed(**model, "xylophone zébré 42");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(Dot(v, v), 0.0);
  EXPECT_EQ(Dot(MustEmbed(**model, ""), MustEmbed(**model, "")), 0.0);
}

TEST(LsaEmbedderTest, LongTokensAreSkippedAndTheModelStillLoads) {
  auto corpus = Corpus();
  const std::string token(300, 'a');  // E.g. a hash or base64 blob.
  corpus[0] += " " + token;
  corpus[1] += " " + token;
  LsaEmbedderOptions options = SmallOptions();
  options.stem_length = 0;  // Whole words.
  auto model = LsaEmbedder::Train(corpus, options);
  ASSERT_TRUE(model.ok()) << model.status();
  auto v = MustEmbed(**model, token);
  EXPECT_EQ(Dot(v, v), 0.0);
  auto loaded = LsaEmbedder::Deserialize((*model)->Serialize());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Identity(), (*model)->Identity());
}

TEST(LsaEmbedderTest, DeterministicTraining) {
  auto a = LsaEmbedder::Train(Corpus(), SmallOptions());
  auto b = LsaEmbedder::Train(Corpus(), SmallOptions());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->Identity(), (*b)->Identity());
  EXPECT_EQ((*a)->Serialize(), (*b)->Serialize());
  EXPECT_EQ(MustEmbed(**a, "impôt sur le revenu"), MustEmbed(**b, "impôt sur le revenu"));
}

TEST(LsaEmbedderTest, IdentityChangesWithTrainingDataAndOptions) {
  auto base = LsaEmbedder::Train(Corpus(), SmallOptions());
  ASSERT_TRUE(base.ok());
  EXPECT_THAT((*base)->Identity(), HasSubstr("lsa-v1-d3-"));
  auto corpus = Corpus();
  corpus.back() += " Les pharmacies aussi.";
  auto other_data = LsaEmbedder::Train(corpus, SmallOptions());
  ASSERT_TRUE(other_data.ok());
  EXPECT_NE((*base)->Identity(), (*other_data)->Identity());
  LsaEmbedderOptions options = SmallOptions();
  options.seed = 7;
  options.power_iterations = 0;  // A cruder subspace: different vectors.
  auto other_seed = LsaEmbedder::Train(Corpus(), options);
  ASSERT_TRUE(other_seed.ok());
  EXPECT_NE((*base)->Identity(), (*other_seed)->Identity());
  options = SmallOptions();
  options.stem_length = 0;
  auto other_features = LsaEmbedder::Train(Corpus(), options);
  ASSERT_TRUE(other_features.ok());
  EXPECT_NE((*base)->Identity(), (*other_features)->Identity());
}

TEST(LsaEmbedderTest, SaveLoadRoundTripGivesIdenticalVectors) {
  LsaEmbedderOptions options = SmallOptions();
  options.char_ngram = 4;  // The feature options travel with the model.
  options.stem_length = 5;
  auto model = LsaEmbedder::Train(Corpus(), options);
  ASSERT_TRUE(model.ok()) << model.status();
  greffier::testing::ScratchDir dir;
  const auto path = dir.path() / "lsa.model";
  ASSERT_TRUE((*model)->Save(path).ok());
  auto loaded = LsaEmbedder::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Identity(), (*model)->Identity());
  EXPECT_EQ((*loaded)->Dimension(), (*model)->Dimension());
  EXPECT_EQ((*loaded)->NumFeatures(), (*model)->NumFeatures());
  EXPECT_EQ((*loaded)->SingularValues(), (*model)->SingularValues());
  for (const auto& text : Corpus()) {
    EXPECT_EQ(MustEmbed(**loaded, text), MustEmbed(**model, text));
  }
  EXPECT_EQ(MustEmbed(**loaded, "cookies traceurs", true),
            MustEmbed(**model, "cookies traceurs", true));
  EXPECT_EQ((*loaded)->Serialize(), ReadAll(path));
}

TEST(LsaEmbedderTest, DamagedModelFilesAreClearErrors) {
  auto model = LsaEmbedder::Train(Corpus(), SmallOptions());
  ASSERT_TRUE(model.ok());
  const std::string good = (*model)->Serialize();
  greffier::testing::ScratchDir dir;
  const auto path = dir.path() / "bad.model";

  auto load = [&](const std::string& bytes) {
    WriteAll(path, bytes);
    return LsaEmbedder::Load(path).status();
  };
  auto expect_invalid = [&](const absl::Status& s, const std::string& reason) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(path.string()));
    EXPECT_THAT(std::string(s.message()), HasSubstr(reason));
  };

  expect_invalid(load(""), "truncated");
  expect_invalid(load(good.substr(0, 5)), "truncated");
  expect_invalid(load("NOTLSA!!" + good.substr(8)), "magic");
  std::string version = good;
  version[8] = 9;
  expect_invalid(load(version), "version");
  // Cut anywhere past the header, or one byte changed: checksum mismatch.
  for (size_t cut : {good.size() / 2, good.size() - 1, size_t{40}}) {
    expect_invalid(load(good.substr(0, cut)), "");
  }
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  expect_invalid(load(flipped), "checksum");
  expect_invalid(load(good + "x"), "");

  auto missing = LsaEmbedder::Load(dir.path() / "absent.model");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  // The good bytes still load.
  EXPECT_TRUE(LsaEmbedder::Deserialize(good).ok());
}

TEST(LsaEmbedderTest, TooLittleTextIsAnError) {
  auto none = LsaEmbedder::Train({}, SmallOptions());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  auto one = LsaEmbedder::Train({"Un seul passage."}, SmallOptions());
  EXPECT_EQ(one.status().code(), absl::StatusCode::kInvalidArgument);
  LsaEmbedderOptions bad = SmallOptions();
  bad.dimension = 0;
  EXPECT_EQ(LsaEmbedder::Train(Corpus(), bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = SmallOptions();
  bad.stem_length = -1;
  EXPECT_EQ(LsaEmbedder::Train(Corpus(), bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = SmallOptions();
  bad.max_document_fraction = 0;
  EXPECT_EQ(LsaEmbedder::Train(Corpus(), bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LsaEmbedderTest, ConcurrentEmbedMatchesSerial) {
  auto model = LsaEmbedder::Train(Corpus(), SmallOptions());
  ASSERT_TRUE(model.ok());
  const auto corpus = Corpus();
  std::vector<std::vector<float>> serial;
  for (const auto& t : corpus) serial.push_back(MustEmbed(**model, t));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (size_t i = 0; i < corpus.size(); ++i) {
          auto v = (*model)->Embed(corpus[i], false);
          if (!v.ok() || *v != serial[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace greffier::generate
