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

// A capitalised word that does not start the sentence and is not in the question: the
// name a "who" or "where" question asks for.
bool HasNewName(const std::string& sentence, const std::set<std::string>& question_terms) {
  size_t i = 0;
  bool first = true;
  while (i < sentence.size()) {
    size_t j = sentence.find(' ', i);
    if (j == std::string::npos) j = sentence.size();
    if (!first && j > i) {
      const unsigned char c = static_cast<unsigned char>(sentence[i]);
      // ASCII capitals, and the Latin-1 capitals À-Þ (C3 80-9E) of UTF-8.
      const bool capital =
          std::isupper(c) ||
          (c == 0xC3 && i + 1 < j && static_cast<unsigned char>(sentence[i + 1]) >= 0x80 &&
           static_cast<unsigned char>(sentence[i + 1]) <= 0x9E);
      if (capital) {
        for (const auto& t : ContentTerms(std::string_view(sentence).substr(i, j - i))) {
          if (!question_terms.count(t)) return true;
        }
      }
    }
    first = false;
    i = j + 1;
  }
  return false;
}

// Weights of the sentence features, fitted by tests/bench/answer_ranker_bench.cc on the
// PIAF dev set with LSA vectors (2-fold held-out by document; see the issue note).
constexpr std::array<double, internal::kNumSentenceFeatures> kSentenceWeights = {
    -7.6395, 1.8722, -0.5338, -0.1690, -0.2792, 1.4866, 0.1489,  -0.0478, 0.5812, 0.1894,
    -0.0933, 0.6966, -0.1087, 0.2155,  -0.0451, 0.1354, -0.1848, -0.0961, 1.2191, 0.4124,
    -0.0719, 0.0001, -0.1431, 0.0813,  1.8468,  1.2739, 1.2211,  1.3275};
// The same fit with passage_dense and sentence_dense held at 0 (--without).
constexpr std::array<double, internal::kNumSentenceFeatures> kAnswerabilityWeights = {
    -7.4496, 2.2279, -0.2803, -0.1207, -0.2422, 1.5898,  2.0730,  -0.0152, 0.6676, 0.2060,
    -0.1743, 0.7949, -0.1004, 0.3420,  -0.1699, 1.1121,  -0.1653, -0.0940, 1.2594, 0.2607,
    -0.0898, 0.0566, -0.1462, 0.1152,  2.1137,  -0.1445, 0.0,     0.0};

double Logistic(const std::array<double, internal::kNumSentenceFeatures>& weights,
                const std::array<double, internal::kNumSentenceFeatures>& features) {
  double z = 0;
  for (int f = 0; f < internal::kNumSentenceFeatures; ++f) z += weights[f] * features[f];
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace

namespace internal {

const char* SentenceFeatureName(int feature) {
  static const char* const kNames[kNumSentenceFeatures] = {"bias",
                                                           "coverage",
                                                           "coverage_no_title",
                                                           "previous_coverage",
                                                           "next_coverage",
                                                           "passage_prior",
                                                           "passage_relevance",
                                                           "passage_reciprocal_rank",
                                                           "fits_kind",
                                                           "number_wanted",
                                                           "fragment",
                                                           "bigram_share",
                                                           "first_sentence",
                                                           "log_terms",
                                                           "coverage_squared",
                                                           "density",
                                                           "below_passage_best",
                                                           "new_name",
                                                           "window_coverage",
                                                           "rarest_term",
                                                           "new_number",
                                                           "proximity",
                                                           "position",
                                                           "number_near",
                                                           "fuzzy_coverage",
                                                           "passage_lexical",
                                                           "passage_dense",
                                                           "sentence_dense"};
  return feature >= 0 && feature < kNumSentenceFeatures ? kNames[feature] : "";
}

double SentenceScore(const std::array<double, kNumSentenceFeatures>& features) {
  return Logistic(kSentenceWeights, features);
}

double AnswerabilityScore(const std::array<double, kNumSentenceFeatures>& features) {
  return Logistic(kAnswerabilityWeights, features);
}

std::vector<SentenceCandidate> SentenceCandidates(const std::string& question,
                                                  const std::vector<ShownPassage>& passages,
                                                  const ExtractiveOptions& options,
                                                  const std::vector<float>* question_vector) {
  std::vector<std::string> q_sequence = ContentTerms(question);
  std::vector<std::string> q_terms = q_sequence;
  std::sort(q_terms.begin(), q_terms.end());
  q_terms.erase(std::unique(q_terms.begin(), q_terms.end()), q_terms.end());
  std::vector<SentenceCandidate> candidates;
  if (q_terms.empty() || passages.empty()) return candidates;
  const std::set<std::string> q_set(q_terms.begin(), q_terms.end());
  std::set<std::pair<std::string, std::string>> q_bigrams;
  for (size_t i = 0; i + 1 < q_sequence.size(); ++i) {
    q_bigrams.insert({q_sequence[i], q_sequence[i + 1]});
  }

  struct Terms {
    std::set<std::string> unique;
    size_t count = 0;
    size_t bigrams_found = 0;
    bool first = false;
    size_t matched = 0;        // distinct question terms it holds
    double proximity = 0;      // matched question terms over the shortest span holding them
    double position = 0;       // sentence index over the passage's sentence count
    bool number_near = false;  // a figure not in the question next to a question term
  };
  std::vector<Terms> terms;
  std::map<std::string, int> sentence_df;
  for (size_t p = 0; p < passages.size(); ++p) {
    size_t passage_sentences = 0;
    const size_t begin_of_passage = terms.size();
    for (Sentence& s : SplitSentences(passages[p].text)) {
      if (s.text.size() > options.max_sentence_bytes) continue;
      if (LooksLikeInstruction(s.text)) continue;  // data, never an answer
      std::vector<std::string> seq = ContentTerms(s.text);
      Terms t;
      t.unique.insert(seq.begin(), seq.end());
      t.count = seq.size();
      t.first = passage_sentences == 0;
      std::set<std::pair<std::string, std::string>> found;
      for (size_t i = 0; i + 1 < seq.size(); ++i) {
        if (q_bigrams.count({seq[i], seq[i + 1]})) found.insert({seq[i], seq[i + 1]});
      }
      t.bigrams_found = found.size();
      {
        // Shortest window of the sentence's terms holding every matched question term.
        std::map<std::string, size_t> last;
        for (const auto& w : t.unique) t.matched += q_set.count(w);
        const size_t matched = t.matched;
        size_t best = seq.size() + 1;
        for (size_t i = 0; i < seq.size() && matched > 0; ++i) {
          if (!q_set.count(seq[i])) continue;
          last[seq[i]] = i;
          if (last.size() == matched) {
            size_t lo = i;
            for (const auto& [w, pos] : last) lo = std::min(lo, pos);
            best = std::min(best, i - lo + 1);
          }
        }
        t.proximity = matched > 0 && best <= seq.size()
                          ? static_cast<double>(matched) / static_cast<double>(best)
                          : 0;
      }
      {
        // The answer to "combien de points" is the figure written next to "points".
        auto near_question_term = [&](size_t k) {
          for (size_t j = k >= 2 ? k - 2 : 0; j < seq.size() && j <= k + 2; ++j) {
            if (j != k && q_set.count(seq[j])) return true;
          }
          return false;
        };
        for (size_t k = 0; k < seq.size() && !t.number_near; ++k) {
          if (std::isdigit(static_cast<unsigned char>(seq[k][0])) && !q_set.count(seq[k])) {
            t.number_near = near_question_term(k);
          }
        }
      }
      for (const auto& w : t.unique) ++sentence_df[w];
      t.position = static_cast<double>(passage_sentences++);
      SentenceCandidate c;
      c.passage_index = static_cast<int>(p);
      c.sentence = std::move(s);
      candidates.push_back(std::move(c));
      terms.push_back(std::move(t));
    }
    for (size_t i = begin_of_passage; i < terms.size(); ++i) {
      terms[i].position /= static_cast<double>(std::max<size_t>(1, passage_sentences));
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
  double rarest = 0;
  for (const auto& [t, w] : idf) rarest = std::max(rarest, w);
  std::vector<float> embedded;
  if (options.embedder == nullptr) {
    question_vector = nullptr;
  } else if (question_vector == nullptr) {
    if (auto v = options.embedder->Embed(question, true); v.ok()) embedded = std::move(*v);
    question_vector = &embedded;
  }
  const bool wants_number = AsksForNumber(question);
  const AnswerKind kind = KindOf(question);
  const std::vector<std::string> q_numbers = NumbersIn(question);
  // The subject of a passage is often named only in its document's title ("Jakob Böhme"), and
  // questions name it: the title's terms count for every sentence of the passage.
  std::vector<std::set<std::string>> title_terms(passages.size());
  if (options.title_weight > 0) {
    for (size_t p = 0; p < passages.size(); ++p) {
      for (auto& t : ContentTerms(passages[p].title)) title_terms[p].insert(std::move(t));
    }
  }
  std::vector<double> coverage(candidates.size(), 0.0), own(candidates.size(), 0.0);
  std::vector<double> passage_best(passages.size(), 0.0);
  for (size_t i = 0; i < candidates.size(); ++i) {
    double covered = 0, covered_own = 0;
    for (const auto& t : q_terms) {
      if (terms[i].unique.count(t)) {
        covered += idf[t];
        covered_own += idf[t];
      } else if (title_terms[candidates[i].passage_index].count(t)) {
        covered += options.title_weight * idf[t];
      }
    }
    coverage[i] = covered / total;
    own[i] = covered_own / total;
    double& best = passage_best[candidates[i].passage_index];
    best = std::max(best, coverage[i]);
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    SentenceCandidate& c = candidates[i];
    const int p = c.passage_index;
    // A question often paraphrases the sentence next to the one holding the answer.
    const double previous = i > 0 && candidates[i - 1].passage_index == p ? coverage[i - 1] : 0;
    const double next =
        i + 1 < candidates.size() && candidates[i + 1].passage_index == p ? coverage[i + 1] : 0;
    c.eligible = coverage[i] > 0 || previous > 0 || next > 0;
    const ShownPassage& from = passages[p];
    const size_t matched = terms[i].matched;
    const std::vector<std::string> numbers = NumbersIn(c.sentence.text);
    auto& f = c.features;
    f[0] = 1;
    f[1] = coverage[i];
    f[2] = own[i];
    f[3] = previous;
    f[4] = next;
    // Retrieval weighed the whole passage: its relative score and the share of the question
    // it covers are evidence for each of its sentences.
    f[5] = from.relevance * from.coverage;
    f[6] = from.relevance;
    f[7] = 1.0 / (1.0 + p);
    f[8] = Fits(kind, c.sentence.text) ? 1 : 0;
    f[9] = wants_number && !numbers.empty() ? 1 : 0;
    f[10] = terms[i].count < 3 ? 1 : 0;  // headings and fragments
    f[11] = q_bigrams.empty() ? 0
                              : static_cast<double>(terms[i].bigrams_found) /
                                    static_cast<double>(q_bigrams.size());
    f[12] = terms[i].first ? 1 : 0;
    f[13] = std::log1p(static_cast<double>(terms[i].count));
    f[14] = coverage[i] * coverage[i];
    f[15] = terms[i].unique.empty()
                ? 0
                : static_cast<double>(matched) / static_cast<double>(terms[i].unique.size());
    f[16] = passage_best[p] - coverage[i];
    f[17] = HasNewName(c.sentence.text, q_set) ? 1 : 0;
    {
      double window = 0, rare = 0;
      for (const auto& t : q_terms) {
        bool in = terms[i].unique.count(t) > 0;
        if (in) rare = std::max(rare, idf[t]);
        in |= i > 0 && candidates[i - 1].passage_index == p && terms[i - 1].unique.count(t);
        in |= i + 1 < candidates.size() && candidates[i + 1].passage_index == p &&
              terms[i + 1].unique.count(t);
        in |= title_terms[p].count(t) > 0;
        if (in) window += idf[t];
      }
      f[18] = window / total;
      f[19] = rarest > 0 ? rare / rarest : 0;
    }
    f[20] = 0;
    for (const auto& number : numbers) {
      if (std::find(q_numbers.begin(), q_numbers.end(), number) == q_numbers.end()) f[20] = 1;
    }
    f[21] = terms[i].proximity;
    f[22] = terms[i].position;
    f[23] = terms[i].number_near ? 1 : 0;
    {
      // Question terms the light stemmer missed: "marquait" and "marque" (typos too) share
      // their first five letters.
      double fuzzy = 0;
      for (const auto& t : q_terms) {
        if (t.size() < 5 || terms[i].unique.count(t)) continue;
        for (const auto& w : terms[i].unique) {
          if (w.size() >= 5 && w.compare(0, 5, t, 0, 5) == 0) {
            fuzzy += idf[t];
            break;
          }
        }
      }
      f[24] = fuzzy / total;
    }
    f[25] = from.lexical_relevance;
    f[26] = from.dense_similarity;
    f[27] = 0;  // below
  }
  // The question's similarity to the sentences the lexical model likes best: embedding every
  // sentence would cost seconds per question with a large neural embedder.
  if (question_vector != nullptr && !question_vector->empty()) {
    std::vector<std::pair<double, size_t>> order;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (candidates[i].eligible) order.push_back({-AnswerabilityScore(candidates[i].features), i});
    }
    const size_t embed = std::min(order.size(), options.max_embedded_sentences);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(embed),
                      order.end());
    for (size_t r = 0; r < embed; ++r) {
      SentenceCandidate& c = candidates[order[r].second];
      auto v = options.embedder->Embed(c.sentence.text, false);
      if (!v.ok() || v->size() != question_vector->size()) continue;
      double dot = 0;
      for (size_t d = 0; d < v->size(); ++d) dot += (*v)[d] * (*question_vector)[d];
      c.features[27] = dot;
    }
  }
  return candidates;
}

}  // namespace internal

ExtractiveAnswer AnswerExtractively(const std::string& question,
                                    const std::vector<ShownPassage>& passages,
                                    const ExtractiveOptions& options,
                                    const std::vector<float>* question_vector) {
  ExtractiveAnswer answer;
  struct Candidate {
    int passage_index;
    Sentence sentence;
    double score;
  };
  std::vector<Candidate> candidates;
  for (auto& c : internal::SentenceCandidates(question, passages, options, question_vector)) {
    if (!c.eligible) continue;
    answer.support = std::max(answer.support, internal::AnswerabilityScore(c.features));
    candidates.push_back(
        {c.passage_index, std::move(c.sentence), internal::SentenceScore(c.features)});
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

double AnswerSupport(const std::string& question, const std::vector<ShownPassage>& passages,
                     const ExtractiveOptions& options) {
  ExtractiveOptions lexical = options;
  lexical.embedder = nullptr;  // the answerability weights ignore the dense features
  double support = 0;
  for (const auto& c : internal::SentenceCandidates(question, passages, lexical)) {
    if (c.eligible) support = std::max(support, internal::AnswerabilityScore(c.features));
  }
  return support;
}

}  // namespace greffier::generate
