#ifndef GREFFIER_SERVICE_COMMANDS_H_
#define GREFFIER_SERVICE_COMMANDS_H_

// Subcommands of the `greffier` binary. Each takes the full argv with argv[1] being the
// subcommand name, prints to stdout/stderr and returns the process exit code.

namespace greffier::service {

int RunServeCommand(int argc, char** argv);
int RunMakeSamplesCommand(int argc, char** argv);
// `greffier client <ingest|retrieve|documents|passages|delete|health> ...`
int RunClientCommand(int argc, char** argv);
// `greffier ingest --data DIR PATH...`: batch ingestion into a data directory.
int RunIngestCommand(int argc, char** argv);
// `greffier reembed --data DIR [--embedder lsa|hashing|gguf:FILE.gguf]`
int RunReembedCommand(int argc, char** argv);
// `greffier audit verify|export|replay --data DIR ...`
int RunAuditCommand(int argc, char** argv);
// `greffier eval retrieval|answers ...`
int RunEvalCommand(int argc, char** argv);

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_COMMANDS_H_
