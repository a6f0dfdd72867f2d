// Maintenance commands that work on a data directory: re-embedding and the audit log.

#include <cstdio>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "generate/native_chat_model.h"
#include "index/audit_log.h"
#include "service/ask_pipeline.h"
#include "service/cli_args.h"
#include "service/commands.h"
#include "service/data_dir.h"
#include "service/json_writer.h"

namespace greffier::service {
namespace {

int Usage(const char* text) {
  std::fputs(text, stderr);
  return 2;
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "greffier %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

const char kAuditUsage[] =
    "usage: greffier audit verify --data DIR\n"
    "       greffier audit export --data DIR [--out FILE] [--caller NAME]\n"
    "       greffier audit replay --data DIR [--model FILE.gguf] RECORD_ID\n"
    "Works beside a running server (the data directory is opened read-only).\n";

}  // namespace

int RunReembedCommand(int argc, char** argv) {
  absl::StatusOr<CliArgs> args = ParseArgs(argc, argv, 2, {"data", "embedder"}, {});
  const char kUsage[] =
      "usage: greffier reembed --data DIR [--embedder lsa|hashing|gguf:FILE.gguf]\n"
      "Re-embeds every passage (the server must be stopped). lsa (default) trains a latent\n"
      "semantic model on the archive's own passages; hashing needs no training; gguf:FILE\n"
      "runs a GGUF embedding model (BERT/MiniLM/bge, XLM-RoBERTa/e5/bge-m3) natively and\n"
      "records its path in DIR, so that serve, eval and audit use it from then on.\n";
  if (!args.ok() || args->Get("data").empty()) return Usage(kUsage);
  absl::StatusOr<EmbedderSpec> spec = ParseEmbedderSpec(args->Get("embedder", "lsa"));
  if (!spec.ok()) {
    std::fprintf(stderr, "greffier reembed: %s\n", std::string(spec.status().message()).c_str());
    return Usage(kUsage);
  }
  const std::string dir = args->Get("data");
  // Open with whatever the directory uses now, then switch.
  index::IndexOptions o;
  o.path = dir;
  o.any_embedder = true;
  absl::StatusOr<std::unique_ptr<index::Index>> index = index::Index::Open(o);
  if (!index.ok() && absl::IsFailedPrecondition(index.status()) &&
      index.status().message().find("interrupted re-embedding") != std::string::npos) {
    std::fprintf(stderr, "reembed: resuming an interrupted re-embedding\n");
  }
  if (!index.ok()) return Fail("reembed", index.status());
  absl::StatusOr<std::unique_ptr<generate::Embedder>> e = Reembed(**index, dir, *spec);
  if (!e.ok()) return Fail("reembed", e.status());
  std::printf("%s: %llu passages now embedded with %s\n", dir.c_str(),
              static_cast<unsigned long long>((*index)->Stats().vectors), (*e)->Identity().c_str());
  return 0;
}

int RunAuditCommand(int argc, char** argv) {
  absl::StatusOr<CliArgs> args =
      ParseArgs(argc, argv, 2, {"data", "out", "caller", "model", "threads"}, {});
  if (!args.ok() || args->positionals.empty() || args->Get("data").empty()) {
    return Usage(kAuditUsage);
  }
  const std::string dir = args->Get("data");
  const std::string& cmd = args->positionals[0];
  absl::StatusOr<std::unique_ptr<generate::Embedder>> embedder = LoadEmbedder(dir);
  if (!embedder.ok()) return Fail("audit", embedder.status());
  absl::StatusOr<std::unique_ptr<index::Index>> index =
      OpenIndex(dir, **embedder, /*read_only=*/true);
  if (!index.ok()) return Fail("audit", index.status());
  index::AuditLog& log = (*index)->audit();

  if (cmd == "verify") {
    absl::StatusOr<index::AuditVerification> v = log.Verify();
    if (!v.ok()) return Fail("audit verify", v.status());
    if (v->ok) {
      std::printf("audit chain intact: %llu records verified\n",
                  static_cast<unsigned long long>(v->records_checked));
      return 0;
    }
    std::printf("audit chain BROKEN at record %llu: %s (%llu records before it verified)\n",
                static_cast<unsigned long long>(v->first_broken), v->reason.c_str(),
                static_cast<unsigned long long>(v->records_checked));
    return 1;
  }
  if (cmd == "export") {
    std::FILE* out = stdout;
    if (args->Has("out")) {
      out = std::fopen(args->Get("out").c_str(), "w");
      if (out == nullptr) {
        std::fprintf(stderr, "greffier audit export: cannot write %s\n", args->Get("out").c_str());
        return 1;
      }
    }
    // First line: what the file is; then one record per line.
    std::fprintf(out, "{\"format\":\"greffier-audit-export\",\"version\":1,\"data\":\"%s\"}\n",
                 dir.c_str());
    uint64_t after = 0, n = 0;
    for (;;) {
      absl::StatusOr<std::vector<index::AuditRecord>> page =
          log.List(after, 1000, args->Get("caller"));
      if (!page.ok()) return Fail("audit export", page.status());
      if (page->empty()) break;
      for (const auto& r : *page) {
        after = r.id;
        JsonWriter j;
        j.BeginObject()
            .Uint("id", r.id)
            .Int("time_ms", r.time_ms)
            .String("caller", r.caller)
            .String("kind", r.kind)
            .String("question", r.question)
            .String("previous_hash", r.previous_hash)
            .String("hash", r.hash)
            .Key("body");
        std::string line = j.str() + r.body_json + "}";
        std::fprintf(out, "%s\n", line.c_str());
        ++n;
      }
    }
    if (out != stdout) std::fclose(out);
    std::fprintf(stderr, "exported %llu audit records\n", static_cast<unsigned long long>(n));
    return 0;
  }
  if (cmd == "replay") {
    uint64_t id = 0;
    if (args->positionals.size() != 2 || !absl::SimpleAtoi(args->positionals[1], &id)) {
      return Usage(kAuditUsage);
    }
    absl::StatusOr<index::AuditRecord> r = log.Get(id);
    if (!r.ok()) return Fail("audit replay", r.status());
    // Records answered by a model replay with the same model file.
    std::unique_ptr<generate::NativeChatModel> model;
    if (args->Has("model")) {
      generate::NativeChatModelOptions mo;
      mo.path = args->Get("model");
      absl::StatusOr<int> threads = args->GetInt("threads", 0);
      mo.n_threads = threads.ok() ? *threads : 0;
      absl::StatusOr<std::unique_ptr<generate::NativeChatModel>> opened =
          generate::NativeChatModel::Open(mo);
      if (!opened.ok()) return Fail("audit replay", opened.status());
      model = std::move(*opened);
    }
    AskPipelineOptions options;
    options.retriever = RetrieverOptionsFor(**embedder);
    AskPipeline pipeline(index->get(), embedder->get(), model.get(), options);
    absl::StatusOr<AskPipeline::ReplayResult> replay = pipeline.ReplayRecord(*r);
    if (!replay.ok()) return Fail("audit replay", replay.status());
    std::printf("question: %s\nrecorded: %s\nreplayed: %s\n%s\n", r->question.c_str(),
                replay->recorded.c_str(), replay->replayed.c_str(),
                replay->match ? "MATCH: the replayed answer is byte-for-byte the recorded one"
                              : "MISMATCH: the index or the answerer changed since the record");
    const bool same = replay->match;
    return same ? 0 : 1;
  }
  return Usage(kAuditUsage);
}

}  // namespace greffier::service
