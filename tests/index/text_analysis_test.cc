#include "index/text_analysis.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/stopwords.h"

namespace greffier::index {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

class TextAnalysisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto analyzer = FrenchAnalyzer::Create();
    ASSERT_TRUE(analyzer.ok()) << analyzer.status();
    analyzer_ = *std::move(analyzer);
  }
  std::vector<std::string> Terms(std::string_view text) {
    return analyzer_->AnalyzeToStrings(text);
  }
  std::unique_ptr<FrenchAnalyzer> analyzer_;
};

TEST_F(TextAnalysisTest, ElisionsWithEveryApostrophe) {
  const std::vector<std::string> plain = Terms("article");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(Terms("l'article"), plain);
  EXPECT_EQ(Terms("l\u2019article"), plain);  // ’
  EXPECT_EQ(Terms("L\u02BCarticle"), plain);  // ʼ
  EXPECT_EQ(Terms("d'habitation"), Terms("habitation"));
  EXPECT_EQ(Terms("qu\u2019une"), Terms("une"));
  EXPECT_EQ(Terms("jusqu'au terme"), Terms("au terme"));
  EXPECT_EQ(Terms("lorsqu\u2019intervient"), Terms("intervient"));
  EXPECT_EQ(Terms("puisqu'elle vote"), Terms("vote"));
  EXPECT_EQ(Terms("n'importe"), Terms("importe"));
  EXPECT_EQ(Terms("s'applique"), Terms("applique"));
  // Not an elision: both halves stay.
  EXPECT_EQ(Terms("aujourd'hui").size(), 2u);
}

TEST_F(TextAnalysisTest, CaseAccentsAndLigaturesFold) {
  EXPECT_EQ(Terms("ÉCOLE"), Terms("école"));
  EXPECT_EQ(Terms("école"), Terms("ecole"));
  EXPECT_EQ(Terms("Œuvre"), Terms("oeuvre"));
  EXPECT_EQ(Terms("cæcum"), Terms("caecum"));
  EXPECT_EQ(Terms("Ça"), Terms("ca"));
  // Decomposed accents (e + U+0301) and compatibility forms (ﬁ) too.
  EXPECT_EQ(Terms("de\u0301libe\u0301ration"), Terms("délibération"));
  EXPECT_EQ(Terms("\uFB01chier"), Terms("fichier"));
  // A soft hyphen inside a word is ignored.
  EXPECT_EQ(Terms("fi\u00ADchier"), Terms("fichier"));
  for (const std::string& t : Terms("Élève Façade Noël Garçon")) {
    for (unsigned char c : t) EXPECT_LT(c, 0x80) << t;
  }
}

TEST_F(TextAnalysisTest, SnowballStemmingConflatesInflections) {
  EXPECT_EQ(Terms("délibérations"), Terms("délibération"));
  EXPECT_EQ(Terms("Délibérations"), Terms("deliberation"));
  EXPECT_EQ(Terms("conseils municipaux"), Terms("conseil municipal"));
  EXPECT_EQ(Terms("déclarées"), Terms("déclaré"));
  // Queries typed without accents reach accented text.
  EXPECT_EQ(Terms("déclarée"), Terms("declaree"));
  EXPECT_EQ(Terms("publiées"), Terms("publiees"));
  EXPECT_NE(Terms("délibération"), Terms("budget"));
}

TEST_F(TextAnalysisTest, LightStemmingStripsPluralAndFeminine) {
  FrenchAnalyzer::Options options;
  options.stemming = FrenchAnalyzer::Stemming::kLight;
  auto light = FrenchAnalyzer::Create(options);
  ASSERT_TRUE(light.ok()) << light.status();
  EXPECT_EQ((*light)->AnalyzeToStrings("délibérations"),
            (*light)->AnalyzeToStrings("délibération"));
  EXPECT_EQ((*light)->AnalyzeToStrings("déclarées"), (*light)->AnalyzeToStrings("déclaré"));
  EXPECT_EQ((*light)->AnalyzeToStrings("journaux"), (*light)->AnalyzeToStrings("journal"));
  options.stemming = FrenchAnalyzer::Stemming::kNone;
  auto none = FrenchAnalyzer::Create(options);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT((*none)->AnalyzeToStrings("Délibérations"), ElementsAre("deliberations"));
}

TEST_F(TextAnalysisTest, StopWordsDroppedButPositionsKept) {
  std::vector<Term> terms = analyzer_->Analyze("le conseil et la commune");
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[0].position, 1u);
  EXPECT_EQ(terms[1].position, 4u);
  EXPECT_THAT(Terms("Quels sont les délais ?"), ElementsAre(Terms("délais")[0]));
  EXPECT_TRUE(IsFrenchStopWord("les"));
  EXPECT_FALSE(IsFrenchStopWord("pas"));  // Negation changes a question.

  FrenchAnalyzer::Options options;
  options.remove_stop_words = false;
  auto keep = FrenchAnalyzer::Create(options);
  ASSERT_TRUE(keep.ok()) << keep.status();
  EXPECT_EQ((*keep)->Analyze("le conseil et la commune").size(), 5u);
}

TEST_F(TextAnalysisTest, CodeReferencesAreOneTerm) {
  const std::vector<std::string> ref = Terms("L. 2121-29");
  ASSERT_EQ(ref.size(), 1u);
  EXPECT_EQ(ref[0], "l.2121-29");
  EXPECT_EQ(Terms("L.2121-29"), ref);
  EXPECT_EQ(Terms("L2121-29"), ref);
  EXPECT_EQ(Terms("L\u00A02121-29"), ref);  // No-break space.
  EXPECT_THAT(Terms("selon l'article L. 2121-29 du code"), Contains(ref[0]));
  EXPECT_THAT(Terms("R. 2121-29"), Not(Contains(ref[0])));
  EXPECT_THAT(Terms("article LO. 141"), Contains("lo.141"));
  // A lone capital before an ordinary number is not a reference.
  EXPECT_THAT(Terms("A 12 ans"), Contains("12"));
}

TEST_F(TextAnalysisTest, NumbersDatesAndOrdinalsKeptIntact) {
  EXPECT_THAT(Terms("délibération n° 2023-117"), Contains("2023-117"));
  EXPECT_EQ(Terms("N°2023-117"), Terms("nº 2023-117"));
  EXPECT_THAT(Terms("N°2023-117"), ElementsAre("2023-117"));
  EXPECT_THAT(Terms("12/03/2024"), ElementsAre("2024-03-12"));
  EXPECT_EQ(Terms("2024-03-12"), Terms("12/03/2024"));
  EXPECT_EQ(Terms("12.03.2024"), Terms("12/03/2024"));
  EXPECT_EQ(Terms("1/3/2024"), Terms("01/03/2024"));
  EXPECT_THAT(Terms("45/13/2024"), ElementsAre("45/13/2024"));  // Not a date.
  EXPECT_THAT(Terms("le 1er janvier"), Contains("1er"));
  EXPECT_THAT(Terms("taux de 3,5 %"), Contains("3,5"));
  EXPECT_THAT(Terms("COVID-19"), ElementsAre("covid-19"));
  // Separators bind only around digits.
  EXPECT_EQ(Terms("Saint-Étienne").size(), 2u);
  EXPECT_EQ(Terms("et/ou").size(), 0u);
  EXPECT_EQ(Terms("budget,vote").size(), 2u);

  FrenchAnalyzer::Options options;
  options.canonical_dates = false;
  auto raw = FrenchAnalyzer::Create(options);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_THAT((*raw)->AnalyzeToStrings("12/03/2024"), ElementsAre("12/03/2024"));
}

TEST_F(TextAnalysisTest, DottedAcronymsJoin) {
  EXPECT_EQ(Terms("C.N.I.L."), Terms("CNIL"));
  EXPECT_EQ(Terms("C.N.I.L.").size(), 1u);
}

TEST_F(TextAnalysisTest, OffsetsPointIntoTheSource) {
  const std::string text = "Vu l\u2019article L. 2121-29 ; délibérations.";
  std::vector<Term> terms = analyzer_->Analyze(text);
  ASSERT_EQ(terms.size(), 4u);
  auto source = [&text](const Term& t) { return text.substr(t.begin, t.end - t.begin); };
  EXPECT_EQ(source(terms[0]), "Vu");
  EXPECT_EQ(source(terms[1]), "article");
  EXPECT_EQ(source(terms[2]), "L. 2121-29");
  EXPECT_EQ(source(terms[3]), "délibérations");
  for (size_t i = 1; i < terms.size(); ++i) {
    EXPECT_GT(terms[i].position, terms[i - 1].position);
  }
}

TEST_F(TextAnalysisTest, BadInputNeverCrashes) {
  EXPECT_THAT(Terms(""), IsEmpty());
  EXPECT_THAT(Terms(" \t\n…—«»"), IsEmpty());
  EXPECT_EQ(Terms("budget\xFF\xFE"
                  "conseil"),
            Terms("budget conseil"));
  EXPECT_EQ(Terms("budget\xC3"), Terms("budget"));  // Truncated sequence.
  std::string nul("budget\0conseil", 14);
  EXPECT_EQ(Terms(nul), Terms("budget conseil"));
  EXPECT_THAT(Terms("L."), IsEmpty());  // « L » alone is a stop word.
  EXPECT_EQ(Terms("L. "), Terms("L"));
  EXPECT_EQ(Terms("1/2/"), Terms("1/2"));
}

TEST_F(TextAnalysisTest, IdentityNamesTheOptions) {
  FrenchAnalyzer::Options options;
  options.stemming = FrenchAnalyzer::Stemming::kLight;
  auto light = FrenchAnalyzer::Create(options);
  ASSERT_TRUE(light.ok()) << light.status();
  EXPECT_NE(analyzer_->Identity(), (*light)->Identity());
  auto again = FrenchAnalyzer::Create();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(analyzer_->Identity(), (*again)->Identity());
}

TEST_F(TextAnalysisTest, OneAnalyzerPerThreadGivesTheSameTerms) {
  const std::string text =
      "Les délibérations du conseil municipal (article L. 2121-29) du "
      "12/03/2024.";
  const std::vector<std::string> expected = Terms(text);
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&got, &text, i] {
      auto analyzer = FrenchAnalyzer::Create();
      if (!analyzer.ok()) return;
      for (int n = 0; n < 200; ++n) got[i] = (*analyzer)->AnalyzeToStrings(text);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

TEST(FoldForMatchingTest, FoldsCaseAccentsLigatures) {
  EXPECT_EQ(FoldForMatching("Œuvrées"), "oeuvrees");
  EXPECT_EQ(FoldForMatching("ÇA"), "ca");
  EXPECT_EQ(FoldForMatching("straße"), "strasse");
}

}  // namespace
}  // namespace greffier::index
