#ifndef GREFFIER_GENERATE_EXTRACTIVE_ANSWERER_H_
#define GREFFIER_GENERATE_EXTRACTIVE_ANSWERER_H_

#include <array>
#include <string>
#include <vector>

#include "generate/answer_text.h"
#include "generate/embedder.h"

namespace greffier::generate {

// A passage as shown to an answerer: the number it is cited by ([1], [2] ...) and its text.
struct ShownPassage {
  int number = 0;
  std::string title;
  std::string text;
  // Retrieval's score of the passage over the best shown passage's, in (0, 1]; how much the
  // passage as a whole matches the question. Default: 1.
  double relevance = 1.0;
  // Share of the question's idf weight found in the passage (retrieval's coverage), 0..1.
  // Default: 1 (unknown: every passage alike).
  double coverage = 1.0;
  // The lexical (BM25) score over the best shown passage's, and the dense similarity
  // (inner product of unit vectors), 0 where the passage was not a candidate of that search.
  // Default: 1 and 0 (unknown).
  double lexical_relevance = 1.0;
  double dense_similarity = 0.0;
};

// One sentence of an answer and the passages it cites.
struct AnswerSentence {
  std::string text;  // without the citation markers
  std::vector<int> cited;
  // Where it comes from, for extractive answers: passage number and byte span in its text.
  int source_passage = 0;
  size_t source_begin = 0;
  size_t source_end = 0;
  double score = 0;
};

struct ExtractiveOptions {
  // Sentences in an answer. Default: 3.
  size_t max_sentences = 3;
  // A further sentence is kept only if its probability of holding the answer is at least
  // this share of the best sentence's. Default: 0.1 (0.3 kept 2.3 sentences per answer
  // instead of 2.9 and lost 2 points of PIAF answers).
  double keep_ratio = 0.1;
  // Sentences longer than this many bytes are not used. Default: 1000 (600 lost 0.6 points of
  // PIAF answers; longer limits gained nothing more).
  size_t max_sentence_bytes = 1000;
  // Weight of a question term found in the passage's title but not in the sentence, in the
  // sentence's coverage of the question. Default: 1.
  double title_weight = 1.0;
  // The archive's embedder: each sentence's similarity to the question is a ranking feature.
  // Not owned. Default: none (the feature is 0).
  const Embedder* embedder = nullptr;
  // With an embedder, how many sentences (the lexically best eligible ones) are compared with
  // the question; the others count as dissimilar. Default: 6 (12 or all of them gained nothing on
  // PIAF; a MiniLM-L6 sized GGUF embedder spends ~25 ms a sentence on two cores).
  size_t max_embedded_sentences = 6;
};

struct ExtractiveAnswer {
  std::string text;  // sentences followed by their [n] markers
  std::vector<AnswerSentence> sentences;
  // AnswerSupport of the same question and passages.
  double support = 0;
};

// The built-in answerer used without a model file: picks the passages' sentences that share
// the most (idf-weighted) content terms with the question, preferring better-ranked passages,
// and cites each. Deterministic for the same inputs. Thread-safe (stateless).
// `question_vector`: the question already embedded by options.embedder (retrieval did it),
// so that it is not embedded twice; null: embedded here when there is an embedder.
ExtractiveAnswer AnswerExtractively(const std::string& question,
                                    const std::vector<ShownPassage>& passages,
                                    const ExtractiveOptions& options = {},
                                    const std::vector<float>* question_vector = nullptr);

// Probability, 0..1, that the best sentence of `passages` answers the question, from the
// lexical features only (not the dense similarities, whose scale is the embedder's, so that
// one refusal threshold holds whatever the embedder): with the best passage's coverage, the
// evidence a refusal threshold is compared with. options.embedder is not used.
double AnswerSupport(const std::string& question, const std::vector<ShownPassage>& passages,
                     const ExtractiveOptions& options = {});

namespace internal {

// Sentences are ranked by a linear model over these features, fitted on the PIAF dev set by
// tests/bench/answer_ranker_bench.cc (weights in extractive_answerer.cc).
inline constexpr int kNumSentenceFeatures = 28;

// Feature names, in order, for dumps and the fitting tool.
const char* SentenceFeatureName(int feature);

// A sentence of a shown passage that could be part of an answer.
struct SentenceCandidate {
  int passage_index = 0;  // into the passages given
  Sentence sentence;
  std::array<double, kNumSentenceFeatures> features{};
  // It or a neighbour shares a content term with the question: priors alone never make an
  // answer.
  bool eligible = false;
};

// Every usable sentence of `passages` (in passage order) with its features.
// `question_vector` as for AnswerExtractively.
std::vector<SentenceCandidate> SentenceCandidates(
    const std::string& question, const std::vector<ShownPassage>& passages,
    const ExtractiveOptions& options, const std::vector<float>* question_vector = nullptr);

// Calibrated probability that a sentence holds the answer, from its features: ranks the
// sentences of an answer.
double SentenceScore(const std::array<double, kNumSentenceFeatures>& features);
// The same from a model fitted without the dense similarities (their weights are 0).
double AnswerabilityScore(const std::array<double, kNumSentenceFeatures>& features);

}  // namespace internal

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_EXTRACTIVE_ANSWERER_H_
