#include "ingest/ingester.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "index/hash.h"
#include "index/status_macros.h"
#include "ingest/metadata_detect.h"
#include "ingest/pdf_extractor.h"
#include "ingest/sniff.h"
#include "ingest/text_normalize.h"

namespace greffier::ingest {
namespace {

std::string FirstLine(const std::vector<ExtractedPage>& pages) {
  for (const auto& p : pages) {
    size_t pos = 0;
    while (pos < p.text.size()) {
      size_t end = p.text.find('\n', pos);
      if (end == std::string::npos) end = p.text.size();
      std::string line = p.text.substr(pos, end - pos);
      size_t first = line.find_first_not_of(" #");
      if (first != std::string::npos && CodePointCount(line) >= 4) {
        line = line.substr(first);
        return line.size() > 200 ? line.substr(0, 200) : line;
      }
      pos = end + 1;
    }
  }
  return "";
}

index::DocumentRecord MakeRecord(const ExtractedDocument& doc, const IngestMetadata& meta,
                                 const std::string& source, const std::string& hash, size_t size) {
  index::DocumentRecord r;
  r.source_path = source;
  r.content_hash = hash;
  r.mime_type = doc.mime_type;
  // Given metadata wins over what the text says, which wins over the file's Info title.
  const DetectedMetadata found = DetectMetadata(doc.pages);
  r.title = !meta.title.empty()    ? meta.title
            : !found.title.empty() ? found.title
            : !doc.title.empty()   ? doc.title
                                   : FirstLine(doc.pages);
  if (r.title.empty()) r.title = std::filesystem::path(source).filename().string();
  r.collection = meta.collection;
  r.document_type = !meta.document_type.empty() ? meta.document_type : found.document_type;
  r.date = !meta.date.empty() ? meta.date : found.date;
  r.access_labels = meta.access_labels;
  r.extra = meta.extra;
  auto has_extra = [&](const std::string& key) {
    for (const auto& [k, v] : r.extra) {
      if (k == key) return true;
    }
    return false;
  };
  if (!found.nor.empty() && !has_extra("nor")) r.extra.emplace_back("nor", found.nor);
  if (!found.references.empty() && !has_extra("references")) {
    r.extra.emplace_back("references", absl::StrJoin(found.references, "; "));
  }
  for (const auto& p : doc.pages) {
    r.pages.push_back(index::PageInfo{p.source, static_cast<uint32_t>(CodePointCount(p.text)),
                                      p.ocr_confidence, p.error});
  }
  r.size_bytes = size;
  return r;
}

}  // namespace

std::string EmbeddingText(const std::string& title, const std::vector<std::string>& section,
                          const std::string& text) {
  return absl::StrCat(title, "\n", absl::StrJoin(section, " > "), "\n", text);
}

Ingester::Ingester(const IngesterOptions& options) : options_(options) {
  if (options_.sandbox) parsers_ = NewPdfParserPool(options_.extract, options_.sandbox_limits);
}

absl::StatusOr<std::unique_ptr<Ingester>> Ingester::Open(const IngesterOptions& options) {
  if (options.index == nullptr || options.embedder == nullptr) {
    return absl::InvalidArgumentError("ingester: index and embedder are required");
  }
  return std::unique_ptr<Ingester>(new Ingester(options));
}

absl::StatusOr<IngestResult> Ingester::Ingest(std::string_view bytes,
                                              const std::string& source_path,
                                              const IngestMetadata& metadata) {
  if (bytes.size() > options_.max_file_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(source_path, ": file of ", bytes.size(),
                                                     " bytes exceeds the limit of ",
                                                     options_.max_file_bytes, " bytes"));
  }
  IngestResult result;
  result.content_hash = index::Sha256Hex(bytes);
  GREFFIER_ASSIGN_OR_RETURN(std::optional<uint64_t> same,
                            options_.index->FindByContentHash(result.content_hash));
  if (same.has_value()) {
    GREFFIER_ASSIGN_OR_RETURN(index::DocumentRecord doc, options_.index->GetDocument(*same));
    result.document_id = doc.id;
    result.outcome = IngestOutcome::kUnchanged;
    result.title = doc.title;
    result.pages = doc.pages;
    result.passage_count = doc.passage_ids.size();
    return result;
  }

  ContentType type = SniffContent(bytes, source_path);
  ExtractedDocument extracted;
  switch (type) {
    case ContentType::kPdf: {
      GREFFIER_ASSIGN_OR_RETURN(
          extracted, parsers_ != nullptr ? ExtractPdfInPool(parsers_.get(), bytes, source_path)
                                         : ExtractPdf(bytes, source_path, options_.extract));
      break;
    }
    case ContentType::kText:
    case ContentType::kMarkdown: {
      extracted.mime_type = MimeType(type);
      ExtractedPage page;
      page.text = NormalizeText(bytes);
      page.source = page.text.empty() ? index::PageSource::kEmpty : index::PageSource::kTextLayer;
      extracted.pages.push_back(std::move(page));
      break;
    }
    case ContentType::kUnsupported:
      return absl::InvalidArgumentError(absl::StrCat(source_path, ": unsupported type (",
                                                     DescribeUnsupported(bytes),
                                                     "); greffier ingests PDF, text and Markdown"));
  }

  index::DocumentRecord record =
      MakeRecord(extracted, metadata, source_path, result.content_hash, bytes.size());
  std::vector<index::PassageRecord> passages =
      SplitIntoPassages(extracted.pages, options_.splitter);
  std::vector<std::vector<float>> vectors;
  vectors.reserve(passages.size());
  for (const auto& p : passages) {
    GREFFIER_ASSIGN_OR_RETURN(
        std::vector<float> v,
        options_.embedder->Embed(EmbeddingText(record.title, p.section_path, p.text), false));
    vectors.push_back(std::move(v));
  }

  std::lock_guard lock(write_mu_);
  // Checked again under the lock: another upload of the same bytes may have won the race.
  GREFFIER_ASSIGN_OR_RETURN(same, options_.index->FindByContentHash(result.content_hash));
  if (same.has_value()) {
    result.document_id = *same;
    result.outcome = IngestOutcome::kUnchanged;
    result.title = record.title;
    result.pages = record.pages;
    result.passage_count = passages.size();
    return result;
  }
  GREFFIER_ASSIGN_OR_RETURN(std::optional<uint64_t> previous,
                            options_.index->FindBySource(source_path));
  result.title = record.title;
  result.pages = record.pages;
  result.passage_count = passages.size();
  GREFFIER_ASSIGN_OR_RETURN(
      index::Index::AddResult added,
      options_.index->AddDocument(std::move(record), std::move(passages), vectors, previous));
  result.document_id = added.document_id;
  if (previous.has_value()) {
    result.outcome = IngestOutcome::kReplaced;
    result.replaced_document_id = *previous;
  }
  return result;
}

}  // namespace greffier::ingest
