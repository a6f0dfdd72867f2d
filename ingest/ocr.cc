#include "ingest/ocr.h"

#include <dlfcn.h>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace greffier::ingest {
namespace {

// Tesseract's OpenMP loops ask for a fixed number of threads; on a loaded machine their
// spin-waiting makes recognition ten times slower (measured: 12 s instead of 1.2 s per page on 2
// busy cores). Dynamic adjustment lets libgomp use fewer threads when the load is high. It is a
// per-thread setting, looked up at run time because libgomp is only an indirect dependency (through
// libtesseract).
void LetOpenMpAdaptToLoad() {
  thread_local bool done = false;
  if (done) return;
  done = true;
  using SetDynamic = void (*)(int);
  if (void* f = dlsym(RTLD_DEFAULT, "omp_set_dynamic")) reinterpret_cast<SetDynamic>(f)(1);
}

}  // namespace

OcrEngine::OcrEngine(const OcrOptions& options)
    : options_(options), api_(std::make_unique<tesseract::TessBaseAPI>()) {}

OcrEngine::~OcrEngine() {
  if (api_ != nullptr) api_->End();
}

absl::StatusOr<std::unique_ptr<OcrEngine>> OcrEngine::Open(const OcrOptions& options) {
  if (options.dpi < 50 || options.dpi > 600) {
    return absl::InvalidArgumentError(
        absl::StrCat("OCR resolution must be within 50..600 dpi, not ", options.dpi));
  }
  std::unique_ptr<OcrEngine> e(new OcrEngine(options));
  const char* datapath = options.tessdata_dir.empty() ? nullptr : options.tessdata_dir.c_str();
  if (e->api_->Init(datapath, options.languages.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load Tesseract language data '", options.languages,
                     "' (install tesseract-ocr-fra and tesseract-ocr-eng)"));
  }
  e->api_->SetPageSegMode(tesseract::PSM_AUTO);
  // Tesseract otherwise prints diagnostics on stderr for every page.
  e->api_->SetVariable("debug_file", "/dev/null");
  return e;
}

absl::StatusOr<OcrResult> OcrEngine::Recognize(const unsigned char* gray, int width, int height,
                                               int stride, int dpi) {
  if (gray == nullptr || width <= 0 || height <= 0 || stride < width) {
    return absl::InvalidArgumentError("OCR: empty or malformed page image");
  }
  LetOpenMpAdaptToLoad();
  api_->SetImage(gray, width, height, 1, stride);
  api_->SetSourceResolution(dpi);
  std::unique_ptr<char[]> text(api_->GetUTF8Text());
  if (text == nullptr) {
    api_->Clear();
    return absl::InternalError("OCR: Tesseract could not recognise the page");
  }
  OcrResult r;
  r.text = text.get();
  r.confidence = static_cast<float>(std::max(0, api_->MeanTextConf()));
  std::unique_ptr<tesseract::ResultIterator> it(api_->GetIterator());
  if (it != nullptr) {
    do {
      std::unique_ptr<char[]> word(it->GetUTF8Text(tesseract::RIL_WORD));
      if (word == nullptr || word[0] == '\0') continue;
      OcrWord w;
      w.text = word.get();
      if (!it->BoundingBox(tesseract::RIL_WORD, &w.left, &w.top, &w.right, &w.bottom)) continue;
      int l, r2;
      if (!it->BoundingBox(tesseract::RIL_TEXTLINE, &l, &w.line_top, &r2, &w.line_bottom)) {
        w.line_top = w.top;
        w.line_bottom = w.bottom;
      }
      w.confidence = it->Confidence(tesseract::RIL_WORD);
      r.words.push_back(std::move(w));
    } while (it->Next(tesseract::RIL_WORD));
  }
  api_->Clear();
  return r;
}

}  // namespace greffier::ingest
