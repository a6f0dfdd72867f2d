// Layout-aware extraction on PDFs written by the test: columns, running lines, hyphenation, tables.

#include "ingest/layout.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "ingest/pdf_extractor.h"
#include "ingest/pdf_writer.h"

namespace greffier::ingest {
namespace {

ExtractedDocument Extract(const PdfDocumentSpec& spec) {
  ExtractOptions o;
  o.ocr = false;
  absl::StatusOr<ExtractedDocument> doc = ExtractPdf(WritePdf(spec), "test.pdf", o);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? *doc : ExtractedDocument();
}

TEST(LayoutTest, TwoColumnsAreReadOneAfterTheOther) {
  PdfDocumentSpec spec;
  spec.pages.emplace_back();
  auto& lines = spec.pages[0].lines;
  lines.push_back({72, 780, 16, true, "Bulletin municipal de la commune de Testville"});
  for (int i = 0; i < 12; ++i) {
    double y = 740 - 14 * i;
    lines.push_back({72, y, 10, false, absl::StrCat("gauche ligne ", i, " du texte courant ici")});
    lines.push_back({320, y, 10, false, absl::StrCat("droite ligne ", i, " du texte courant ici")});
  }
  ExtractedDocument doc = Extract(spec);
  ASSERT_EQ(doc.pages.size(), 1u);
  const std::string& t = doc.pages[0].text;
  size_t title = t.find("Bulletin municipal");
  size_t last_left = t.find("gauche ligne 11");
  size_t first_right = t.find("droite ligne 0");
  ASSERT_NE(title, std::string::npos) << t;
  ASSERT_NE(last_left, std::string::npos) << t;
  ASSERT_NE(first_right, std::string::npos) << t;
  EXPECT_LT(title, last_left);
  EXPECT_LT(last_left, first_right) << t;
  // Lines of a column are not glued to the other column's lines.
  EXPECT_EQ(t.find("ici droite"), std::string::npos) << t;
  EXPECT_EQ(t.find(" | droite"), std::string::npos) << t;
}

TEST(LayoutTest, RunningHeadersFootersAndPageNumbersAreDropped) {
  std::vector<PdfBlock> blocks;
  blocks.push_back({PdfBlock::kTitle, "Arrêté portant règlement de voirie"});
  for (int i = 1; i <= 12; ++i) {
    blocks.push_back({PdfBlock::kHeading, absl::StrCat("Article ", i)});
    blocks.push_back({PdfBlock::kParagraph,
                      absl::StrCat("Les dispositions de l'article ", i,
                                   " s'appliquent à toutes les voies communales ouvertes à la "
                                   "circulation publique, sauf décision contraire du maire "
                                   "prise par arrêté motivé et affiché en mairie.")});
  }
  LayoutOptions lo;
  lo.header = "Commune de Testville";
  PdfDocumentSpec spec = LayoutDocument("Arrêté", blocks, lo);
  ASSERT_GE(spec.pages.size(), 2u);
  ExtractedDocument doc = Extract(spec);
  ASSERT_EQ(doc.pages.size(), spec.pages.size());
  for (size_t i = 0; i < doc.pages.size(); ++i) {
    const std::string& t = doc.pages[i].text;
    EXPECT_EQ(t.find("Commune de Testville"), std::string::npos) << "page " << i + 1 << ":\n" << t;
    EXPECT_EQ(t.find("Page "), std::string::npos) << "page " << i + 1 << ":\n" << t;
    EXPECT_NE(t.find("Article"), std::string::npos) << t;
  }
  // Body text survives.
  EXPECT_NE(doc.pages[0].text.find("Arrêté portant règlement de voirie"), std::string::npos);
}

TEST(LayoutTest, SinglePageFooterNumberIsDropped) {
  PdfDocumentSpec spec = LayoutDocument(
      "Note", {{PdfBlock::kParagraph, "Une note de service courte mais lisible par tous."}});
  ASSERT_EQ(spec.pages.size(), 1u);
  ExtractedDocument doc = Extract(spec);
  EXPECT_EQ(doc.pages[0].text.find("Page 1/1"), std::string::npos) << doc.pages[0].text;
  EXPECT_NE(doc.pages[0].text.find("note de service"), std::string::npos);
}

TEST(LayoutTest, HyphenatedLineEndsAreJoined) {
  PdfDocumentSpec spec;
  spec.pages.emplace_back();
  auto& l = spec.pages[0].lines;
  l.push_back({72, 700, 11, false, "Le conseil municipal approuve la régle-"});
  l.push_back({72, 686, 11, false, "mentation du stationnement rue de Saint-"});
  l.push_back({72, 672, 11, false, "Maur et sur la place de la mairie."});
  ExtractedDocument doc = Extract(spec);
  const std::string& t = doc.pages[0].text;
  EXPECT_NE(t.find("réglementation"), std::string::npos) << t;
  EXPECT_EQ(t.find("régle-"), std::string::npos) << t;
  // A hyphen before a capital is part of a compound name.
  EXPECT_NE(t.find("Saint-\nMaur"), std::string::npos) << t;
}

TEST(LayoutTest, TableRowsStayTogether) {
  PdfDocumentSpec spec;
  spec.pages.emplace_back();
  auto& l = spec.pages[0].lines;
  l.push_back({72, 760, 11, false, "Le maire rend compte des marchés conclus ce trimestre."});
  const char* rows[][3] = {{"Société", "Objet", "Montant"},
                           {"Alpha SARL", "Travaux", "1 200 €"},
                           {"Beta SA", "Mobilier", "2 184 €"},
                           {"Gamma", "Entretien", "290 €"}};
  for (int r = 0; r < 4; ++r) {
    double y = 720 - 16 * r;
    l.push_back({72, y, 11, false, rows[r][0]});
    l.push_back({250, y, 11, false, rows[r][1]});
    l.push_back({420, y, 11, false, rows[r][2]});
  }
  ExtractedDocument doc = Extract(spec);
  const std::string& t = doc.pages[0].text;
  EXPECT_NE(t.find("Alpha SARL | Travaux | 1 200 €"), std::string::npos) << t;
  EXPECT_NE(t.find("Beta SA | Mobilier | 2 184 €"), std::string::npos) << t;
}

TEST(LayoutTest, LabelAndAmountTableIsNotTakenForColumns) {
  // Long labels on the left could pass for a column of text: the amounts say it is a table.
  PdfDocumentSpec spec;
  spec.pages.emplace_back();
  auto& l = spec.pages[0].lines;
  const char* labels[] = {
      "Association sportive de la commune",       "Comité des fêtes du bourg",
      "Amicale des anciens combattants",          "Bibliothèque municipale et ludothèque",
      "Coopérative scolaire de l'école publique", "Club des aînés ruraux"};
  for (int r = 0; r < 6; ++r) {
    double y = 700 - 16 * r;
    l.push_back({72, y, 10, false, labels[r]});
    l.push_back({400, y, 10, false, absl::StrCat(r + 1, " 200,00 €")});
  }
  ExtractedDocument doc = Extract(spec);
  const std::string& t = doc.pages[0].text;
  EXPECT_NE(t.find("Association sportive de la commune | 1 200,00 €"), std::string::npos) << t;
  EXPECT_NE(t.find("Club des aînés ruraux | 6 200,00 €"), std::string::npos) << t;
}

TEST(LayoutTest, ParagraphGapsBecomeBlankLines) {
  PdfDocumentSpec spec;
  spec.pages.emplace_back();
  auto& l = spec.pages[0].lines;
  l.push_back({72, 700, 11, false, "Premier paragraphe sur deux lignes qui se suivent"});
  l.push_back({72, 686, 11, false, "sans interruption aucune entre elles."});
  l.push_back({72, 650, 11, false, "Second paragraphe après un espace vertical."});
  ExtractedDocument doc = Extract(spec);
  EXPECT_NE(doc.pages[0].text.find("suivent\nsans"), std::string::npos) << doc.pages[0].text;
  EXPECT_NE(doc.pages[0].text.find("elles.\n\nSecond"), std::string::npos) << doc.pages[0].text;
}

TEST(LayoutTest, PageNumberLines) {
  EXPECT_TRUE(IsPageNumberLine("12"));
  EXPECT_TRUE(IsPageNumberLine("- 3 -"));
  EXPECT_TRUE(IsPageNumberLine("Page 2/5"));
  EXPECT_TRUE(IsPageNumberLine("page 4 sur 9"));
  EXPECT_FALSE(IsPageNumberLine("Article 12"));
  EXPECT_FALSE(IsPageNumberLine("2024 est une année"));
}

TEST(LayoutTest, RotatedWordsAreReadInTheirOwnFrame) {
  // A landscape table printed sideways: words turned a quarter (bottom to top).
  LayoutPage page;
  page.width = 595;
  page.height = 842;
  const char* words[] = {"Zone", "interdite", "de", "Nice"};
  double y = 600;
  for (const char* w : words) {
    LayoutWord lw;
    lw.text = w;
    lw.x0 = 300, lw.x1 = 310;
    lw.y1 = y;
    lw.y0 = y - 8 * std::string(w).size();
    lw.rotation = 3;
    lw.font_size = 10;
    y = lw.y0 - 3;
    page.words.push_back(lw);
  }
  std::vector<std::string> texts = ComposePages({page});
  EXPECT_EQ(texts[0], "Zone interdite de Nice");
}

TEST(LayoutTest, HostileCoordinatesAreIgnored) {
  LayoutPage page;
  page.width = std::numeric_limits<double>::quiet_NaN();
  for (int i = 0; i < 2000; ++i) {
    LayoutWord w;
    w.text = "mot";
    w.x0 = i % 3 == 0 ? std::numeric_limits<double>::quiet_NaN() : i % 50 * 11.0;
    w.x1 = w.x0 + 10;
    w.y0 = i % 7 == 0 ? std::numeric_limits<double>::infinity() : (i / 50) * 12.0;
    w.y1 = w.y0 + 10;
    w.rotation = i % 4;
    page.words.push_back(w);
  }
  std::vector<std::string> texts = ComposePages({page, LayoutPage()});
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_NE(texts[0].find("mot"), std::string::npos);
  EXPECT_TRUE(texts[1].empty());
}

}  // namespace
}  // namespace greffier::ingest
