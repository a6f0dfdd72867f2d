#include "index/stopwords.h"

#include <string_view>
#include <unordered_set>

namespace greffier::index {
namespace {

// Written for this project. Kept short on purpose: words such as « pas »,
// « sans », « contre » or « avant » change what a question asks and stay.
// Entries are already folded (no accents), as the analyzer compares them.
constexpr std::string_view kStopWords[] = {
    // Single letters left over from elisions and initials.
    "a",
    "c",
    "d",
    "j",
    "l",
    "m",
    "n",
    "s",
    "t",
    "y",
    // Articles and determiners.
    "le",
    "la",
    "les",
    "un",
    "une",
    "des",
    "du",
    "de",
    "au",
    "aux",
    "ce",
    "cet",
    "cette",
    "ces",
    "mon",
    "ma",
    "mes",
    "ton",
    "ta",
    "tes",
    "son",
    "sa",
    "ses",
    "notre",
    "nos",
    "votre",
    "vos",
    "leur",
    "leurs",
    // Pronouns.
    "je",
    "tu",
    "il",
    "elle",
    "on",
    "nous",
    "vous",
    "ils",
    "elles",
    "me",
    "te",
    "se",
    "lui",
    "eux",
    "moi",
    "toi",
    "soi",
    "en",
    "ceci",
    "cela",
    "ca",
    "celui",
    "celle",
    "ceux",
    "celles",
    "qui",
    "que",
    "qu",
    "quoi",
    "dont",
    "lequel",
    "laquelle",
    "lesquels",
    "lesquelles",
    "duquel",
    "auquel",
    // Prepositions and conjunctions.
    "dans",
    "par",
    "pour",
    "sur",
    "avec",
    "chez",
    "et",
    "ou",
    "mais",
    "donc",
    "or",
    "ni",
    "car",
    "si",
    "ne",
    "comme",
    "lors",
    // Forms of « etre » and « avoir » (auxiliaries).
    "est",
    "sont",
    "etre",
    "ete",
    "etait",
    "etaient",
    "sera",
    "seront",
    "soit",
    "ai",
    "as",
    "ont",
    "avait",
    "avaient",
    "avoir",
    "eu",
    "aura",
    // Question words and modal verbs: queries are questions, and these words
    // only add noise to matching answers (measured on the French dev sets).
    "quel",
    "quelle",
    "quels",
    "quelles",
    "comment",
    "pourquoi",
    "quand",
    "combien",
    "faire",
    "fait",
    "peut",
    "peux",
    "puis",
    "peuvent",
    "pouvoir",
    "dois",
    "doit",
    "doivent",
    "devoir",
    "suis",
    "sommes",
    "etes",
    "faut",
    // « no », « nº » before a number.
    "no",
};

const std::unordered_set<std::string_view>& StopWordSet() {
  static const auto* const kSet =
      new std::unordered_set<std::string_view>(std::begin(kStopWords), std::end(kStopWords));
  return *kSet;
}

}  // namespace

bool IsFrenchStopWord(std::string_view folded_word) { return StopWordSet().contains(folded_word); }

bool IsFrenchElision(std::string_view folded_word) {
  static constexpr std::string_view kElisions[] = {
      "l", "d", "qu", "n", "j", "m", "t", "s", "c", "jusqu", "lorsqu", "puisqu", "quoiqu"};
  for (std::string_view e : kElisions) {
    if (folded_word == e) return true;
  }
  return false;
}

}  // namespace greffier::index
