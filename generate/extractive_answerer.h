#ifndef GREFFIER_GENERATE_EXTRACTIVE_ANSWERER_H_
#define GREFFIER_GENERATE_EXTRACTIVE_ANSWERER_H_

#include <string>
#include <vector>

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
  // A further sentence is kept only if it scores at least this share of the best one.
  // Default: 0.3.
  double keep_ratio = 0.3;
  // Sentences longer than this many bytes are not used. Default: 1000 (600 lost 0.6 points of
  // PIAF answers; longer limits gained nothing more).
  size_t max_sentence_bytes = 1000;
  // Weight of the better neighbour sentence's match: questions often paraphrase the
  // sentence next to the answer. Default: 0.3.
  double neighbour_weight = 0.3;
  // Bonus of a sentence for its passage: this times the passage's relevance and coverage
  // (ShownPassage). Default: 0.6 (best of 0.1-1.0 on the PIAF dev set).
  double passage_prior = 0.6;
  // Weight of a question term found in the passage's title but not in the sentence.
  // Default: 1.
  double title_weight = 1.0;
};

struct ExtractiveAnswer {
  std::string text;  // sentences followed by their [n] markers
  std::vector<AnswerSentence> sentences;
};

// The built-in answerer used without a model file: picks the passages' sentences that share
// the most (idf-weighted) content terms with the question, preferring better-ranked passages,
// and cites each. Deterministic for the same inputs. Thread-safe (stateless).
ExtractiveAnswer AnswerExtractively(const std::string& question,
                                    const std::vector<ShownPassage>& passages,
                                    const ExtractiveOptions& options = {});

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_EXTRACTIVE_ANSWERER_H_
