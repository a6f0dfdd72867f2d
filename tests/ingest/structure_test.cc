// Structure of French administrative documents: headings, parts, passages, metadata.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ingest/metadata_detect.h"
#include "ingest/passage_splitter.h"
#include "ingest/text_normalize.h"

namespace greffier::ingest {
namespace {

std::string Label(const std::string& line, int* level) {
  std::string label;
  *level = HeadingLevel(line, &label);
  return label;
}

TEST(StructureTest, HeadingsAreRecognised) {
  int level;
  EXPECT_EQ(Label("Article 1er", &level), "Article 1er");
  EXPECT_EQ(level, kArticle);
  EXPECT_EQ(Label("Art. 1 er. – La liste des zones", &level), "Article 1er");
  EXPECT_EQ(Label("Art. 2. – La dérogation", &level), "Article 2");
  EXPECT_EQ(Label("ARTICLE PREMIER", &level), "Article 1er");
  EXPECT_EQ(Label("Article unique", &level), "Article unique");
  EXPECT_EQ(Label("Article 2 - A compter du 1er mars", &level), "Article 2");
  EXPECT_EQ(Label("Chapitre II", &level), "Chapitre II");
  EXPECT_EQ(level, kChapitre);
  EXPECT_EQ(Label("TITRE III : DISPOSITIONS FINALES", &level), "Titre III");
  EXPECT_EQ(level, kTitre);
  EXPECT_EQ(Label("Section 1", &level), "Section 1");
  EXPECT_EQ(level, kSection);
  EXPECT_EQ(Label("ANNEXE I", &level), "Annexe I");
  EXPECT_EQ(level, kTitre);
  EXPECT_EQ(Label("ANNEXE", &level), "Annexe");
  EXPECT_EQ(Label("\xE2\x80\xA2 DE-2012/86 – Délégations de pouvoirs", &level),
            "Délibération DE-2012/86");
  EXPECT_EQ(level, kDeliberation);
  EXPECT_EQ(Label("Délibération n° 2015-12 : budget", &level), "Délibération 2015-12");
  EXPECT_EQ(Label("Vu le code électoral ;", &level), "Visas");
  EXPECT_EQ(level, kPart);
  EXPECT_EQ(Label("Considérant que la sécurité l'exige ;", &level), "Considérants");
  EXPECT_EQ(level, kPart);
  // Markdown headings.
  EXPECT_EQ(Label("## Article 3", &level), "Article 3");
  EXPECT_EQ(level, kArticle);
  EXPECT_EQ(Label("# Budget primitif 2024", &level), "Budget primitif 2024");
  EXPECT_EQ(level, kTitre);
  EXPECT_EQ(Label("### Recettes", &level), "Recettes");
  EXPECT_EQ(level, kSection);
  EXPECT_EQ(HeadingLevel("#hashtag", nullptr), -1);
  // Running text that merely mentions an article is not a heading.
  EXPECT_EQ(HeadingLevel("Article 2 de la loi du 5 avril 1884", nullptr), -1);
  EXPECT_EQ(HeadingLevel("Les articles suivants", nullptr), -1);
  EXPECT_EQ(HeadingLevel("Sectionner les haies", nullptr), -1);
  EXPECT_EQ(HeadingLevel("Vue sur la mer", nullptr), -1);
}

TEST(StructureTest, DispositifLines) {
  EXPECT_TRUE(IsDispositifLine("ARRÊTE :"));
  EXPECT_TRUE(IsDispositifLine("Arrêtent :"));
  EXPECT_TRUE(IsDispositifLine("DÉCIDE"));
  EXPECT_TRUE(IsDispositifLine("Décrète :"));
  EXPECT_FALSE(IsDispositifLine("Arrête le budget primitif"));
}

// The code points [begin, end) of `text`.
std::string CodePointSlice(const std::string& text, size_t begin, size_t end) {
  std::string out;
  size_t cp = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    bool lead = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (lead && i > 0) ++cp;
    if (cp >= begin && cp < end) out.push_back(text[i]);
  }
  return out;
}

ExtractedPage Page(const std::string& text) {
  ExtractedPage p;
  p.text = text;
  p.source = index::PageSource::kTextLayer;
  return p;
}

std::string Sentence(int i) {
  return absl::StrCat("La phrase numéro ", i,
                      " précise une règle applicable aux voies communales de la commune. ");
}

TEST(StructureTest, PassagesFollowTheStructure) {
  std::string long_article;
  for (int i = 0; i < 30; ++i) long_article += Sentence(i);  // ~2400 code points
  std::string page1 = absl::StrCat(
      "Arrêté municipal n° 2024-117 portant réglementation\n\n"
      "Vu le code général des collectivités territoriales ;\n"
      "Vu le code de la route ;\n\n"
      "Considérant qu'il convient d'assurer la sécurité ;\n\n"
      "ARRÊTE :\n\n"
      "Chapitre I\n\n"
      "Article 1er\n",
      Sentence(100), "\n\n", Sentence(101), "\n\n", Sentence(102), "\n\n", "Article 2\n",
      long_article);
  std::string page2 = absl::StrCat("Chapitre II\n\nArticle 3\n", Sentence(200));
  std::vector<ExtractedPage> pages = {Page(page1), Page(page2)};
  std::vector<index::PassageRecord> ps = SplitIntoPassages(pages);
  ASSERT_GE(ps.size(), 6u);

  std::vector<std::string> paths;
  for (const auto& p : ps) paths.push_back(absl::StrJoin(p.section_path, " > "));
  EXPECT_EQ(paths[0], "");
  EXPECT_EQ(paths[1], "Visas");
  EXPECT_NE(ps[1].text.find("code de la route"),
            std::string::npos);  // both visas together
  EXPECT_EQ(paths[2], "Considérants");
  EXPECT_EQ(paths[3], "");  // « ARRÊTE » closes the considérants
  EXPECT_EQ(paths[4], "Chapitre I");
  EXPECT_EQ(paths[5], "Chapitre I > Article 1er");
  // Article 1er (three paragraphs) fits and stays whole.
  EXPECT_NE(ps[5].text.find("numéro 100"), std::string::npos);
  EXPECT_NE(ps[5].text.find("numéro 102"), std::string::npos);

  // Article 2 is too long: several passages, each with the path, overlapping.
  std::vector<const index::PassageRecord*> art2;
  for (const auto& p : ps) {
    if (absl::StrJoin(p.section_path, " > ") == "Chapitre I > Article 2") art2.push_back(&p);
  }
  ASSERT_GE(art2.size(), 2u);
  for (size_t i = 0; i + 1 < art2.size(); ++i) {
    EXPECT_LE(CodePointCount(art2[i]->text), 1500u);
    EXPECT_LT(art2[i + 1]->char_start, art2[i]->char_end) << "no overlap";
  }
  EXPECT_EQ(absl::StrJoin(ps.back().section_path, " > "), "Chapitre II > Article 3");
  EXPECT_EQ(ps.back().page_start, 2u);

  // Offsets point at the passage's text in its page.
  for (const auto& p : ps) {
    ASSERT_EQ(p.page_start, p.page_end);
    const std::string& text = pages[p.page_start - 1].text;
    std::string slice = CodePointSlice(text, p.char_start, p.char_end);
    ASSERT_GE(slice.size(), 5u);
    EXPECT_EQ(slice.substr(0, 5), p.text.substr(0, 5));
    EXPECT_EQ(slice.substr(slice.size() - 5), p.text.substr(p.text.size() - 5));
  }
}

TEST(StructureTest, HugePagesSplitInLinearTime) {
  // A hostile file may put megabytes of short paragraphs on one page.
  std::string text;
  for (int i = 0; i < 100000; ++i) absl::StrAppend(&text, "Ligne é", i, "\n\n");
  auto t0 = std::chrono::steady_clock::now();
  std::vector<index::PassageRecord> ps = SplitIntoPassages({Page(text)});
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(ps.empty());
  EXPECT_EQ(ps.back().char_end, CodePointCount(text) - 2);
  EXPECT_LT(s, 5.0);
}

TEST(StructureTest, CouncilMinutesSplitByDeliberation) {
  std::vector<ExtractedPage> pages = {
      Page("CONSEIL MUNICIPAL\nSEANCE DU 10 JUILLET 2012\n\n"
           "DE-2012/86 – Délégations de pouvoirs\nLe maire rend compte des "
           "marchés.\n\n"
           "DE-2012/87 – Défi du vieillissement\nLe conseil décide de poursuivre.")};
  std::vector<index::PassageRecord> ps = SplitIntoPassages(pages);
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(absl::StrJoin(ps[1].section_path, " > "), "Délibération DE-2012/86");
  EXPECT_EQ(absl::StrJoin(ps[2].section_path, " > "), "Délibération DE-2012/87");
  EXPECT_NE(ps[2].text.find("poursuivre"), std::string::npos);
}

TEST(StructureTest, MetadataOfAnArrete) {
  std::vector<ExtractedPage> pages = {
      Page("Décrets, arrêtés, circulaires\n\nTEXTES GÉNÉRAUX\n\n"
           "Arrêté du 22 janvier 2020 fixant la liste des zones interdites\n"
           "à la prise de vue aérienne\n\nNOR : PRMD1937810A\n\n"
           "Vu l'arrêté n° 2008/3337 du 18 août 2008 ;")};
  DetectedMetadata m = DetectMetadata(pages);
  EXPECT_EQ(m.document_type, "arrêté");
  EXPECT_EQ(m.date, "2020-01-22");
  EXPECT_EQ(m.nor, "PRMD1937810A");
  EXPECT_EQ(m.title,
            "Arrêté du 22 janvier 2020 fixant la liste des zones interdites à "
            "la prise de vue "
            "aérienne");
  ASSERT_FALSE(m.references.empty());
  EXPECT_EQ(m.references[0], "2008/3337");
}

TEST(StructureTest, MetadataOfMinutesAndDates) {
  DetectedMetadata m =
      DetectMetadata({Page("Commune de Chémeré\n\nCONSEIL MUNICIPAL\nSÉANCE DU "
                           "10 JUILLET 2012\n\n...")});
  EXPECT_EQ(m.document_type, "procès-verbal");
  EXPECT_EQ(m.date, "2012-07-10");
  EXPECT_EQ(FindFrenchDate("à compter du 1er mars 2015"), "2015-03-01");
  EXPECT_EQ(FindFrenchDate("Convocation : 03/07/2012"), "2012-07-03");
  EXPECT_EQ(FindFrenchDate("pas de date ici"), "");
  EXPECT_EQ(DetectMetadata({Page("Cerfa n° 13969*01\nDemande de subvention")}).document_type,
            "formulaire");
}

}  // namespace
}  // namespace greffier::ingest
