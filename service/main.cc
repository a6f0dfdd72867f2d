// The greffier binary: server, clients and tools behind one command.

#include <cstdio>
#include <cstring>
#include <string>

#include "service/commands.h"
#include "service/generate_commands.h"

namespace {

const char kUsage[] =
    "greffier — grounded, cited, audited answers over administrative archives\n"
    "\n"
    "usage: greffier COMMAND [ARGS]\n"
    "  serve --data DIR [--listen HOST:PORT] [--tokens FILE]   run the gRPC server\n"
    "        [--model FILE.gguf] [--threads N]                 (answers by the model)\n"
    "  client COMMAND ...                                      talk to a running server\n"
    "                                                          (greffier client --help)\n"
    "  ingest --data DIR PATH...                               ingest files, folders, zip/tar\n"
    "  make-samples DIR                                        write the sample archive PDFs\n"
    "  generate --model FILE.gguf --prompt TEXT [--chat]       run the native LLM decoder\n"
    "  make-model --shape S --type T --out FILE.gguf           write a random-weight model\n"
    "  reembed --data DIR [--embedder lsa|hashing|gguf:FILE]   re-embed every passage\n"
    "  audit verify|export|replay --data DIR ...               check and read the audit log\n"
    "  eval retrieval|answers --corpus F --queries F --qrels F measure on a BEIR data set\n"
    "  version                                                 print the version\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 || std::strcmp(argv[1], "--help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  if (cmd == "serve") return greffier::service::RunServeCommand(argc, argv);
  if (cmd == "client") return greffier::service::RunClientCommand(argc, argv);
  if (cmd == "make-samples") return greffier::service::RunMakeSamplesCommand(argc, argv);
  // These two take argv with the subcommand name first.
  if (cmd == "generate") return greffier::service::RunGenerateCommand(argc - 1, argv + 1);
  if (cmd == "make-model") return greffier::service::RunMakeModelCommand(argc - 1, argv + 1);
  if (cmd == "ingest") return greffier::service::RunIngestCommand(argc, argv);
  if (cmd == "reembed") return greffier::service::RunReembedCommand(argc, argv);
  if (cmd == "audit") return greffier::service::RunAuditCommand(argc, argv);
  if (cmd == "eval") return greffier::service::RunEvalCommand(argc, argv);
  if (cmd == "version" || cmd == "--version") {
    std::printf("greffier 0.1.0\n");
    return 0;
  }
  std::fprintf(stderr, "greffier: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
