#ifndef GREFFIER_INGEST_PDF_WRITER_H_
#define GREFFIER_INGEST_PDF_WRITER_H_

#include <string>
#include <vector>

namespace greffier::ingest {

// One line of text placed on a page (PDF points, origin bottom-left).
struct PdfTextLine {
  double x = 72;
  double y = 770;
  double font_size = 11;
  bool bold = false;
  std::string text;  // UTF-8; characters outside Windows-1252 become '?'
};

// An 8-bit grey raster drawn over the whole page (a scanned page without text layer).
struct PdfImage {
  int width = 0;     // pixels; 0: no image
  int height = 0;    // pixels
  std::string gray;  // width * height bytes, rows top to bottom
};

struct PdfPageSpec {
  std::vector<PdfTextLine> lines;
  PdfImage image;  // drawn before the lines
};

struct PdfDocumentSpec {
  std::string title;   // the Info dictionary's Title
  std::string author;  // the Info dictionary's Author
  std::vector<PdfPageSpec> pages;
};

// Writes a PDF (A4, Helvetica with WinAnsiEncoding, one content stream per page, optional
// uncompressed grey image per page, a correct xref table). Used for the bundled sample
// archive and test fixtures.
std::string WritePdf(const PdfDocumentSpec& spec);

// A block of flowing text for LayoutDocument.
struct PdfBlock {
  enum Kind { kTitle, kHeading, kParagraph, kSpacer };
  Kind kind = kParagraph;
  std::string text;
};

struct LayoutOptions {
  // Running header printed at the top of every page. Default: none.
  std::string header;
  // Footer text; "{page}" and "{pages}" are replaced. Default: "Page {page}/{pages}".
  std::string footer = "Page {page}/{pages}";
  // Body font size in points. Default: 11.
  double font_size = 11;
};

// Flows blocks onto A4 pages with word wrap, headers and footers.
PdfDocumentSpec LayoutDocument(const std::string& title, const std::vector<PdfBlock>& blocks,
                               const LayoutOptions& options = {});

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_PDF_WRITER_H_
