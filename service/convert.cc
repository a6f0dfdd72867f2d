#include "service/convert.h"

#include <string>

namespace greffier::service {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  switch (s.code()) {
    case absl::StatusCode::kCancelled:
      code = grpc::StatusCode::CANCELLED;
      break;
    case absl::StatusCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case absl::StatusCode::kDeadlineExceeded:
      code = grpc::StatusCode::DEADLINE_EXCEEDED;
      break;
    case absl::StatusCode::kNotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case absl::StatusCode::kAlreadyExists:
      code = grpc::StatusCode::ALREADY_EXISTS;
      break;
    case absl::StatusCode::kPermissionDenied:
      code = grpc::StatusCode::PERMISSION_DENIED;
      break;
    case absl::StatusCode::kResourceExhausted:
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      break;
    case absl::StatusCode::kFailedPrecondition:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case absl::StatusCode::kAborted:
      code = grpc::StatusCode::ABORTED;
      break;
    case absl::StatusCode::kOutOfRange:
      code = grpc::StatusCode::OUT_OF_RANGE;
      break;
    case absl::StatusCode::kUnimplemented:
      code = grpc::StatusCode::UNIMPLEMENTED;
      break;
    case absl::StatusCode::kInternal:
      code = grpc::StatusCode::INTERNAL;
      break;
    case absl::StatusCode::kUnavailable:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case absl::StatusCode::kDataLoss:
      code = grpc::StatusCode::DATA_LOSS;
      break;
    case absl::StatusCode::kUnauthenticated:
      code = grpc::StatusCode::UNAUTHENTICATED;
      break;
    default:
      break;
  }
  return grpc::Status(code, std::string(s.message()));
}

ingest::IngestMetadata FromProto(const v1::DocumentMetadata& m) {
  ingest::IngestMetadata out;
  out.title = m.title();
  out.collection = m.collection();
  out.document_type = m.document_type();
  out.date = m.date();
  out.access_labels.assign(m.access_labels().begin(), m.access_labels().end());
  for (const auto& [k, v] : m.extra()) out.extra.emplace_back(k, v);
  std::sort(out.extra.begin(), out.extra.end());
  return out;
}

index::SearchFilter FromProto(const v1::Filters& f) {
  index::SearchFilter out;
  out.collections.assign(f.collections().begin(), f.collections().end());
  out.document_types.assign(f.document_types().begin(), f.document_types().end());
  out.date_from = f.date_from();
  out.date_to = f.date_to();
  for (const auto& [k, v] : f.metadata()) out.metadata.emplace_back(k, v);
  out.document_ids.assign(f.document_ids().begin(), f.document_ids().end());
  return out;
}

void ToProto(const index::PageInfo& page, int page_number, v1::PageReport* out) {
  out->set_page(page_number);
  out->set_source(static_cast<v1::PageSource>(static_cast<int>(page.source)));
  out->set_char_count(static_cast<int32_t>(page.char_count));
  out->set_ocr_confidence(page.ocr_confidence);
  out->set_error(page.error);
}

void ToProto(const index::DocumentRecord& doc, bool include_pages, v1::Document* out) {
  out->set_document_id(doc.id);
  out->set_title(doc.title);
  out->set_source_path(doc.source_path);
  out->set_content_hash(doc.content_hash);
  out->set_mime_type(doc.mime_type);
  v1::DocumentMetadata* m = out->mutable_metadata();
  m->set_title(doc.title);
  m->set_collection(doc.collection);
  m->set_document_type(doc.document_type);
  m->set_date(doc.date);
  for (const auto& l : doc.access_labels) m->add_access_labels(l);
  for (const auto& [k, v] : doc.extra) (*m->mutable_extra())[k] = v;
  out->set_page_count(static_cast<int32_t>(doc.pages.size()));
  out->set_passage_count(static_cast<int32_t>(doc.passage_ids.size()));
  if (include_pages) {
    for (size_t i = 0; i < doc.pages.size(); ++i) {
      ToProto(doc.pages[i], static_cast<int>(i + 1), out->add_pages());
    }
  }
  out->set_ingested_at_unix_ms(doc.ingested_at_ms);
  out->set_size_bytes(doc.size_bytes);
}

void ToProto(const index::PassageRecord& p, const index::DocumentRecord& doc, v1::Passage* out) {
  out->set_passage_id(p.id);
  out->set_document_id(p.document_id);
  out->set_document_title(doc.title);
  out->set_page_start(static_cast<int32_t>(p.page_start));
  out->set_page_end(static_cast<int32_t>(p.page_end));
  for (const auto& s : p.section_path) out->add_section_path(s);
  out->set_char_start(static_cast<int32_t>(p.char_start));
  out->set_char_end(static_cast<int32_t>(p.char_end));
  out->set_text(p.text);
  out->set_document_type(doc.document_type);
  out->set_document_date(doc.date);
  out->set_collection(doc.collection);
}

}  // namespace greffier::service
