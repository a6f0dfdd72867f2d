#ifndef GREFFIER_INGEST_OCR_H_
#define GREFFIER_INGEST_OCR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tesseract {
class TessBaseAPI;
}

namespace greffier::ingest {

struct OcrOptions {
  // Tesseract languages. Default: "fra+eng" (Debian packages tesseract-ocr-fra/-eng).
  std::string languages = "fra+eng";
  // Resolution pages are rendered at before recognition. Default: 200 (on the fr-admin scans,
  // 150, 200 and 300 dpi took 1.2-1.5 s per page and agreed equally with the reference OCR;
  // 200 is safe for small print).
  int dpi = 200;
  // Directory holding the .traineddata files. Default: empty (Tesseract's own default).
  std::string tessdata_dir;
};

// One recognised word with its box in pixels (origin top-left).
struct OcrWord {
  std::string text;  // UTF-8
  int left = 0, top = 0, right = 0, bottom = 0;
  // The vertical extent of the word's text line: word boxes hug the ink, so "vu" is shorter
  // than "Vu"; the line's extent is the same for all its words.
  int line_top = 0, line_bottom = 0;
  float confidence = 0;  // 0..100
};

struct OcrResult {
  std::string text;            // UTF-8 as Tesseract returns it (not normalised)
  float confidence = 0;        // mean word confidence, 0..100
  std::vector<OcrWord> words;  // in Tesseract's reading order
};

// A Tesseract engine. Loading the language data takes a while, so an engine is kept for many pages.
// Thread-compatible: use one engine per thread.
class OcrEngine {
 public:
  static absl::StatusOr<std::unique_ptr<OcrEngine>> Open(const OcrOptions& options);
  ~OcrEngine();

  // Recognises an 8-bit grey image (`stride` bytes per row) scanned at `dpi`.
  absl::StatusOr<OcrResult> Recognize(const unsigned char* gray, int width, int height, int stride,
                                      int dpi);

  const OcrOptions& options() const { return options_; }

 private:
  explicit OcrEngine(const OcrOptions& options);
  OcrOptions options_;
  std::unique_ptr<tesseract::TessBaseAPI> api_;
};

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_OCR_H_
