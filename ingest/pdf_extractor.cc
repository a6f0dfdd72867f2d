#include "ingest/pdf_extractor.h"

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "ingest/text_normalize.h"
#include "poppler/cpp/poppler-document.h"
#include "poppler/cpp/poppler-global.h"
#include "poppler/cpp/poppler-page.h"

namespace greffier::ingest {
namespace {

void SilencePoppler() {
  static std::once_flag once;
  std::call_once(once, [] {
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  });
}

std::string ToUtf8(const poppler::ustring& s) {
  poppler::byte_array bytes = s.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

absl::StatusOr<ExtractedDocument> ExtractPdf(std::string_view bytes, const std::string& name) {
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
  out.pages.reserve(n);
  for (int i = 0; i < n; ++i) {
    ExtractedPage page;
    std::unique_ptr<poppler::page> p(doc->create_page(i));
    if (p == nullptr) {
      page.source = index::PageSource::kFailed;
      page.error = "page could not be parsed";
    } else {
      page.text = NormalizeText(
          ToUtf8(p->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)));
      page.source = page.text.empty() ? index::PageSource::kEmpty : index::PageSource::kTextLayer;
    }
    out.pages.push_back(std::move(page));
  }
  return out;
}

}  // namespace greffier::ingest
