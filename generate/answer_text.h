#ifndef GREFFIER_GENERATE_ANSWER_TEXT_H_
#define GREFFIER_GENERATE_ANSWER_TEXT_H_

// Text helpers shared by the answerers and the citation verifier: sentences with their
// offsets, content terms, numbers, language. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace greffier::generate {

// A sentence of a text: [begin, end) byte offsets into the text, and its text with line
// breaks turned into spaces.
struct Sentence {
  size_t begin = 0;
  size_t end = 0;
  std::string text;
};

// Splits at sentence ends (. ! ? ; : followed by a space and a capital or digit, and at
// blank lines), but not after common French abbreviations (art., M., n°, p., L. ...).
std::vector<Sentence> SplitSentences(std::string_view text);

// Folded (lower case, no accents), lightly stemmed words without French/English stop
// words: what two texts must share to be about the same thing.
std::vector<std::string> ContentTerms(std::string_view text);

// Numbers written in the text (digits only, separators removed: "1 500,00" -> "150000"),
// used to check that an answer's figures and dates come from its sources.
std::vector<std::string> NumbersIn(std::string_view text);

// Whether a sentence reads as an instruction addressed to an assistant ("ignorez les
// instructions précédentes", "ignore previous instructions", "répondez que ..."): such
// sentences in documents are data, and are never used or accepted as answers.
bool LooksLikeInstruction(std::string_view sentence);

enum class Language { kFrench, kEnglish };
// French unless the text has clearly more English function words.
Language DetectLanguage(std::string_view text);
const char* LanguageCode(Language language);

// Number of code points before byte offset `byte` of valid UTF-8 text.
size_t CodePointOffset(std::string_view text, size_t byte);

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_ANSWER_TEXT_H_
