#include "ingest/pdf_extractor.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "ingest/text_normalize.h"
#include "poppler/cpp/poppler-document.h"
#include "poppler/cpp/poppler-global.h"
#include "poppler/cpp/poppler-image.h"
#include "poppler/cpp/poppler-page-renderer.h"
#include "poppler/cpp/poppler-page.h"

namespace greffier::ingest {
namespace {

void SilencePoppler() {
  static std::once_flag once;
  std::call_once(
      once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

std::string ToUtf8(const poppler::ustring& s) {
  poppler::byte_array bytes = s.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

LayoutPage ReadWords(const poppler::page& page, bool font_info) {
  LayoutPage lp;
  poppler::rectf box = page.page_rect(poppler::media_box);
  lp.width = box.width();
  lp.height = box.height();
  // The page's own /Rotate turns the whole page: text_list boxes are in the rotated frame.
  if (page.orientation() == poppler::page::landscape ||
      page.orientation() == poppler::page::seascape) {
    std::swap(lp.width, lp.height);
  }
  std::vector<poppler::text_box> boxes =
      page.text_list(font_info ? poppler::page::text_list_include_font : 0);
  lp.words.reserve(boxes.size());
  for (const poppler::text_box& b : boxes) {
    LayoutWord w;
    w.text = ToUtf8(b.text());
    if (w.text.empty()) continue;
    poppler::rectf r = b.bbox();
    w.x0 = r.left();
    w.y0 = r.top();
    w.x1 = r.right();
    w.y1 = r.bottom();
    w.font_size = font_info && b.has_font_info() ? b.get_font_size() : 0;
    w.space_after = b.has_space_after();
    w.rotation = b.rotation();
    lp.words.push_back(std::move(w));
  }
  return lp;
}

// The OCR engine of this thread, reused across documents while the options match.
absl::StatusOr<OcrEngine*> ThreadOcrEngine(const OcrOptions& o) {
  thread_local std::unique_ptr<OcrEngine> engine;
  if (engine == nullptr || engine->options().languages != o.languages ||
      engine->options().tessdata_dir != o.tessdata_dir) {
    engine.reset();
    absl::StatusOr<std::unique_ptr<OcrEngine>> e = OcrEngine::Open(o);
    if (!e.ok()) return e.status();
    engine = std::move(*e);
  }
  return engine.get();
}

// The resolution to render `page` at: `dpi`, lowered for oversized pages so that the
// raster stays under 64 megapixels (a 200-inch page would otherwise need gigabytes).
int CappedDpi(const poppler::page& page, int dpi) {
  constexpr double kMaxPixels = 64e6;
  poppler::rectf box = page.page_rect(poppler::media_box);
  const double inches2 = std::fabs(box.width() * box.height()) / (72.0 * 72.0);
  if (!std::isfinite(inches2) || inches2 <= 0) return dpi;
  const double cap = std::sqrt(kMaxPixels / inches2);
  return std::max(1, std::min(dpi, static_cast<int>(cap)));
}

// OCRs one page into `out`; `words` receives the recognised words in points (the frame of
// the text layer's word boxes) for the layout analysis.
void OcrPage(const poppler::page& page, const ExtractOptions& o, ExtractedPage* out,
             std::vector<LayoutWord>* words) {
  absl::StatusOr<OcrEngine*> engine = ThreadOcrEngine(o.ocr_options);
  if (!engine.ok()) {
    out->source = index::PageSource::kFailed;
    out->error = std::string(engine.status().message());
    return;
  }
  poppler::page_renderer renderer;
  renderer.set_image_format(poppler::image::format_gray8);
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  const int dpi = CappedDpi(page, o.ocr_options.dpi);
  poppler::image img = renderer.render_page(&page, dpi, dpi);
  if (!img.is_valid() || img.width() <= 0 || img.height() <= 0) {
    out->source = index::PageSource::kFailed;
    out->error = "page could not be rendered for OCR";
    return;
  }
  absl::StatusOr<OcrResult> r =
      (*engine)->Recognize(reinterpret_cast<const unsigned char*>(img.const_data()), img.width(),
                           img.height(), img.bytes_per_row(), dpi);
  if (!r.ok()) {
    out->source = index::PageSource::kFailed;
    out->error = std::string(r.status().message());
    return;
  }
  out->text = NormalizeText(r->text);
  out->ocr_confidence = r->confidence;
  // Words take their line's vertical extent, and one size for the page: recognised boxes say
  // nothing reliable about font sizes, and the layout must not see a size change at every line.
  const double scale = 72.0 / dpi;
  std::vector<double> heights;
  for (const OcrWord& ow : r->words) heights.push_back((ow.line_bottom - ow.line_top) * scale);
  double size = 0;
  if (!heights.empty()) {
    std::nth_element(heights.begin(), heights.begin() + heights.size() / 2, heights.end());
    size = heights[heights.size() / 2];
  }
  for (const OcrWord& ow : r->words) {
    if (ow.text.find_first_not_of(" \t\n") == std::string::npos) continue;
    LayoutWord w;
    w.text = ow.text;
    w.x0 = ow.left * scale;
    w.y0 = ow.line_top * scale;
    w.x1 = ow.right * scale;
    w.y1 = ow.line_bottom * scale;
    w.font_size = size;
    words->push_back(std::move(w));
  }
  out->source = UsableTextLayer(out->text, 1) ? index::PageSource::kOcr : index::PageSource::kEmpty;
  if (out->source == index::PageSource::kEmpty) out->text.clear();
}

// Share of the page covered by ink that no word box explains: a scanned body under a thin text
// layer (a stamp, a registration number added by the sender).
double InkOutsideText(const poppler::page& page, const LayoutPage& words) {
  const double dpi = CappedDpi(page, 24);
  poppler::page_renderer renderer;
  renderer.set_image_format(poppler::image::format_gray8);
  poppler::image img = renderer.render_page(&page, dpi, dpi);
  if (!img.is_valid() || img.width() <= 0 || img.height() <= 0) return 0;
  const int w = img.width(), h = img.height();
  std::vector<bool> covered(static_cast<size_t>(w) * h, false);
  const double scale = dpi / 72.0;
  for (const LayoutWord& word : words.words) {
    if (!std::isfinite(word.x0) || !std::isfinite(word.x1) || !std::isfinite(word.y0) ||
        !std::isfinite(word.y1)) {
      continue;
    }
    const int x0 = std::max(0, static_cast<int>(std::min(word.x0, word.x1) * scale) - 1);
    const int x1 = std::min(w - 1, static_cast<int>(std::max(word.x0, word.x1) * scale) + 1);
    const int y0 = std::max(0, static_cast<int>(std::min(word.y0, word.y1) * scale) - 1);
    const int y1 = std::min(h - 1, static_cast<int>(std::max(word.y0, word.y1) * scale) + 1);
    for (int y = y0; y <= y1; ++y) {
      for (int x = x0; x <= x1; ++x) covered[static_cast<size_t>(y) * w + x] = true;
    }
  }
  size_t ink = 0;
  for (int y = 0; y < h; ++y) {
    const unsigned char* row = reinterpret_cast<const unsigned char*>(img.const_data()) +
                               static_cast<size_t>(y) * img.bytes_per_row();
    for (int x = 0; x < w; ++x) ink += row[x] < 160 && !covered[static_cast<size_t>(y) * w + x];
  }
  return static_cast<double>(ink) / (static_cast<double>(w) * h);
}

}  // namespace

bool UsableTextLayer(std::string_view text, int min_chars) {
  int good = 0, bad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c)) {
      ++good;
    } else if (c >= 0xC0) {
      // U+FFFD (EF BF BD) marks glyphs without a Unicode mapping.
      if (c == 0xEF && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xBF &&
          static_cast<unsigned char>(text[i + 2]) == 0xBD) {
        ++bad;
      } else {
        ++good;
      }
    }
  }
  return good >= min_chars && bad * 3 < good;
}

absl::StatusOr<PdfImage> RenderPdfPageGray(std::string_view bytes, int page_index, int dpi) {
  SilencePoppler();
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::ResourceExhaustedError("PDF larger than 2 GiB");
  }
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (doc == nullptr || doc->is_locked()) return absl::InvalidArgumentError("unreadable PDF");
  if (page_index < 0 || page_index >= doc->pages()) {
    return absl::OutOfRangeError(absl::StrCat("no page ", page_index + 1));
  }
  std::unique_ptr<poppler::page> page(doc->create_page(page_index));
  if (page == nullptr) return absl::InvalidArgumentError("page could not be parsed");
  poppler::page_renderer renderer;
  renderer.set_image_format(poppler::image::format_gray8);
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  poppler::image img = renderer.render_page(page.get(), dpi, dpi);
  if (!img.is_valid()) return absl::InternalError("page could not be rendered");
  PdfImage out;
  out.width = img.width();
  out.height = img.height();
  out.gray.reserve(static_cast<size_t>(out.width) * out.height);
  for (int y = 0; y < out.height; ++y) {
    out.gray.append(img.const_data() + static_cast<size_t>(y) * img.bytes_per_row(), out.width);
  }
  return out;
}

absl::StatusOr<ExtractedDocument> ExtractPdf(std::string_view bytes, const std::string& name) {
  return ExtractPdf(bytes, name, ExtractOptions());
}

absl::StatusOr<ExtractedDocument> ExtractPdf(std::string_view bytes, const std::string& name,
                                             const ExtractOptions& options) {
  SilencePoppler();
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::ResourceExhaustedError(absl::StrCat(name, ": PDF larger than 2 GiB"));
  }
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (doc == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": not a readable PDF (damaged or truncated file)"));
  }
  if (doc->is_locked()) {
    return absl::PermissionDeniedError(
        absl::StrCat(name, ": password required (the PDF is encrypted)"));
  }
  ExtractedDocument out;
  out.mime_type = "application/pdf";
  out.title = NormalizeText(ToUtf8(doc->info_key("Title")));
  const int n = doc->pages();
  if (n <= 0) return absl::InvalidArgumentError(absl::StrCat(name, ": the PDF has no pages"));

  std::vector<std::unique_ptr<poppler::page>> pages(n);
  std::vector<LayoutPage> layout(n);
  for (int i = 0; i < n; ++i) {
    pages[i].reset(doc->create_page(i));
    if (pages[i] != nullptr) layout[i] = ReadWords(*pages[i], options.font_info);
  }
  // Running headers and footers are found across pages, so the pages are composed together.
  std::vector<std::string> texts = ComposePages(layout, options.layout);

  out.pages.resize(n);
  int ocr_done = 0;
  std::vector<std::vector<LayoutWord>> ocr_words(n);
  for (int i = 0; i < n; ++i) {
    ExtractedPage& page = out.pages[i];
    if (pages[i] == nullptr) {
      page.source = index::PageSource::kFailed;
      page.error = "page could not be parsed";
      continue;
    }
    page.text = NormalizeText(texts[i]);
    const bool usable = UsableTextLayer(page.text, options.min_text_chars);
    if (usable && !(options.ocr && CodePointCount(page.text) < options.thin_text_chars &&
                    InkOutsideText(*pages[i], layout[i]) > options.min_ink_outside_text)) {
      page.source = index::PageSource::kTextLayer;
      continue;
    }
    if (!options.ocr) {
      page.source = page.text.empty() ? index::PageSource::kEmpty : index::PageSource::kTextLayer;
      continue;
    }
    if (options.max_ocr_pages > 0 && ocr_done >= options.max_ocr_pages) {
      if (usable) {
        page.source = index::PageSource::kTextLayer;
        continue;
      }
      page.source = index::PageSource::kFailed;
      page.error = absl::StrCat("not OCR'd: limit of ", options.max_ocr_pages,
                                " OCR pages per document reached");
      continue;
    }
    std::string layer = std::move(page.text);
    page.text.clear();
    OcrPage(*pages[i], options, &page, &ocr_words[i]);
    ++ocr_done;
    // A sparse text layer (a stamp, a page number) is kept when OCR finds nothing better.
    if (!layer.empty() && (page.source != index::PageSource::kOcr ||
                           CodePointCount(page.text) < CodePointCount(layer))) {
      page.text = std::move(layer);
      page.source = index::PageSource::kTextLayer;
      page.ocr_confidence = 0;
      page.error.clear();
    }
  }
  // With ocr_layout, OCR'd pages go through the same layout analysis as text layers, from the
  // recognised word boxes: columns, running headers and footers, hyphenation.
  bool recompose = false;
  for (int i = 0; i < n; ++i) {
    if (options.ocr_layout && out.pages[i].source == index::PageSource::kOcr &&
        !ocr_words[i].empty()) {
      layout[i].words = std::move(ocr_words[i]);
      recompose = true;
    }
  }
  if (recompose) {
    texts = ComposePages(layout, options.layout);
    for (int i = 0; i < n; ++i) {
      ExtractedPage& page = out.pages[i];
      if (page.source != index::PageSource::kOcr && page.source != index::PageSource::kTextLayer) {
        continue;
      }
      std::string text = NormalizeText(texts[i]);
      if (UsableTextLayer(text, 1)) page.text = std::move(text);
    }
  }
  return out;
}

}  // namespace greffier::ingest
