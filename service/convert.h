#ifndef GREFFIER_SERVICE_CONVERT_H_
#define GREFFIER_SERVICE_CONVERT_H_

// Conversions between the wire types (greffier.v1) and our internal types, and between
// absl::Status and grpc::Status. Protobuf types stay inside service/.

#include "absl/status/status.h"
#include "greffier/v1/common.pb.h"
#include "greffier/v1/documents.pb.h"
#include "grpcpp/support/status.h"
#include "index/index.h"
#include "index/records.h"
#include "ingest/ingester.h"

namespace greffier::service {

grpc::Status ToGrpc(const absl::Status& status);

ingest::IngestMetadata FromProto(const v1::DocumentMetadata& meta);
index::SearchFilter FromProto(const v1::Filters& filters);
void ToProto(const index::PageInfo& page, int page_number, v1::PageReport* out);
void ToProto(const index::DocumentRecord& doc, bool include_pages, v1::Document* out);
void ToProto(const index::PassageRecord& passage, const index::DocumentRecord& doc,
             v1::Passage* out);

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_CONVERT_H_
