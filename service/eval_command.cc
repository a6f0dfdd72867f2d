// `greffier eval`: measures retrieval and grounded answers on BEIR-style data sets, through
// the same ingestion, index and Ask pipeline the server uses.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "generate/extractive_answerer.h"
#include "generate/hashing_embedder.h"
#include "generate/native_chat_model.h"
#include "index/beir.h"
#include "index/retriever.h"
#include "ingest/ingester.h"
#include "service/ask_pipeline.h"
#include "service/cli_args.h"
#include "service/commands.h"
#include "service/data_dir.h"

namespace greffier::service {
namespace {

using Clock = std::chrono::steady_clock;

const char kUsage[] =
    "usage: greffier eval retrieval|answers --corpus corpus.jsonl --queries queries.jsonl\n"
    "                     --qrels qrels.tsv [--fields title_text|text]\n"
    "                     [--embedder lsa|hashing|gguf:FILE.gguf]\n"
    "                     [--max-queries N] [--data DIR] [--min-evidence X]\n"
    "                     [--unanswerable other-queries.jsonl]\n"
    "answers tuning: [--k N] [--keep-ratio X] [--max-sentences N] [--show-misses N]\n"
    "                [--model FILE.gguf [--max-tokens N]] (answers by the decoder)\n"
    "                [--dump-features FILE] (sentence features and labels, for\n"
    "                tests/bench/answer_ranker_bench)\n"
    "retrieval: Recall@1/5/10/20, MRR@10, nDCG@10 and latency for BM25, dense and hybrid.\n"
    "answers:   share of questions whose cited spans contain an expected answer (queries\n"
    "           need an \"answers\" list), refusals, and Ask latency.\n"
    "The corpus is ingested through the normal pipeline into DIR (default: a scratch\n"
    "directory, removed afterwards). --fields text keeps titles out of the index.\n";

// The strings of the top-level "answers" array of a JSON-lines record.
std::vector<std::string> AnswersOf(const std::string& line) {
  std::vector<std::string> out;
  size_t pos = line.find("\"answers\"");
  if (pos == std::string::npos) return out;
  pos = line.find('[', pos);
  if (pos == std::string::npos) return out;
  size_t i = pos + 1;
  while (i < line.size() && line[i] != ']') {
    if (line[i] != '"') {
      ++i;
      continue;
    }
    std::string s;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        char n = line[++i];
        if (n == 'u' && i + 4 < line.size()) {
          unsigned cp = static_cast<unsigned>(std::stoul(line.substr(i + 1, 4), nullptr, 16));
          i += 4;
          if (cp < 0x80) {
            s.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
        } else {
          s.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n);
        }
      } else {
        s.push_back(line[i]);
      }
    }
    ++i;
    out.push_back(std::move(s));
  }
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Collapses whitespace so that answers match across line breaks.
std::string Collapse(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

// Text compared the way extractive QA evaluations compare answers (SQuAD's normalisation):
// case, accents, punctuation and articles ignored, whole words only, so that "L’Ouganda"
// matches "l'Ouganda" and "14" does not match "1450".
std::string MatchForm(const std::string& text) {
  static const std::set<std::string> kArticles = {"le",  "la",  "les", "l", "un",
                                                  "une", "des", "the", "a", "an"};
  std::string out = " ";
  for (const auto& w : generate::FoldWords(text)) {
    if (kArticles.count(w)) continue;
    out += w;
    out += ' ';
  }
  return out;
}

// Whether `text` holds one of the expected answers: exactly (whitespace collapsed), or in
// match form unless `exact`.
bool HoldsAnswer(const std::string& text, const std::vector<std::string>& answers,
                 bool exact = false) {
  if (exact) {
    const std::string collapsed = Collapse(text);
    for (const auto& a : answers) {
      if (!a.empty() && collapsed.find(Collapse(a)) != std::string::npos) return true;
    }
    return false;
  }
  const std::string form = MatchForm(text);
  for (const auto& a : answers) {
    const std::string answer = MatchForm(a);
    if (answer.size() > 1 && form.find(answer) != std::string::npos) return true;
  }
  return false;
}

// The text between two code-point offsets of UTF-8 `text`.
std::string CodePointSpan(const std::string& text, int begin, int end) {
  std::string out;
  int cp = -1;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++cp;
    if (cp >= begin && cp < end) out.push_back(c);
  }
  return out;
}

struct Setup {
  std::string dir;
  bool scratch = false;
  std::unique_ptr<generate::Embedder> embedder;
  std::unique_ptr<index::Index> index;
  index::BeirDataset data;
  std::map<std::string, std::vector<std::string>> answers;  // query id -> expected answers
  double ingest_seconds = 0;
  size_t passages = 0;

  ~Setup() {
    index.reset();
    if (scratch) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
};

absl::Status Prepare(const CliArgs& args, Setup& s) {
  for (const char* flag : {"corpus", "queries", "qrels"}) {
    if (args.Get(flag).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
    }
  }
  auto corpus = index::ReadBeirCorpus(args.Get("corpus"));
  if (!corpus.ok()) return corpus.status();
  auto queries = index::ReadBeirQueries(args.Get("queries"));
  if (!queries.ok()) return queries.status();
  auto qrels = index::ReadBeirQrels(args.Get("qrels"));
  if (!qrels.ok()) return qrels.status();
  s.data.corpus = std::move(*corpus);
  s.data.queries = std::move(*queries);
  s.data.qrels = std::move(*qrels);
  absl::StatusOr<int> max_queries = args.GetInt("max-queries", 0);
  if (!max_queries.ok()) return max_queries.status();
  if (*max_queries > 0 && static_cast<size_t>(*max_queries) < s.data.queries.size()) {
    s.data.queries.resize(static_cast<size_t>(*max_queries));
  }
  {
    std::ifstream in(args.Get("queries"));
    std::string line;
    while (std::getline(in, line)) {
      auto fields = index::ParseJsonObjectFields(line);
      if (!fields.ok()) continue;
      std::vector<std::string> a = AnswersOf(line);
      if (!a.empty()) s.answers[(*fields)["_id"]] = std::move(a);
    }
  }
  const std::string fields = args.Get("fields", "title_text");
  if (fields != "title_text" && fields != "text") {
    return absl::InvalidArgumentError("--fields must be title_text or text");
  }
  absl::StatusOr<EmbedderSpec> spec = ParseEmbedderSpec(args.Get("embedder", "lsa"));
  if (!spec.ok()) return spec.status();

  s.dir = args.Get("data");
  if (s.dir.empty()) {
    s.dir = (std::filesystem::temp_directory_path() / absl::StrCat("greffier-eval-", getpid()))
                .string();
    s.scratch = true;
    std::filesystem::remove_all(s.dir);
  }
  auto e = LoadEmbedder(s.dir);
  if (!e.ok()) return e.status();
  s.embedder = std::move(*e);
  auto index = OpenIndex(s.dir, *s.embedder, false);
  if (!index.ok()) return index.status();
  s.index = std::move(*index);

  ingest::IngesterOptions io;
  io.index = s.index.get();
  io.embedder = s.embedder.get();
  auto ingester = ingest::Ingester::Open(io);
  if (!ingester.ok()) return ingester.status();
  auto start = Clock::now();
  size_t done = 0;
  for (const auto& doc : s.data.corpus) {
    ingest::IngestMetadata meta;
    // Without titles, a title without words, so that no title text (nor the id, which is
    // the title in some sets) is indexed.
    meta.title = fields == "title_text" && !doc.title.empty() ? doc.title : "—";
    auto r = (*ingester)->Ingest(doc.text, doc.id, meta);
    if (!r.ok()) {
      std::fprintf(stderr, "eval: %s\n", r.status().ToString().c_str());
      continue;
    }
    if (++done % 500 == 0) {
      std::fprintf(stderr, "\reval: ingested %zu/%zu documents", done, s.data.corpus.size());
    }
  }
  s.ingest_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  s.passages = s.index->Stats().passages;
  std::fprintf(stderr, "\reval: %zu documents, %zu passages ingested in %.1f s\n", done, s.passages,
               s.ingest_seconds);
  // Ingested with the directory's embedder; switch when another was asked for.
  const bool switch_lsa =
      spec->kind == EmbedderKind::kLsa && s.embedder->Identity().rfind("lsa", 0) != 0;
  bool switch_gguf = false;
  if (spec->kind == EmbedderKind::kGguf) {
    auto wanted = LoadEmbedder(s.dir, spec->model_path);
    if (!wanted.ok()) return wanted.status();
    switch_gguf = (*wanted)->Identity() != s.embedder->Identity();
  }
  if (switch_lsa || switch_gguf) {
    auto e = Reembed(*s.index, s.dir, *spec);
    if (!e.ok()) return e.status();
    s.embedder = std::move(*e);
  }
  return absl::OkStatus();
}

int EvalRetrieval(Setup& s) {
  struct Mode {
    const char* name;
    bool lexical, dense;
  };
  const Mode modes[] = {{"BM25", true, false}, {"dense", false, true}, {"hybrid", true, true}};
  std::printf("\n%zu documents (%zu passages), %zu queries, dense embedder %s\n\n",
              s.data.corpus.size(), s.passages, s.data.queries.size(),
              s.embedder->Identity().c_str());
  std::printf("| ranking | R@1 | R@5 | R@10 | R@20 | MRR@10 | nDCG@10 | p50 ms | p99 ms |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Mode& m : modes) {
    index::RetrieverOptions ro;
    ro.use_lexical = m.lexical;
    ro.use_dense = m.dense;
    ro.candidates = 100;
    ro.per_document_cap = 1;
    index::Retriever retriever(s.index.get(), ro);
    index::RetrievalEvaluator evaluator;
    std::vector<double> latency;
    for (const auto& q : s.data.queries) {
      auto rel = s.data.qrels.find(q.id);
      if (rel == s.data.qrels.end()) continue;
      auto t0 = Clock::now();
      std::vector<float> qv;
      if (m.dense) {
        auto v = s.embedder->Embed(q.text, true);
        if (!v.ok()) return 1;
        qv = std::move(*v);
      }
      auto hits = retriever.Retrieve(q.text, qv, 20, index::SearchFilter());
      latency.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!hits.ok()) {
        std::fprintf(stderr, "eval: %s\n", hits.status().ToString().c_str());
        return 1;
      }
      std::vector<std::string> ranked;
      for (const auto& h : *hits) ranked.push_back(h.document.source_path);
      evaluator.AddQuery(rel->second, ranked);
    }
    index::RetrievalMetrics r = evaluator.Summary();
    std::printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f |\n", m.name,
                r.recall_at_1, r.recall_at_5, r.recall_at_10, r.recall_at_20, r.mrr_at_10,
                r.ndcg_at_10, Percentile(latency, 0.5), Percentile(latency, 0.99));
    std::fflush(stdout);
  }
  return 0;
}

int EvalAnswers(Setup& s, double min_evidence, const CliArgs& args) {
  AskPipelineOptions options;
  if (args.Has("keep-ratio")) options.extractive.keep_ratio = std::stod(args.Get("keep-ratio"));
  if (args.Has("k")) options.default_k = std::stoi(args.Get("k"));
  if (args.Has("max-sentences")) {
    options.extractive.max_sentences = static_cast<size_t>(std::stoi(args.Get("max-sentences")));
  }
  options.retriever = RetrieverOptionsFor(*s.embedder);
  options.extractive.embedder = s.embedder.get();  // as the pipeline would: the dump uses it
  options.audit = false;
  if (min_evidence >= 0) options.min_evidence = min_evidence;
  // --model: the decoder path, measured the same way (a random-weight model checks the
  // pipeline; a real one measures its answers).
  std::unique_ptr<generate::NativeChatModel> model;
  if (args.Has("model")) {
    generate::NativeChatModelOptions mo;
    mo.path = args.Get("model");
    auto opened = generate::NativeChatModel::Open(mo);
    if (!opened.ok()) {
      std::fprintf(stderr, "eval: %s\n", opened.status().ToString().c_str());
      return 1;
    }
    model = std::move(*opened);
    absl::StatusOr<int> max_tokens = args.GetInt("max-tokens", 0);
    if (!max_tokens.ok() || *max_tokens < 0) {
      std::fprintf(stderr, "eval: --max-tokens must be a non-negative integer\n");
      return 2;
    }
    if (*max_tokens > 0) options.sampling.max_tokens = *max_tokens;
  }
  // The dump scores the sentences of exactly the passages the answerer was given.
  std::vector<generate::ShownPassage> shown_passages;
  options.on_shown = [&](const std::vector<generate::ShownPassage>& shown) {
    shown_passages = shown;
  };
  AskPipeline pipeline(s.index.get(), s.embedder.get(), model.get(), options);
  Caller caller{"eval", {}, true};
  size_t asked = 0, cited_hit = 0, answer_hit = 0, refused = 0, sentences = 0, shown_hit = 0;
  // --show-misses N prints questions whose answer was shown but not cited (diagnosis).
  const int show_misses = args.Has("show-misses") ? std::stoi(args.Get("show-misses")) : 0;
  int misses_shown = 0;
  const bool exact = args.Has("exact-match");
  std::FILE* dump = nullptr;
  if (args.Has("dump-features")) {
    dump = std::fopen(args.Get("dump-features").c_str(), "w");
    if (dump == nullptr) {
      std::fprintf(stderr, "eval: cannot write %s\n", args.Get("dump-features").c_str());
      return 1;
    }
    std::fprintf(dump, "question\tgroup\tsentence\tlabel");
    for (int f = 0; f < generate::internal::kNumSentenceFeatures; ++f) {
      std::fprintf(dump, "\t%s", generate::internal::SentenceFeatureName(f));
    }
    std::fprintf(dump, "\n");
  }
  std::vector<double> first_ms, final_ms;
  for (const auto& q : s.data.queries) {
    auto expected = s.answers.find(q.id);
    if (expected == s.answers.end()) continue;
    ++asked;
    v1::AskRequest req;
    req.set_question(q.text);
    auto t0 = Clock::now();
    double first = 0;
    bool shown = false;  // an expected answer is in a passage shown to the answerer
    shown_passages.clear();
    auto final = pipeline.Ask(
        req, caller,
        [&](const v1::AskEvent& e) {
          if (e.has_passages() && first == 0) {
            first = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
            for (const auto& p : e.passages().passages()) {
              shown |= HoldsAnswer(p.passage().passage().text(), expected->second, exact);
            }
          }
          return true;
        },
        nullptr);
    shown_hit += shown;
    if (dump != nullptr) {
      // The sentences the extractive answerer chooses from, labelled by whether they hold an
      // expected answer; grouped by relevant document so that a fit can hold documents out.
      auto rel = s.data.qrels.find(q.id);
      const std::string group =
          rel == s.data.qrels.end() || rel->second.empty() ? q.id : rel->second.begin()->first;
      const auto cands =
          generate::internal::SentenceCandidates(q.text, shown_passages, options.extractive);
      for (const auto& c : cands) {
        if (!c.eligible) continue;
        const bool label = HoldsAnswer(c.sentence.text, expected->second, exact);
        std::fprintf(dump, "%s\t%s\t%zu\t%d", q.id.c_str(), group.c_str(),
                     std::hash<std::string>()(c.sentence.text), label ? 1 : 0);
        for (double f : c.features) std::fprintf(dump, "\t%.6g", f);
        std::fprintf(dump, "\n");
      }
    }
    final_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    first_ms.push_back(first);
    if (!final.ok()) {
      std::fprintf(stderr, "eval: %s: %s\n", q.id.c_str(), final.status().ToString().c_str());
      continue;
    }
    if (final->refused()) {
      ++refused;
      continue;
    }
    sentences += static_cast<size_t>(final->sentences_size());
    bool in_span = false;
    for (const auto& c : final->citations()) {
      auto p = s.index->GetPassage(c.passage_id());
      if (!p.ok()) continue;
      in_span |= HoldsAnswer(CodePointSpan(p->text, c.support_char_start(), c.support_char_end()),
                             expected->second, exact);
    }
    const bool in_answer = HoldsAnswer(final->answer(), expected->second, exact);
    cited_hit += in_span;
    answer_hit += in_answer;
    if (!in_span && shown && misses_shown < show_misses) {
      ++misses_shown;
      std::fprintf(stderr, "MISS %s\n  Q: %s\n  expected: %s\n  answer: %s\n", q.id.c_str(),
                   q.text.c_str(), expected->second[0].c_str(), final->answer().c_str());
      for (const auto& c : final->citations()) {
        auto p = s.index->GetPassage(c.passage_id());
        if (!p.ok()) continue;
        std::fprintf(stderr, "  cited [%d]: %s\n", c.number(),
                     CodePointSpan(p->text, c.support_char_start(), c.support_char_end()).c_str());
      }
    }
  }
  if (dump != nullptr) std::fclose(dump);
  if (asked == 0) {
    std::fprintf(stderr, "eval answers: no query has an \"answers\" list\n");
    return 2;
  }
  // Questions the corpus cannot answer (e.g. another data set's): they should be refused.
  size_t foreign = 0, foreign_refused = 0;
  if (args.Has("unanswerable")) {
    auto others = index::ReadBeirQueries(args.Get("unanswerable"));
    if (!others.ok()) {
      std::fprintf(stderr, "eval: %s\n", others.status().ToString().c_str());
      return 1;
    }
    for (const auto& q : *others) {
      v1::AskRequest req;
      req.set_question(q.text);
      auto final = pipeline.Ask(
          req, caller, [](const v1::AskEvent&) { return true; }, nullptr);
      if (!final.ok()) continue;
      ++foreign;
      foreign_refused += final->refused();
    }
  }
  const double n = static_cast<double>(asked);
  std::printf(
      "\n%zu questions with known answers, %zu documents (%zu passages), %s answerer, "
      "evidence threshold %.2f\n\n",
      asked, s.data.corpus.size(), s.passages,
      model != nullptr ? model->Identity().c_str() : "extractive", options.min_evidence);
  std::printf(
      "| cited span holds an expected answer | of answered questions | answer text holds it "
      "| shown passages hold it | refused | sentences per answer | first event p50/p99 ms | "
      "final p50/p99 ms |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.2f | %.1f / %.1f | %.1f / %.1f |\n",
              100.0 * cited_hit / n, asked > refused ? 100.0 * cited_hit / (n - refused) : 0.0,
              100.0 * answer_hit / n, 100.0 * shown_hit / n, 100.0 * refused / n,
              asked > refused ? static_cast<double>(sentences) / (n - refused) : 0.0,
              Percentile(first_ms, 0.5), Percentile(first_ms, 0.99), Percentile(final_ms, 0.5),
              Percentile(final_ms, 0.99));
  if (foreign > 0) {
    std::printf("\nunanswerable questions refused: %zu of %zu (%.1f%%)\n", foreign_refused, foreign,
                100.0 * static_cast<double>(foreign_refused) / static_cast<double>(foreign));
  }
  return 0;
}

}  // namespace

int RunEvalCommand(int argc, char** argv) {
  absl::StatusOr<CliArgs> args =
      ParseArgs(argc, argv, 2,
                {"corpus", "queries", "qrels", "fields", "embedder", "max-queries", "data",
                 "min-evidence", "keep-ratio", "max-sentences", "dump-features", "unanswerable",
                 "show-misses", "k", "model", "max-tokens"},
                {"exact-match"});
  if (!args.ok() || args->positionals.size() != 1 ||
      (args->positionals[0] != "retrieval" && args->positionals[0] != "answers")) {
    if (!args.ok()) std::fprintf(stderr, "%s\n", std::string(args.status().message()).c_str());
    std::fputs(kUsage, stderr);
    return 2;
  }
  double min_evidence = -1;
  if (args->Has("min-evidence")) min_evidence = std::stod(args->Get("min-evidence"));
  Setup s;
  absl::Status prepared = Prepare(*args, s);
  if (!prepared.ok()) {
    std::fprintf(stderr, "greffier eval: %s\n", prepared.ToString().c_str());
    return 1;
  }
  return args->positionals[0] == "retrieval" ? EvalRetrieval(s)
                                             : EvalAnswers(s, min_evidence, *args);
}

}  // namespace greffier::service
