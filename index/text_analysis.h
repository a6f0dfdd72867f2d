#ifndef GREFFIER_INDEX_TEXT_ANALYSIS_H_
#define GREFFIER_INDEX_TEXT_ANALYSIS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct sb_stemmer;

namespace greffier::index {

// One indexable term produced from a text.
struct Term {
  // Normalised term (UTF-8): what postings are keyed on.
  std::string text;
  // Token index in the text; dropped stop words still count.
  uint32_t position;
  // Byte offsets of the source: first byte, and one past the last.
  uint32_t begin;
  uint32_t end;
};

// French text analysis for lexical retrieval. The same analyzer (same Options)
// must be used at index time and at query time, or terms will not match.
//
// Pipeline, per token:
//  - tokenisation on Unicode letters/digits; '.', '-', '/', ',' inside a token
//    bind only around digits (references, dates, decimals), so « L. 2121-29 »,
//    « L2121-29 » and « L.2121-29 » all give the single term `l.2121-29`,
//    « n° 2023-117 » gives `2023-117`, « 12/03/2024 » and « 2024-03-12 » both
//    give `2024-03-12`, « 1er » stays `1er`; acronyms « C.N.I.L. » give `cnil`;
//  - NFKC case folding (ICU NFKC_Casefold: also removes soft hyphens and
//    zero-width characters), ligatures œ→oe, æ→ae;
//  - elisions (l', d', qu', n', j', m', t', s', c', jusqu', lorsqu', puisqu',
//    quoiqu', with ' ’ or ʼ) removed;
//  - French stop words removed (IsFrenchStopWord() in stopwords.h);
//  - accent folding (é→e, ç→c, ...) and stemming (Snowball French from
//    libstemmer, or a light plural/feminine stripper). By default the folded
//    word is stemmed, so queries typed without accents still match.
//
// Thread-safety: not thread-safe (the Snowball stemmer keeps state): use one
// analyzer per thread (creating one is cheap). Different instances may be
// used concurrently.
class FrenchAnalyzer {
 public:
  enum class Stemming {
    kNone,      // Folded surface forms only.
    kLight,     // Plural and feminine endings only (fast, conservative).
    kSnowball,  // Snowball French (libstemmer).
  };

  struct Options {
    // Default: kSnowball.
    Stemming stemming = Stemming::kSnowball;
    // Stem the accent-folded form, so queries typed without accents get the
    // same stems as accented text. Default: true.
    bool fold_accents_before_stemming = true;
    // Drop French stop words. Default: true.
    bool remove_stop_words = true;
    // Canonicalise dd/mm/yyyy and yyyy-mm-dd dates to yyyy-mm-dd. Default:
    // true.
    bool canonical_dates = true;
  };

  static absl::StatusOr<std::unique_ptr<FrenchAnalyzer>> Create(const Options& options);
  static absl::StatusOr<std::unique_ptr<FrenchAnalyzer>> Create() { return Create(Options()); }
  ~FrenchAnalyzer();
  FrenchAnalyzer(const FrenchAnalyzer&) = delete;
  FrenchAnalyzer& operator=(const FrenchAnalyzer&) = delete;

  // Terms of `text` in order. Invalid UTF-8 bytes act as separators; text
  // past 2 GiB is ignored (offsets are 32-bit).
  std::vector<Term> Analyze(std::string_view text);

  // Just the term strings, e.g. for queries.
  std::vector<std::string> AnalyzeToStrings(std::string_view text);

  // A stable name for these options ("fr-v1-snowball-af-stop-dates"): store it
  // with an index so that opening it with another analyzer can be refused.
  std::string Identity() const;

  const Options& options() const { return options_; }

 private:
  explicit FrenchAnalyzer(const Options& options);

  Options options_;
  sb_stemmer* stemmer_ = nullptr;  // Owned; null unless kSnowball.
};

// Case and accent folding of one word (NFKC_Casefold, ligatures, accents
// removed): « Œuvrées » → "oeuvrees". Thread-safe.
std::string FoldForMatching(std::string_view word);

}  // namespace greffier::index

#endif  // GREFFIER_INDEX_TEXT_ANALYSIS_H_
