#include "service/server.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "generate/native_chat_model.h"
#include "greffier/v1/audit.grpc.pb.h"
#include "greffier/v1/documents.grpc.pb.h"
#include "greffier/v1/ingest.grpc.pb.h"
#include "greffier/v1/query.grpc.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "index/audit_log.h"
#include "index/index.h"
#include "index/retriever.h"
#include "index/status_macros.h"
#include "ingest/batch.h"
#include "ingest/ingester.h"
#include "service/ask_pipeline.h"
#include "service/auth.h"
#include "service/convert.h"
#include "service/data_dir.h"
#include "service/json_writer.h"

namespace greffier::service {
namespace {

constexpr int kDefaultK = 10;
constexpr int kMaxK = 100;
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

v1::IngestOutcome OutcomeToProto(ingest::IngestOutcome o) {
  switch (o) {
    case ingest::IngestOutcome::kIngested:
      return v1::INGEST_OUTCOME_INGESTED;
    case ingest::IngestOutcome::kUnchanged:
      return v1::INGEST_OUTCOME_UNCHANGED;
    case ingest::IngestOutcome::kReplaced:
      return v1::INGEST_OUTCOME_REPLACED;
  }
  return v1::INGEST_OUTCOME_UNSPECIFIED;
}

v1::IngestOutcome BatchOutcomeToProto(ingest::BatchOutcome o) {
  switch (o) {
    case ingest::BatchOutcome::kIngested:
      return v1::INGEST_OUTCOME_INGESTED;
    case ingest::BatchOutcome::kUnchanged:
      return v1::INGEST_OUTCOME_UNCHANGED;
    case ingest::BatchOutcome::kReplaced:
      return v1::INGEST_OUTCOME_REPLACED;
    case ingest::BatchOutcome::kFailed:
      return v1::INGEST_OUTCOME_FAILED;
  }
  return v1::INGEST_OUTCOME_UNSPECIFIED;
}

void FillResponse(const ingest::IngestResult& r, v1::IngestDocumentResponse* out) {
  out->set_document_id(r.document_id);
  out->set_outcome(OutcomeToProto(r.outcome));
  out->set_title(r.title);
  out->set_page_count(static_cast<int32_t>(r.pages.size()));
  out->set_passage_count(static_cast<int32_t>(r.passage_count));
  for (size_t i = 0; i < r.pages.size(); ++i) {
    ToProto(r.pages[i], static_cast<int>(i + 1), out->add_pages());
  }
  out->set_content_hash(r.content_hash);
  out->set_replaced_document_id(r.replaced_document_id);
}

// Page tokens are the last id of the previous page, in decimal.
absl::StatusOr<uint64_t> ParsePageToken(const std::string& token) {
  if (token.empty()) return 0;
  uint64_t v = 0;
  for (char c : token) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) {
      return absl::InvalidArgumentError(absl::StrCat("bad page_token '", token, "'"));
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) return absl::InvalidArgumentError("page_size must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

struct Paging {
  int size;        // entries per page
  uint64_t after;  // last id of the previous page
};

absl::StatusOr<Paging> ParsePaging(int page_size, const std::string& page_token) {
  absl::StatusOr<int> size = PageSize(page_size);
  if (!size.ok()) return size.status();
  absl::StatusOr<uint64_t> after = ParsePageToken(page_token);
  if (!after.ok()) return after.status();
  return Paging{*size, *after};
}

}  // namespace

class Server::IngestImpl final : public v1::IngestService::Service {
 public:
  explicit IngestImpl(Server* s) : s_(s) {}

  grpc::Status IngestDocument(grpc::ServerContext* ctx, const v1::IngestDocumentRequest* req,
                              v1::IngestDocumentResponse* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    if (req->file_name().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "file_name is required");
    }
    absl::StatusOr<ingest::IngestResult> r =
        s_->ingester_->Ingest(req->content(), req->file_name(), FromProto(req->metadata()));
    if (!r.ok()) return ToGrpc(r.status());
    FillResponse(*r, resp);
    return grpc::Status::OK;
  }

  grpc::Status UploadDocument(grpc::ServerContext* ctx, grpc::ServerReader<v1::UploadChunk>* reader,
                              v1::IngestDocumentResponse* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    v1::UploadChunk chunk;
    if (!reader->Read(&chunk) || !chunk.has_header()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "the first upload message must be a header with the file name");
    }
    v1::UploadHeader header = chunk.header();
    if (header.file_name().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "file_name is required");
    }
    std::string data;
    while (reader->Read(&chunk)) {
      if (!chunk.has_data()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "only the first upload message may be a header");
      }
      if (data.size() + chunk.data().size() > s_->options_.max_document_bytes) {
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            absl::StrCat(header.file_name(), ": upload exceeds the limit of ",
                                         s_->options_.max_document_bytes, " bytes"));
      }
      data += chunk.data();
    }
    if (header.total_size() != 0 && header.total_size() != data.size()) {
      return grpc::Status(grpc::StatusCode::DATA_LOSS,
                          absl::StrCat(header.file_name(), ": received ", data.size(),
                                       " bytes but the header announced ", header.total_size()));
    }
    absl::StatusOr<ingest::IngestResult> r =
        s_->ingester_->Ingest(data, header.file_name(), FromProto(header.metadata()));
    if (!r.ok()) return ToGrpc(r.status());
    FillResponse(*r, resp);
    return grpc::Status::OK;
  }

  grpc::Status IngestPath(grpc::ServerContext* ctx, const v1::IngestPathRequest* req,
                          grpc::ServerWriter<v1::IngestProgress>* writer) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    if (!caller->admin) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "IngestPath reads the server's disk and needs an admin caller");
    }
    std::error_code ec;
    if (!std::filesystem::exists(req->path(), ec)) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("no such file or directory on the server: ", req->path()));
    }
    if (req->parallelism() < 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "parallelism must not be negative");
    }
    // Files, folders and zip/tar archives, several documents at once; a client that goes
    // away stops new documents from starting (those under way finish and are stored).
    std::atomic<bool> cancel{false};
    ingest::BatchOptions bo;
    bo.jobs = req->parallelism() > 0 ? std::min(req->parallelism(), 16) : 2;
    bo.metadata = FromProto(req->metadata());
    bo.max_file_bytes = s_->options_.max_document_bytes;
    bo.cancel = &cancel;
    bo.on_progress = [&](const ingest::BatchProgress& p) {
      if (ctx->IsCancelled()) cancel = true;
      v1::IngestProgress progress;
      progress.set_files_done(static_cast<int32_t>(p.files_done));
      progress.set_files_total(static_cast<int32_t>(p.files_total));
      progress.set_pages_done(static_cast<int64_t>(p.pages_done));
      if (p.last != nullptr) {
        auto* fr = progress.mutable_file();
        fr->set_source(p.last->source);
        fr->set_outcome(BatchOutcomeToProto(p.last->outcome));
        fr->set_document_id(p.last->document_id);
        fr->set_page_count(static_cast<int32_t>(p.last->pages.size()));
        fr->set_error(p.last->error);
      }
      if (!writer->Write(progress)) cancel = true;
    };
    ingest::BatchReport report = ingest::RunBatch(s_->ingester_.get(), {req->path()}, bo);
    if (report.cancelled && ctx->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "ingestion cancelled by the client");
    }
    v1::IngestProgress last;
    last.set_files_done(static_cast<int32_t>(report.items.size()));
    last.set_files_total(static_cast<int32_t>(report.files_total));
    last.set_pages_done(static_cast<int64_t>(report.pages));
    v1::IngestProgress::Summary* summary = last.mutable_summary();
    summary->set_ingested(static_cast<int32_t>(report.ingested));
    summary->set_unchanged(static_cast<int32_t>(report.unchanged));
    summary->set_replaced(static_cast<int32_t>(report.replaced));
    summary->set_failed(static_cast<int32_t>(report.failed));
    summary->set_pages(static_cast<int64_t>(report.pages));
    summary->set_seconds(report.seconds);
    writer->Write(last);
    return grpc::Status::OK;
  }

 private:
  Server* s_;
};

class Server::QueryImpl final : public v1::QueryService::Service {
 public:
  explicit QueryImpl(Server* s) : s_(s) {}

  grpc::Status Retrieve(grpc::ServerContext* ctx, const v1::RetrieveRequest* req,
                        v1::RetrieveResponse* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    if (req->question().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "question is empty");
    }
    if (req->k() < 0 || req->k() > kMaxK) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("k must be between 0 (default ", kDefaultK, ") and ", kMaxK));
    }
    const int k = req->k() == 0 ? kDefaultK : req->k();
    index::SearchFilter filter = FromProto(req->filters());
    filter.caller_labels = caller->labels;
    absl::StatusOr<std::vector<float>> q = s_->embedder_->Embed(req->question(), true);
    if (!q.ok()) return ToGrpc(q.status());
    index::Retriever retriever(s_->index_.get(), s_->ask_->options().retriever);
    absl::StatusOr<std::vector<index::RetrievedPassage>> hits =
        retriever.Retrieve(req->question(), *q, static_cast<size_t>(k), filter);
    if (!hits.ok()) return ToGrpc(hits.status());
    JsonWriter j;
    j.BeginObject().Int("k", k).BeginArray("passages");
    int rank = 0;
    for (const auto& hit : *hits) {
      v1::ScoredPassage* sp = resp->add_passages();
      ToProto(hit.passage, hit.document, sp->mutable_passage());
      sp->set_score(hit.score);
      sp->set_lexical_score(hit.lexical_score);
      sp->set_dense_score(hit.dense_score);
      sp->set_coverage(hit.coverage);
      sp->set_rank(++rank);
      j.BeginObject()
          .Uint("passage_id", hit.passage.id)
          .Uint("document_id", hit.document.id)
          .String("document_hash", hit.document.content_hash)
          .Double("score", hit.score)
          .EndObject();
    }
    j.EndArray().EndObject();
    index::AuditRecord record;
    record.caller = caller->identity;
    record.kind = "retrieve";
    record.question = req->question();
    record.body_json = j.str();
    absl::StatusOr<index::AuditRecord> stored = s_->index_->audit().Append(std::move(record));
    if (!stored.ok()) return ToGrpc(stored.status());
    resp->set_audit_record_id(stored->id);
    return grpc::Status::OK;
  }

  grpc::Status Ask(grpc::ServerContext* ctx, const v1::AskRequest* req,
                   grpc::ServerWriter<v1::AskEvent>* writer) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    std::atomic<bool> cancelled{false};
    absl::StatusOr<v1::FinalAnswer> final = s_->ask_->Ask(
        *req, *caller,
        [&](const v1::AskEvent& event) {
          if (ctx->IsCancelled()) {
            cancelled = true;
            return false;
          }
          return writer->Write(event);
        },
        &cancelled);
    if (!final.ok()) return ToGrpc(final.status());
    return grpc::Status::OK;
  }

 private:
  Server* s_;
};

class Server::DocumentsImpl final : public v1::DocumentService::Service {
 public:
  explicit DocumentsImpl(Server* s) : s_(s) {}

  grpc::Status GetDocument(grpc::ServerContext* ctx, const v1::GetDocumentRequest* req,
                           v1::Document* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    absl::StatusOr<index::DocumentRecord> doc = VisibleDocument(*caller, req->document_id());
    if (!doc.ok()) return ToGrpc(doc.status());
    ToProto(*doc, req->include_pages(), resp);
    return grpc::Status::OK;
  }

  grpc::Status ListDocuments(grpc::ServerContext* ctx, const v1::ListDocumentsRequest* req,
                             v1::ListDocumentsResponse* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    absl::StatusOr<Paging> paging = ParsePaging(req->page_size(), req->page_token());
    if (!paging.ok()) return ToGrpc(paging.status());
    index::SearchFilter filter = FromProto(req->filters());
    filter.caller_labels = caller->labels;
    absl::StatusOr<std::vector<index::DocumentRecord>> docs =
        s_->index_->ListDocuments(paging->after, static_cast<size_t>(paging->size) + 1, filter);
    if (!docs.ok()) return ToGrpc(docs.status());
    for (size_t i = 0; i < docs->size() && i < static_cast<size_t>(paging->size); ++i) {
      ToProto((*docs)[i], false, resp->add_documents());
    }
    if (docs->size() > static_cast<size_t>(paging->size)) {
      resp->set_next_page_token(absl::StrCat((*docs)[paging->size - 1].id));
    }
    return grpc::Status::OK;
  }

  grpc::Status DeleteDocument(grpc::ServerContext* ctx, const v1::DeleteDocumentRequest* req,
                              v1::DeleteDocumentResponse* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    absl::StatusOr<index::DocumentRecord> doc = VisibleDocument(*caller, req->document_id());
    if (!doc.ok()) return ToGrpc(doc.status());
    absl::StatusOr<size_t> n = s_->index_->DeleteDocument(req->document_id());
    if (!n.ok()) return ToGrpc(n.status());
    // The deletion is itself audited; earlier records about the document stay as they are.
    index::AuditRecord record;
    record.caller = caller->identity;
    record.kind = "delete";
    record.body_json = JsonWriter()
                           .BeginObject()
                           .Uint("document_id", doc->id)
                           .String("title", doc->title)
                           .String("source_path", doc->source_path)
                           .String("content_hash", doc->content_hash)
                           .Uint("passages_deleted", *n)
                           .EndObject()
                           .str();
    absl::StatusOr<index::AuditRecord> stored = s_->index_->audit().Append(std::move(record));
    if (!stored.ok()) return ToGrpc(stored.status());
    resp->set_passages_deleted(static_cast<int32_t>(*n));
    return grpc::Status::OK;
  }

  grpc::Status ListPassages(grpc::ServerContext* ctx, const v1::ListPassagesRequest* req,
                            v1::ListPassagesResponse* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    absl::StatusOr<index::DocumentRecord> doc = VisibleDocument(*caller, req->document_id());
    if (!doc.ok()) return ToGrpc(doc.status());
    absl::StatusOr<Paging> paging = ParsePaging(req->page_size(), req->page_token());
    if (!paging.ok()) return ToGrpc(paging.status());
    int added = 0;
    for (uint64_t pid : doc->passage_ids) {
      if (pid <= paging->after) continue;
      if (added == paging->size) {
        resp->set_next_page_token(absl::StrCat(resp->passages(added - 1).passage_id()));
        break;
      }
      absl::StatusOr<index::PassageRecord> p = s_->index_->GetPassage(pid);
      if (!p.ok()) return ToGrpc(p.status());
      ToProto(*p, *doc, resp->add_passages());
      ++added;
    }
    return grpc::Status::OK;
  }

 private:
  // NotFound both for missing documents and for documents the caller may not see, so that
  // ids do not leak the existence of restricted documents.
  absl::StatusOr<index::DocumentRecord> VisibleDocument(const Caller& caller, uint64_t id) {
    index::SearchFilter filter;
    filter.caller_labels = caller.labels;
    if (!s_->index_->DocumentVisible(id, filter)) {
      return absl::NotFoundError(absl::StrCat("document ", id, " does not exist"));
    }
    return s_->index_->GetDocument(id);
  }

  Server* s_;
};

static void ToProto(const index::AuditRecord& r, v1::AuditRecord* out) {
  out->set_record_id(r.id);
  out->set_time_unix_ms(r.time_ms);
  out->set_caller(r.caller);
  out->set_kind(r.kind);
  out->set_question(r.question);
  out->set_body_json(r.body_json);
  out->set_previous_hash(r.previous_hash);
  out->set_hash(r.hash);
}

// Auditors (admin callers) see every record; other callers see only their own, which by
// construction hold only passages they were allowed to see.
class Server::AuditImpl final : public v1::AuditService::Service {
 public:
  explicit AuditImpl(Server* s) : s_(s) {}

  grpc::Status GetAuditRecord(grpc::ServerContext* ctx, const v1::GetAuditRecordRequest* req,
                              v1::AuditRecord* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    absl::StatusOr<index::AuditRecord> r = s_->index_->audit().Get(req->record_id());
    if (!r.ok()) return ToGrpc(r.status());
    if (!caller->admin && r->caller != caller->identity) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("audit record ", req->record_id(), " does not exist"));
    }
    ToProto(*r, resp);
    return grpc::Status::OK;
  }

  grpc::Status ListAuditRecords(grpc::ServerContext* ctx, const v1::ListAuditRecordsRequest* req,
                                v1::ListAuditRecordsResponse* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    absl::StatusOr<Paging> paging = ParsePaging(req->page_size(), req->page_token());
    if (!paging.ok()) return ToGrpc(paging.status());
    std::string who = caller->admin ? req->caller() : caller->identity;
    absl::StatusOr<std::vector<index::AuditRecord>> records =
        s_->index_->audit().List(paging->after, static_cast<size_t>(paging->size) + 1, who);
    if (!records.ok()) return ToGrpc(records.status());
    for (size_t i = 0; i < records->size() && i < static_cast<size_t>(paging->size); ++i) {
      ToProto((*records)[i], resp->add_records());
    }
    if (records->size() > static_cast<size_t>(paging->size)) {
      resp->set_next_page_token(absl::StrCat((*records)[paging->size - 1].id));
    }
    return grpc::Status::OK;
  }

  grpc::Status VerifyAuditChain(grpc::ServerContext* ctx, const v1::VerifyAuditChainRequest*,
                                v1::VerifyAuditChainResponse* resp) override {
    absl::StatusOr<Caller> caller = s_->auth_->Identify(*ctx);
    if (!caller.ok()) return ToGrpc(caller.status());
    if (!caller->admin) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "verifying the whole audit chain needs an admin (auditor) caller");
    }
    absl::StatusOr<index::AuditVerification> v = s_->index_->audit().Verify();
    if (!v.ok()) return ToGrpc(v.status());
    resp->set_ok(v->ok);
    resp->set_records_checked(v->records_checked);
    resp->set_first_broken_record(v->first_broken);
    resp->set_reason(v->reason);
    return grpc::Status::OK;
  }

 private:
  Server* s_;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Open(const ServerOptions& options) {
  std::unique_ptr<Server> s(new Server());
  s->options_ = options;
  GREFFIER_ASSIGN_OR_RETURN(s->embedder_, LoadEmbedder(options.data_dir, options.embedding_model));
  GREFFIER_ASSIGN_OR_RETURN(s->auth_, Authenticator::Open(options.tokens_file));
  GREFFIER_ASSIGN_OR_RETURN(
      s->index_, OpenIndex(options.data_dir, *s->embedder_, false, options.faiss_factory));
  ingest::IngesterOptions ingest_options;
  ingest_options.index = s->index_.get();
  ingest_options.embedder = s->embedder_.get();
  ingest_options.max_file_bytes = options.max_document_bytes;
  GREFFIER_ASSIGN_OR_RETURN(s->ingester_, ingest::Ingester::Open(ingest_options));
  if (!options.model_path.empty()) {
    generate::NativeChatModelOptions mo;
    mo.path = options.model_path;
    mo.n_threads = options.model_threads;
    mo.chat_template = options.chat_template;
    GREFFIER_ASSIGN_OR_RETURN(s->model_, generate::NativeChatModel::Open(mo));
  }
  AskPipelineOptions ask_options;
  ask_options.retriever = RetrieverOptionsFor(*s->embedder_);
  if (options.min_evidence >= 0) ask_options.min_evidence = options.min_evidence;
  s->ask_ = std::make_unique<AskPipeline>(s->index_.get(), s->embedder_.get(), s->model_.get(),
                                          ask_options);

  s->ingest_service_ = std::make_unique<IngestImpl>(s.get());
  s->query_service_ = std::make_unique<QueryImpl>(s.get());
  s->documents_service_ = std::make_unique<DocumentsImpl>(s.get());
  s->audit_service_ = std::make_unique<AuditImpl>(s.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &s->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(s->ingest_service_.get());
  builder.RegisterService(s->query_service_.get());
  builder.RegisterService(s->documents_service_.get());
  builder.RegisterService(s->audit_service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, " (address in use or invalid)"));
  }
  return s;
}

Server::~Server() { Shutdown(); }

void Server::Wait() {
  if (server_ != nullptr) server_->Wait();
}

void Server::Shutdown() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
}

}  // namespace greffier::service
