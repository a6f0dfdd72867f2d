// OCR of a page that has no text layer: the test renders a born-digital page to pixels and wraps
// the raster alone in a new PDF.

#include "ingest/ocr.h"

#include <gtest/gtest.h>

#include "ingest/pdf_extractor.h"
#include "ingest/pdf_writer.h"

namespace greffier::ingest {
namespace {

std::string ScannedPdf(int dpi, int extra_paragraphs = 0) {
  std::vector<PdfBlock> blocks = {
      {PdfBlock::kTitle, "Arrêté municipal portant réglementation du marché"},
      {PdfBlock::kHeading, "Article 1er"},
      {PdfBlock::kParagraph,
       "Le marché hebdomadaire se tient chaque samedi matin sur la place de la "
       "mairie."},
      {PdfBlock::kHeading, "Article 2"},
      {PdfBlock::kParagraph, "Les commerçants doivent libérer les emplacements avant midi."}};
  for (int i = 0; i < extra_paragraphs; ++i) {
    blocks.push_back({PdfBlock::kParagraph,
                      "Les emplacements sont attribués par le placier municipal selon l'ordre "
                      "d'arrivée des commerçants abonnés puis des commerçants passagers."});
  }
  LayoutOptions lo;
  lo.font_size = 14;
  std::string born_digital = WritePdf(LayoutDocument("Arrêté", blocks, lo));
  absl::StatusOr<PdfImage> raster = RenderPdfPageGray(born_digital, 0, dpi);
  EXPECT_TRUE(raster.ok()) << raster.status();
  PdfDocumentSpec scan;
  scan.pages.emplace_back();
  scan.pages[0].image = raster.ok() ? *raster : PdfImage();
  return WritePdf(scan);
}

TEST(OcrTest, ImageOnlyPageIsRecognised) {
  std::string pdf = ScannedPdf(150);
  // The scan has no text layer at all.
  ExtractOptions no_ocr;
  no_ocr.ocr = false;
  absl::StatusOr<ExtractedDocument> plain = ExtractPdf(pdf, "scan.pdf", no_ocr);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->pages[0].source, index::PageSource::kEmpty);

  ExtractOptions o;
  o.ocr_options.dpi = 200;
  absl::StatusOr<ExtractedDocument> doc = ExtractPdf(pdf, "scan.pdf", o);
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->pages.size(), 1u);
  const ExtractedPage& page = doc->pages[0];
  EXPECT_EQ(page.source, index::PageSource::kOcr) << page.error;
  EXPECT_GT(page.ocr_confidence, 60) << page.text;
  EXPECT_NE(page.text.find("marché hebdomadaire"), std::string::npos) << page.text;
  EXPECT_NE(page.text.find("Article 2"), std::string::npos) << page.text;
  EXPECT_NE(page.text.find("réglementation"), std::string::npos) << page.text;

  // Laid out from the recognised word boxes instead of Tesseract's text: same words, and the
  // page footer ("Page 1/1") is dropped like on a text layer.
  const std::string tesseract_text = page.text;
  o.ocr_layout = true;
  doc = ExtractPdf(pdf, "scan.pdf", o);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->pages[0].source, index::PageSource::kOcr);
  EXPECT_NE(doc->pages[0].text.find("marché hebdomadaire"), std::string::npos)
      << doc->pages[0].text;
  EXPECT_NE(doc->pages[0].text.find("Article 2"), std::string::npos) << doc->pages[0].text;
  EXPECT_EQ(doc->pages[0].text.find("Page 1"), std::string::npos) << doc->pages[0].text;
  EXPECT_NE(tesseract_text.find("Page 1"), std::string::npos) << "Tesseract's text keeps it";
}

TEST(OcrTest, ScannedBodyUnderAThinTextLayerIsOcrd) {
  // A registration stamp added digitally on top of a scan: the text layer is usable but thin, and
  // most of the ink is not text-layer words.
  PdfDocumentSpec spec;
  spec.pages.emplace_back();
  absl::StatusOr<PdfImage> raster = RenderPdfPageGray(ScannedPdf(150, 10), 0, 150);
  ASSERT_TRUE(raster.ok());
  spec.pages[0].image = *raster;
  spec.pages[0].lines.push_back(
      {300, 815, 9, false, "Reçu en préfecture le 12/03/2025 - 044-2025-117"});
  absl::StatusOr<ExtractedDocument> doc = ExtractPdf(WritePdf(spec), "stamped.pdf");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->pages[0].source, index::PageSource::kOcr);
  EXPECT_NE(doc->pages[0].text.find("marché hebdomadaire"), std::string::npos)
      << doc->pages[0].text;
  // Without OCR the stamp is all there is: reported as a text layer.
  ExtractOptions no_ocr;
  no_ocr.ocr = false;
  doc = ExtractPdf(WritePdf(spec), "stamped.pdf", no_ocr);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->pages[0].source, index::PageSource::kTextLayer);
  EXPECT_EQ(doc->pages[0].text.find("marché"), std::string::npos);
}

TEST(OcrTest, BlankScanIsEmptyNotFailed) {
  PdfDocumentSpec scan;
  scan.pages.emplace_back();
  scan.pages[0].image.width = 400;
  scan.pages[0].image.height = 560;
  scan.pages[0].image.gray.assign(400 * 560, '\xFF');
  absl::StatusOr<ExtractedDocument> doc = ExtractPdf(WritePdf(scan), "blank.pdf");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->pages[0].source, index::PageSource::kEmpty);
  EXPECT_TRUE(doc->pages[0].text.empty());
}

TEST(OcrTest, BadOptionsAreRejected) {
  OcrOptions o;
  o.dpi = 5;
  EXPECT_FALSE(OcrEngine::Open(o).ok());
  o.dpi = 200;
  o.languages = "xx-not-a-language";
  absl::StatusOr<std::unique_ptr<OcrEngine>> e = OcrEngine::Open(o);
  EXPECT_FALSE(e.ok());
}

TEST(OcrTest, OcrPageLimitIsReported) {
  std::string pdf = ScannedPdf(100);
  ExtractOptions o;
  // With a limit of one page and two scanned pages, the second is reported, not lost.
  PdfDocumentSpec two;
  absl::StatusOr<PdfImage> raster = RenderPdfPageGray(pdf, 0, 100);
  ASSERT_TRUE(raster.ok());
  two.pages.resize(2);
  two.pages[0].image = *raster;
  two.pages[1].image = *raster;
  o.max_ocr_pages = 1;
  absl::StatusOr<ExtractedDocument> doc = ExtractPdf(WritePdf(two), "two.pdf", o);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->pages[0].source, index::PageSource::kOcr);
  EXPECT_EQ(doc->pages[1].source, index::PageSource::kFailed);
  EXPECT_NE(doc->pages[1].error.find("limit"), std::string::npos);
}

}  // namespace
}  // namespace greffier::ingest
