#ifndef GREFFIER_SERVICE_ASK_PIPELINE_H_
#define GREFFIER_SERVICE_ASK_PIPELINE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "generate/chat_model.h"
#include "generate/embedder.h"
#include "generate/extractive_answerer.h"
#include "greffier/v1/query.pb.h"
#include "index/audit_log.h"
#include "index/index.h"
#include "index/retriever.h"
#include "service/auth.h"

namespace greffier::service {

struct AskPipelineOptions {
  // Passages retrieved when the request says 0. Default: 6.
  int default_k = 6;
  // Refuse when the evidence (FinalAnswer.evidence: the geometric mean of the best passage's
  // coverage of the question and the probability that its best sentence answers) is below
  // this. Default: 0.12, the highest that keeps PIAF answers at 75% with the archive's LSA
  // embedder: it refuses 2.4% of answerable questions and 52% of off-topic ones (0.16: 6.8%
  // and 73%; see the issue note); a wrong answer costs more than a refusal, a lost answer too.
  double min_evidence = 0.12;
  // Drop answer sentences whose citations do not support them. Default: true.
  bool drop_unsupported = true;
  // Retrieval settings (fusion, per-document cap).
  index::RetrieverOptions retriever;
  // The built-in answerer's settings (no model file).
  generate::ExtractiveOptions extractive;
  // Default sampling for the model path.
  generate::SamplingParams sampling;
  // Receives the exact prompt text fed to the model (tests, debugging). Default: none.
  std::function<void(const std::string&)> on_prompt;
  // Called with the passages as given to the answerer (tests and `eval answers
  // --dump-features`). Default: none.
  std::function<void(const std::vector<generate::ShownPassage>&)> on_shown;
  // Append an audit record per question. Only offline evaluation turns this off.
  // Default: true.
  bool audit = true;
};

// Question -> retrieval (caller's filters and labels) -> passages event -> answer (model, or
// the built-in extractive answerer) streamed as deltas -> citation verification ->
// audit record (synced) -> final event. Thread-safe.
class AskPipeline {
 public:
  // `model` may be null: answers are then extractive. Pointers are not owned.
  AskPipeline(index::Index* index, const generate::Embedder* embedder,
              const generate::ChatModel* model, const AskPipelineOptions& options);

  // Runs one question; `emit` sends an event to the client and returns false when the
  // client has gone (the pipeline then stops early, still auditing what was shown).
  // Returns the final event as sent.
  absl::StatusOr<v1::FinalAnswer> Ask(const v1::AskRequest& request, const Caller& caller,
                                      const std::function<bool(const v1::AskEvent&)>& emit,
                                      const std::atomic<bool>* cancelled) const;

  // Runs a recorded question again without auditing or streaming and returns the answer
  // text.
  absl::StatusOr<std::string> Replay(const v1::AskRequest& request,
                                     const std::vector<std::string>& caller_labels) const;

  struct ReplayResult {
    std::string recorded;
    std::string replayed;
    bool match = false;
  };
  // Replays an "ask" audit record with the request, caller labels and sampling it holds.
  // FailedPrecondition when the record was answered by another answerer than this
  // pipeline's (another model file).
  absl::StatusOr<ReplayResult> ReplayRecord(const index::AuditRecord& record) const;

  const AskPipelineOptions& options() const { return options_; }

 private:
  struct Run;
  absl::Status Answer(Run& run, const std::function<bool(const v1::AskEvent&)>& emit,
                      const std::atomic<bool>* cancelled) const;

  index::Index* index_;
  const generate::Embedder* embedder_;
  const generate::ChatModel* model_;
  AskPipelineOptions options_;
};

// The refusal sentence in the question's language ("fr" or "en").
std::string RefusalText(const std::string& language);

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_ASK_PIPELINE_H_
