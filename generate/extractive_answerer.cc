#include "generate/extractive_answerer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "generate/answer_text.h"
#include "generate/hashing_embedder.h"

namespace greffier::generate {
namespace {

struct Candidate {
  int passage_index;
  Sentence sentence;
  std::set<std::string> terms;  // its distinct content terms
  size_t term_count;            // with repeats
  double score;
};

bool AsksForNumber(const std::string& question) {
  static const std::set<std::string> kCues = {
      "combien", "quand", "prix", "montant", "date", "annee", "age",  "duree", "nombre", "delai",
      "how",     "many",  "much", "when",    "year", "tarif", "cout", "taux",  "heure",  "jour"};
  for (const auto& w : ContentTerms(question)) {
    if (kCues.count(w)) return true;
  }
  for (const char* cue : {"combien", "quand", "quel", "when", "how many", "how much"}) {
    if (question.find(cue) != std::string::npos) return true;
  }
  return false;
}

enum class AnswerKind { kOther, kPerson, kTime, kPlace };

AnswerKind KindOf(const std::string& question) {
  std::vector<std::string> words = FoldWords(question);
  for (const auto& w : words) {
    if (w == "qui" || w == "who") return AnswerKind::kPerson;
    if (w == "quand" || w == "when" || w == "annee" || w == "date" || w == "siecle") {
      return AnswerKind::kTime;
    }
    if (w == "ou" || w == "where") return AnswerKind::kPlace;
  }
  return AnswerKind::kOther;
}

// Whether a sentence holds the kind of thing the question asks for.
bool Fits(AnswerKind kind, const std::string& sentence) {
  switch (kind) {
    case AnswerKind::kTime:
      for (const auto& n : NumbersIn(sentence)) {
        if (n.size() == 4 || n.size() == 3) return true;  // years
      }
      return false;
    case AnswerKind::kPerson:
    case AnswerKind::kPlace: {
      // A capitalised word that does not start the sentence.
      for (size_t i = 2; i + 1 < sentence.size(); ++i) {
        if (sentence[i - 1] == ' ' && sentence[i - 2] != '.' &&
            std::isupper(static_cast<unsigned char>(sentence[i]))) {
          return true;
        }
      }
      return false;
    }
    case AnswerKind::kOther:
      break;
  }
  return false;
}

}  // namespace

ExtractiveAnswer AnswerExtractively(const std::string& question,
                                    const std::vector<ShownPassage>& passages,
                                    const ExtractiveOptions& options) {
  ExtractiveAnswer answer;
  std::vector<std::string> q_terms = ContentTerms(question);
  std::sort(q_terms.begin(), q_terms.end());
  q_terms.erase(std::unique(q_terms.begin(), q_terms.end()), q_terms.end());
  if (q_terms.empty() || passages.empty()) return answer;

  std::vector<Candidate> candidates;
  std::map<std::string, int> sentence_df;
  for (size_t p = 0; p < passages.size(); ++p) {
    for (Sentence& s : SplitSentences(passages[p].text)) {
      if (s.text.size() > options.max_sentence_bytes) continue;
      if (LooksLikeInstruction(s.text)) continue;  // data, never an answer
      std::vector<std::string> terms = ContentTerms(s.text);
      std::set<std::string> unique(terms.begin(), terms.end());
      for (const auto& t : unique) ++sentence_df[t];
      candidates.push_back({static_cast<int>(p), std::move(s), std::move(unique), terms.size(), 0});
    }
  }
  // Local idf: a question term found in few of the shown sentences is the one that matters.
  const double n = static_cast<double>(std::max<size_t>(1, candidates.size()));
  std::map<std::string, double> idf;
  double total = 0;
  for (const auto& t : q_terms) {
    auto it = sentence_df.find(t);
    double df = it == sentence_df.end() ? 0 : it->second;
    idf[t] = std::log(1.0 + (n + 1) / (df + 0.5));
    total += idf[t];
  }
  const bool wants_number = AsksForNumber(question);

  const AnswerKind kind = KindOf(question);
  // The subject of a passage is often named only in its document's title ("Jakob Böhme"), and
  // questions name it: the title's terms count for every sentence of the passage.
  std::vector<std::set<std::string>> title_terms(passages.size());
  if (options.title_weight > 0) {
    for (size_t p = 0; p < passages.size(); ++p) {
      for (auto& t : ContentTerms(passages[p].title)) title_terms[p].insert(std::move(t));
    }
  }
  std::vector<double> coverage(candidates.size(), 0.0);
  for (size_t i = 0; i < candidates.size(); ++i) {
    double covered = 0;
    for (const auto& t : q_terms) {
      if (candidates[i].terms.count(t)) {
        covered += idf[t];
      } else if (title_terms[candidates[i].passage_index].count(t)) {
        covered += options.title_weight * idf[t];
      }
    }
    coverage[i] = covered / total;
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    Candidate& c = candidates[i];
    // A question often paraphrases the sentence next to the one holding the answer.
    double neighbour = 0;
    if (i > 0 && candidates[i - 1].passage_index == c.passage_index) {
      neighbour = std::max(neighbour, coverage[i - 1]);
    }
    if (i + 1 < candidates.size() && candidates[i + 1].passage_index == c.passage_index) {
      neighbour = std::max(neighbour, coverage[i + 1]);
    }
    if (coverage[i] <= 0 && neighbour <= 0) {
      c.score = 0;  // nothing of the question here: priors alone never make an answer
      continue;
    }
    double score = coverage[i] + options.neighbour_weight * neighbour;

    if (Fits(kind, c.sentence.text)) score += 0.05;
    // Retrieval weighed the whole passage: its relative score and the share of the question
    // it covers are evidence for each of its sentences.
    const ShownPassage& from = passages[c.passage_index];
    score += options.passage_prior * from.relevance * from.coverage;
    if (wants_number && !NumbersIn(c.sentence.text).empty()) score += 0.1;
    if (c.term_count < 3) score *= 0.5;  // headings and fragments
    c.score = score;
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  if (candidates.empty() || candidates[0].score <= 0) return answer;

  const double best = candidates[0].score;
  std::set<std::string> seen;
  for (const Candidate& c : candidates) {
    if (answer.sentences.size() >= options.max_sentences) break;
    if (c.score <= 0 || c.score < best * options.keep_ratio) break;
    if (!seen.insert(c.sentence.text).second) continue;  // the same sentence in two passages
    const ShownPassage& p = passages[c.passage_index];
    AnswerSentence s;
    s.text = c.sentence.text;
    s.cited = {p.number};
    s.source_passage = p.number;
    s.source_begin = c.sentence.begin;
    s.source_end = c.sentence.end;
    s.score = c.score;
    answer.sentences.push_back(std::move(s));
  }
  // "... interdit [1]. Le tarif ... [2]." : markers sit before the sentence's full stop.
  for (const auto& s : answer.sentences) {
    if (!answer.text.empty()) answer.text += " ";
    std::string body = s.text;
    char end = '.';
    if (!body.empty() && (body.back() == '.' || body.back() == ';' || body.back() == ':')) {
      body.pop_back();
    } else if (!body.empty() && (body.back() == '?' || body.back() == '!')) {
      end = body.back();
      body.pop_back();
    }
    absl::StrAppend(&answer.text, body, " [", s.cited[0], "]", std::string(1, end));
  }
  return answer;
}

}  // namespace greffier::generate
