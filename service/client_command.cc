#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "greffier/v1/documents.grpc.pb.h"
#include "greffier/v1/ingest.grpc.pb.h"
#include "greffier/v1/query.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/credentials.h"
#include "service/cli_args.h"
#include "service/commands.h"
#include "service/health_client.h"

namespace greffier::service {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

const char kUsage[] =
    "usage: greffier client COMMAND [--server HOST:PORT] [--token TOKEN] ...\n"
    "  ingest FILE... [--collection C] [--type T] [--date YYYY-MM-DD] [--labels a,b]\n"
    "  ask QUESTION [--k N] [--collection C] [--type T] [--language fr|en]\n"
    "      [--min-evidence X] (refusal threshold 0..1; default: the server's)\n"
    "  retrieve QUESTION [--k N] [--collection C] [--type T] [--json]\n"
    "  documents [--page-size N]\n"
    "  passages DOCUMENT_ID\n"
    "  delete DOCUMENT_ID\n"
    "  health [--timeout-ms N]\n"
    "The server defaults to $GREFFIER_SERVER or 127.0.0.1:50051; the token to $GREFFIER_TOKEN.\n";

void AddAuth(const CliArgs& args, grpc::ClientContext* ctx) {
  std::string token = args.Get("token");
  if (token.empty() && std::getenv("GREFFIER_TOKEN") != nullptr) {
    token = std::getenv("GREFFIER_TOKEN");
  }
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

int Fail(const grpc::Status& s, const std::string& what) {
  std::fprintf(stderr, "greffier client: %s failed: %s (%d)\n", what.c_str(),
               s.error_message().c_str(), static_cast<int>(s.error_code()));
  return 1;
}

const char* OutcomeName(v1::IngestOutcome o) {
  switch (o) {
    case v1::INGEST_OUTCOME_INGESTED:
      return "ingested";
    case v1::INGEST_OUTCOME_UNCHANGED:
      return "unchanged";
    case v1::INGEST_OUTCOME_REPLACED:
      return "replaced";
    case v1::INGEST_OUTCOME_FAILED:
      return "failed";
    default:
      return "?";
  }
}

std::string PageSpan(const v1::Passage& p) {
  return p.page_start() == p.page_end() ? absl::StrCat("p. ", p.page_start())
                                        : absl::StrCat("pp. ", p.page_start(), "-", p.page_end());
}

int Ingest(const CliArgs& args, const std::shared_ptr<grpc::Channel>& channel) {
  if (args.positionals.size() < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto stub = v1::IngestService::NewStub(channel);
  v1::DocumentMetadata meta;
  meta.set_collection(args.Get("collection"));
  meta.set_document_type(args.Get("type"));
  meta.set_date(args.Get("date"));
  for (auto l : absl::StrSplit(args.Get("labels"), ',', absl::SkipEmpty())) {
    meta.add_access_labels(std::string(l));
  }
  int failures = 0;
  for (size_t i = 1; i < args.positionals.size(); ++i) {
    const std::string& path = args.positionals[i];
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: cannot read file\n", path.c_str());
      ++failures;
      continue;
    }
    grpc::ClientContext ctx;
    AddAuth(args, &ctx);
    v1::IngestDocumentResponse resp;
    std::unique_ptr<grpc::ClientWriter<v1::UploadChunk>> writer(stub->UploadDocument(&ctx, &resp));
    v1::UploadChunk header;
    header.mutable_header()->set_file_name(path.substr(path.find_last_of('/') + 1));
    *header.mutable_header()->mutable_metadata() = meta;
    bool ok = writer->Write(header);
    std::string buf(kChunkBytes, '\0');
    while (ok && in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      if (in.gcount() <= 0) break;
      v1::UploadChunk chunk;
      chunk.set_data(buf.data(), static_cast<size_t>(in.gcount()));
      ok = writer->Write(chunk);
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), s.error_message().c_str());
      ++failures;
      continue;
    }
    int text_pages = 0;
    for (const auto& p : resp.pages()) text_pages += p.source() == v1::PAGE_SOURCE_TEXT_LAYER;
    std::printf("%-9s doc %llu  %d pages (%d with text)  %d passages  %s\n",
                OutcomeName(resp.outcome()), static_cast<unsigned long long>(resp.document_id()),
                resp.page_count(), text_pages, resp.passage_count(), resp.title().c_str());
  }
  return failures == 0 ? 0 : 1;
}

int Retrieve(const CliArgs& args, const std::shared_ptr<grpc::Channel>& channel) {
  if (args.positionals.size() != 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  absl::StatusOr<int> k = args.GetInt("k", 5);
  if (!k.ok()) {
    std::fprintf(stderr, "%s\n", std::string(k.status().message()).c_str());
    return 2;
  }
  auto stub = v1::QueryService::NewStub(channel);
  grpc::ClientContext ctx;
  AddAuth(args, &ctx);
  v1::RetrieveRequest req;
  req.set_question(args.positionals[1]);
  req.set_k(*k);
  if (args.Has("collection")) req.mutable_filters()->add_collections(args.Get("collection"));
  if (args.Has("type")) req.mutable_filters()->add_document_types(args.Get("type"));
  v1::RetrieveResponse resp;
  grpc::Status s = stub->Retrieve(&ctx, req, &resp);
  if (!s.ok()) return Fail(s, "retrieve");
  if (args.Has("json")) {
    for (const auto& sp : resp.passages()) {
      std::printf(
          "{\"rank\":%d,\"score\":%.4f,\"document_id\":%llu,\"passage_id\":%llu,"
          "\"page_start\":%d,\"page_end\":%d}\n",
          sp.rank(), sp.score(), static_cast<unsigned long long>(sp.passage().document_id()),
          static_cast<unsigned long long>(sp.passage().passage_id()), sp.passage().page_start(),
          sp.passage().page_end());
    }
    return 0;
  }
  std::printf("Q: %s\n", req.question().c_str());
  if (resp.passages().empty()) std::printf("   (no passage found)\n");
  for (const auto& sp : resp.passages()) {
    const v1::Passage& p = sp.passage();
    std::string text = p.text();
    for (char& c : text) {
      if (c == '\n') c = ' ';
    }
    if (text.size() > 240) {
      size_t cut = 240;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
      text = text.substr(0, cut) + "…";
    }
    std::string section = absl::StrJoin(p.section_path(), " > ");
    std::printf("  [%d] %.3f  %s — %s%s%s\n      %s\n", sp.rank(), sp.score(),
                p.document_title().c_str(), PageSpan(p).c_str(), section.empty() ? "" : ", ",
                section.c_str(), text.c_str());
  }
  return 0;
}

int Ask(const CliArgs& args, const std::shared_ptr<grpc::Channel>& channel) {
  if (args.positionals.size() != 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  absl::StatusOr<int> k = args.GetInt("k", 0);
  if (!k.ok()) return 2;
  auto stub = v1::QueryService::NewStub(channel);
  grpc::ClientContext ctx;
  AddAuth(args, &ctx);
  v1::AskRequest req;
  req.set_question(args.positionals[1]);
  req.set_k(*k);
  req.set_language(args.Get("language"));
  if (args.Has("min-evidence")) {
    absl::StatusOr<double> threshold = args.GetDouble("min-evidence", 0);
    if (!threshold.ok()) {
      std::fprintf(stderr, "greffier client: --min-evidence wants a number, not '%s'\n",
                   args.Get("min-evidence").c_str());
      return 2;
    }
    req.set_min_evidence(*threshold);
  }
  if (args.Has("collection")) req.mutable_filters()->add_collections(args.Get("collection"));
  if (args.Has("type")) req.mutable_filters()->add_document_types(args.Get("type"));
  std::unique_ptr<grpc::ClientReader<v1::AskEvent>> reader(stub->Ask(&ctx, req));
  std::printf("Q: %s\nA: ", req.question().c_str());
  std::fflush(stdout);
  v1::AskEvent event;
  v1::FinalAnswer final;
  std::map<int, v1::Passage> shown;
  while (reader->Read(&event)) {
    if (event.has_passages()) {
      for (const auto& p : event.passages().passages()) shown[p.number()] = p.passage().passage();
    } else if (event.has_delta()) {
      std::printf("%s", event.delta().text().c_str());
      std::fflush(stdout);
    } else if (event.has_final()) {
      final = event.final();
    }
  }
  grpc::Status s = reader->Finish();
  std::printf("\n");
  if (!s.ok()) return Fail(s, "ask");
  if (final.refused()) {
    std::printf("   (refused: %s)\n", final.refusal_reason().c_str());
  } else {
    std::printf("   (evidence %.2f, threshold %.2f)\n", final.evidence(), final.min_evidence());
  }
  std::set<int> printed;
  for (const auto& c : final.citations()) {
    if (!printed.insert(c.number()).second) continue;
    const v1::Passage& p = shown[c.number()];
    std::string section = absl::StrJoin(p.section_path(), " > ");
    std::printf("   [%d] %s — %s%s%s\n", c.number(), c.document_title().c_str(),
                PageSpan(p).c_str(), section.empty() ? "" : ", ", section.c_str());
  }
  std::printf("   (answered by %s; audit record %llu)\n", final.answerer().c_str(),
              static_cast<unsigned long long>(final.audit_record_id()));
  return 0;
}

int Documents(const CliArgs& args, const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::DocumentService::NewStub(channel);
  absl::StatusOr<int> page_size = args.GetInt("page-size", 100);
  if (!page_size.ok()) return 2;
  std::string token;
  do {
    grpc::ClientContext ctx;
    AddAuth(args, &ctx);
    v1::ListDocumentsRequest req;
    req.set_page_size(*page_size);
    req.set_page_token(token);
    v1::ListDocumentsResponse resp;
    grpc::Status s = stub->ListDocuments(&ctx, req, &resp);
    if (!s.ok()) return Fail(s, "list documents");
    for (const auto& d : resp.documents()) {
      std::printf("%6llu  %3d pages  %4d passages  %-12s %-10s %s\n",
                  static_cast<unsigned long long>(d.document_id()), d.page_count(),
                  d.passage_count(), d.metadata().document_type().c_str(),
                  d.metadata().date().c_str(), d.title().c_str());
    }
    token = resp.next_page_token();
  } while (!token.empty());
  return 0;
}

absl::StatusOr<uint64_t> DocumentId(const CliArgs& args) {
  uint64_t id = 0;
  if (args.positionals.size() != 2 || !absl::SimpleAtoi(args.positionals[1], &id)) {
    return absl::InvalidArgumentError("expected one numeric DOCUMENT_ID");
  }
  return id;
}

int Passages(const CliArgs& args, const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<uint64_t> id = DocumentId(args);
  if (!id.ok()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto stub = v1::DocumentService::NewStub(channel);
  std::string token;
  do {
    grpc::ClientContext ctx;
    AddAuth(args, &ctx);
    v1::ListPassagesRequest req;
    req.set_document_id(*id);
    req.set_page_token(token);
    v1::ListPassagesResponse resp;
    grpc::Status s = stub->ListPassages(&ctx, req, &resp);
    if (!s.ok()) return Fail(s, "list passages");
    for (const auto& p : resp.passages()) {
      std::printf("--- passage %llu, %s [%d..%d] %s\n%s\n",
                  static_cast<unsigned long long>(p.passage_id()), PageSpan(p).c_str(),
                  p.char_start(), p.char_end(), absl::StrJoin(p.section_path(), " > ").c_str(),
                  p.text().c_str());
    }
    token = resp.next_page_token();
  } while (!token.empty());
  return 0;
}

int Delete(const CliArgs& args, const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<uint64_t> id = DocumentId(args);
  if (!id.ok()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto stub = v1::DocumentService::NewStub(channel);
  grpc::ClientContext ctx;
  AddAuth(args, &ctx);
  v1::DeleteDocumentRequest req;
  req.set_document_id(*id);
  v1::DeleteDocumentResponse resp;
  grpc::Status s = stub->DeleteDocument(&ctx, req, &resp);
  if (!s.ok()) return Fail(s, "delete");
  std::printf("deleted document %llu (%d passages)\n", static_cast<unsigned long long>(*id),
              resp.passages_deleted());
  return 0;
}

}  // namespace

int RunClientCommand(int argc, char** argv) {
  absl::StatusOr<CliArgs> args =
      ParseArgs(argc, argv, 2,
                {"server", "token", "collection", "type", "date", "labels", "k", "page-size",
                 "language", "timeout-ms", "min-evidence"},
                {"json"});
  if (!args.ok()) {
    std::fprintf(stderr, "greffier client: %s\n%s", std::string(args.status().message()).c_str(),
                 kUsage);
    return 2;
  }
  if (args->positionals.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string server = args->Get("server");
  if (server.empty()) {
    server = std::getenv("GREFFIER_SERVER") != nullptr ? std::getenv("GREFFIER_SERVER")
                                                       : "127.0.0.1:50051";
  }
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(64 << 20);
  auto channel =
      grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), channel_args);
  const std::string& cmd = args->positionals[0];
  if (cmd == "ingest") return Ingest(*args, channel);
  if (cmd == "retrieve") return Retrieve(*args, channel);
  if (cmd == "ask") return Ask(*args, channel);
  if (cmd == "documents") return Documents(*args, channel);
  if (cmd == "passages") return Passages(*args, channel);
  if (cmd == "delete") return Delete(*args, channel);
  if (cmd == "health") {
    absl::StatusOr<int> timeout_ms = args->GetInt("timeout-ms", 2000);
    if (!timeout_ms.ok()) return 2;
    absl::StatusOr<bool> serving = CheckHealth(channel, "", std::chrono::milliseconds(*timeout_ms));
    if (!serving.ok()) {
      std::printf("UNREACHABLE (%s)\n", std::string(serving.status().message()).c_str());
      return 1;
    }
    std::printf("%s\n", *serving ? "SERVING" : "NOT_SERVING");
    return *serving ? 0 : 1;
  }
  std::fprintf(stderr, "greffier client: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace greffier::service
