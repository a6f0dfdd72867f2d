#ifndef GREFFIER_INDEX_STOPWORDS_H_
#define GREFFIER_INDEX_STOPWORDS_H_

#include <string_view>

namespace greffier::index {

// True when `folded_word` (lower case, accents removed, as FoldForMatching
// gives) is a French function word that carries no retrieval signal:
// articles, pronouns, prepositions, conjunctions, forms of « être » and
// « avoir », question words. Thread-safe.
bool IsFrenchStopWord(std::string_view folded_word);

// True when `folded_word` is an elided prefix (« l », « qu », « jusqu », ...)
// that is dropped when followed by an apostrophe. Thread-safe.
bool IsFrenchElision(std::string_view folded_word);

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_STOPWORDS_H_
