#ifndef GREFFIER_INGEST_PDF_EXTRACTOR_H_
#define GREFFIER_INGEST_PDF_EXTRACTOR_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/extracted.h"
#include "ingest/layout.h"
#include "ingest/ocr.h"
#include "ingest/pdf_writer.h"

namespace greffier::ingest {

struct ExtractOptions {
  // OCR pages without a usable text layer. Default: true.
  bool ocr = true;
  // Tesseract languages and rendering resolution.
  OcrOptions ocr_options;
  // A page's text layer is usable when it holds at least this many letters or digits (and is not
  // mostly undecodable glyphs). Default: 16.
  int min_text_chars = 16;
  // A page whose text layer is shorter than this many code points is checked for ink that no word
  // explains (a scanned body under a stamp or a registration number); when that ink covers more
  // than `min_ink_outside_text` of the page, the page is OCR'd too. Defaults: 300 and 0.03
  // (signatures on a born-digital page cover 1-2.5%, typed scans 2-20%, measured at 24 dpi).
  size_t thin_text_chars = 300;
  double min_ink_outside_text = 0.03;
  // At most this many pages are OCR'd per document; further image-only pages are reported as failed
  // ("OCR page limit"). Default: 0 (no limit).
  int max_ocr_pages = 0;
  // Ask Poppler for each word's font (text_list_include_font) instead of deriving sizes from the
  // box heights. The layout needs sizes only relative to each other, which the heights give; font
  // information costs about 45% more time in Poppler (measured on the fr-admin corpus: 1.48 s
  // instead of 1.03 s for 640 pages). Default: false.
  bool font_info = false;
  // Lay out OCR'd pages from the recognised word boxes with ComposePages (running headers and
  // footers dropped across scans too) instead of keeping Tesseract's own text. Off by
  // default: on the fr-admin scans Tesseract's order agrees better with the reference OCR
  // (0.92 against 0.85 on a three-column street list; equal on running text). Default: false.
  bool ocr_layout = false;
  // Reading order, running lines, hyphenation, table cells.
  TextLayoutOptions layout;
};

// Extracts the text of every page of a PDF: Poppler word boxes put in reading order by ComposePages
// (columns, running headers/footers dropped, hyphenation repaired, table rows), OCR for pages
// without a usable text layer. An encrypted PDF opens when the empty password works, otherwise
// fails with "password required". `name` is used in error messages. Thread-safe (Poppler documents
// and OCR engines are per call or per thread).
absl::StatusOr<ExtractedDocument> ExtractPdf(std::string_view bytes, const std::string& name,
                                             const ExtractOptions& options);
absl::StatusOr<ExtractedDocument> ExtractPdf(std::string_view bytes, const std::string& name);

// Renders page `page_index` (0-based) of a PDF to an 8-bit grey raster at `dpi`.
absl::StatusOr<PdfImage> RenderPdfPageGray(std::string_view bytes, int page_index, int dpi);

// Whether a text layer carries enough readable text to skip OCR.
bool UsableTextLayer(std::string_view text, int min_chars);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_PDF_EXTRACTOR_H_
