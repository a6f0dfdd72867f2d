#include <csignal>
#include <cstdio>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ingest/sample_archive.h"
#include "service/cli_args.h"
#include "service/commands.h"
#include "service/server.h"

namespace greffier::service {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

int RunServeCommand(int argc, char** argv) {
  absl::StatusOr<CliArgs> args =
      ParseArgs(argc, argv, 2,
                {"data", "listen", "tokens", "faiss", "max-document-mb", "model", "threads",
                 "template", "min-evidence", "embedding-model"},
                {});
  if (!args.ok()) {
    std::fprintf(stderr, "greffier serve: %s\n", std::string(args.status().message()).c_str());
    return 2;
  }
  ServerOptions options;
  options.data_dir = args->Get("data");
  if (options.data_dir.empty()) {
    std::fprintf(stderr,
                 "usage: greffier serve --data DIR [--listen HOST:PORT] [--tokens FILE]\n"
                 "         [--model FILE.gguf] [--threads N] [--template NAME]\n"
                 "         [--min-evidence X] [--faiss FACTORY] [--max-document-mb N]\n"
                 "         [--embedding-model FILE.gguf]\n"
                 "--embedding-model: the GGUF embedding model to embed questions and uploads\n"
                 "with (default: the one `greffier reembed --embedder gguf:FILE` recorded in\n"
                 "DIR, else DIR's LSA model, else feature hashing); the index must have been\n"
                 "embedded with it.\n");
    return 2;
  }
  options.listen = args->Get("listen", options.listen);
  options.tokens_file = args->Get("tokens");
  options.faiss_factory = args->Get("faiss", options.faiss_factory);
  absl::StatusOr<int> max_mb = args->GetInt("max-document-mb", 512);
  if (!max_mb.ok() || *max_mb <= 0) {
    std::fprintf(stderr, "greffier serve: --max-document-mb must be a positive integer\n");
    return 2;
  }
  options.max_document_bytes = static_cast<uint64_t>(*max_mb) << 20;
  options.model_path = args->Get("model");
  options.embedding_model = args->Get("embedding-model");
  options.chat_template = args->Get("template");
  absl::StatusOr<int> threads = args->GetInt("threads", 0);
  if (!threads.ok() || *threads < 0) {
    std::fprintf(stderr, "greffier serve: --threads must be a non-negative integer\n");
    return 2;
  }
  options.model_threads = *threads;
  if (args->Has("min-evidence")) {
    const std::string text = args->Get("min-evidence");
    absl::StatusOr<double> threshold = args->GetDouble("min-evidence", 0);
    if (!threshold.ok() || !(*threshold >= 0 && *threshold <= 1)) {
      std::fprintf(stderr,
                   "greffier serve: --min-evidence must be a number from 0 to 1, not '%s'\n",
                   text.c_str());
      return 2;
    }
    options.min_evidence = *threshold;
  }
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Open(options);
  if (!server.ok()) {
    std::fprintf(stderr, "greffier serve: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::printf("greffier serving %s on port %d (data: %s, answers: %s)\n", options.listen.c_str(),
              (*server)->port(), options.data_dir.c_str(),
              options.model_path.empty() ? "extractive" : options.model_path.c_str());
  std::fflush(stdout);
  std::thread waiter([&] { (*server)->Wait(); });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::printf("greffier: shutting down\n");
  (*server)->Shutdown();
  waiter.join();
  server->reset();  // closes the index, writing the vector snapshot
  return 0;
}

int RunMakeSamplesCommand(int argc, char** argv) {
  // "--help" is a request for usage, not a folder to write into.
  if (argc != 3 || std::string_view(argv[2]).starts_with("-")) {
    std::fprintf(stderr,
                 "usage: greffier make-samples DIR\n"
                 "Writes the sample archive (PDFs and questions.txt) into DIR.\n");
    return argc == 3 && (std::string_view(argv[2]) == "--help" || std::string_view(argv[2]) == "-h")
               ? 0
               : 2;
  }
  absl::StatusOr<std::vector<std::string>> paths = ingest::WriteSampleArchive(argv[2]);
  if (!paths.ok()) {
    std::fprintf(stderr, "greffier make-samples: %s\n", paths.status().ToString().c_str());
    return 1;
  }
  for (const auto& p : *paths) std::printf("%s\n", p.c_str());
  return 0;
}

}  // namespace greffier::service
