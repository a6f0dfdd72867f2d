#ifndef GREFFIER_SERVICE_SERVER_H_
#define GREFFIER_SERVICE_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class Server;
}

namespace greffier::generate {
class ChatModel;
class Embedder;
}  // namespace greffier::generate
namespace greffier::index {
class Index;
}
namespace greffier::ingest {
class Ingester;
}

namespace greffier::service {

class AskPipeline;
class Authenticator;

struct ServerOptions {
  // Data directory (RocksDB + FAISS snapshot). Default: none (required).
  std::string data_dir;
  // Address to listen on; port 0 picks a free port. Default: "127.0.0.1:50051".
  std::string listen = "127.0.0.1:50051";
  // Bearer tokens file (see Authenticator); empty: anonymous access. Default: "".
  std::string tokens_file;
  // Largest gRPC message accepted, which bounds unary uploads. Default: 64 MiB.
  int max_message_bytes = 64 << 20;
  // Largest document accepted by any upload path. Default: 512 MiB.
  uint64_t max_document_bytes = 512ull << 20;
  // FAISS index: "auto" (exact below 100k vectors, then IVF trained for the corpus) or a
  // factory string such as "Flat", "HNSW32", "IVF4096,PQ32". Default: "auto".
  std::string faiss_factory = "auto";
  // GGUF chat model that writes the answers; empty: the built-in extractive answerer.
  // Default: "".
  std::string model_path;
  // Decoder threads per answer; 0: one per core. Default: 0.
  int model_threads = 0;
  // Chat template override by name (llama2, mistral, llama3, chatml ...). Default: "".
  std::string chat_template;
  // GGUF embedding model; empty: the data directory's own embedder (see LoadEmbedder).
  // Default: "".
  std::string embedding_model;
  // Refusal threshold on retrieval evidence; negative keeps the pipeline's default.
  // Default: -1.
  double min_evidence = -1;
};

// The greffier gRPC server: ingest, query, documents, audit, health and reflection.
// Thread-safe: gRPC calls run concurrently on its thread pool.
class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Open(const ServerOptions& options);
  ~Server();
  // Port actually bound (useful with port 0).
  int port() const { return port_; }
  void Wait();
  void Shutdown();

 private:
  Server() = default;
  class IngestImpl;
  class QueryImpl;
  class DocumentsImpl;
  class AuditImpl;

  ServerOptions options_;
  std::unique_ptr<generate::Embedder> embedder_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<ingest::Ingester> ingester_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<generate::ChatModel> model_;
  std::unique_ptr<AskPipeline> ask_;
  std::unique_ptr<IngestImpl> ingest_service_;
  std::unique_ptr<QueryImpl> query_service_;
  std::unique_ptr<DocumentsImpl> documents_service_;
  std::unique_ptr<AuditImpl> audit_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_SERVER_H_
