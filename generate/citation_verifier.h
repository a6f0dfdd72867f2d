#ifndef GREFFIER_GENERATE_CITATION_VERIFIER_H_
#define GREFFIER_GENERATE_CITATION_VERIFIER_H_

#include <string>
#include <vector>

#include "generate/extractive_answerer.h"

namespace greffier::generate {

struct VerifierOptions {
  // Share of a sentence's content terms that must occur in one cited passage sentence
  // window for the sentence to count as supported. Default: 0.5.
  double min_support = 0.5;
  // Every number in a sentence must occur in its cited passages. Default: true.
  bool require_numbers = true;
};

struct CheckedSentence {
  std::string text;  // without markers
  std::vector<int> cited;
  std::vector<int> unknown_citations;  // [n] that name no shown passage
  bool supported = false;
  double support = 0;  // 0..1
  // The best supporting span: passage number and byte offsets into its text.
  int support_passage = 0;
  size_t support_begin = 0;
  size_t support_end = 0;
};

struct VerifiedAnswer {
  std::vector<CheckedSentence> sentences;
  bool any_supported = false;
};

// Splits a generated answer into sentences, reads their [n] markers, and checks each
// sentence against the passages it cites: content-term overlap with the best window of
// one to three consecutive passage sentences, and all its numbers present. A sentence with
// no marker inherits the markers of the sentence after it when it has none of its own
// (writers often cite at the end of a group). Thread-safe (pure function).
VerifiedAnswer VerifyCitations(const std::string& answer, const std::vector<ShownPassage>& shown,
                               const VerifierOptions& options = {});

// The answer with the sentences that failed verification removed (markers kept).
std::string KeepSupported(const VerifiedAnswer& verified);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_CITATION_VERIFIER_H_
