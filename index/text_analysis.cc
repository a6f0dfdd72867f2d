#include "index/text_analysis.h"

#include <libstemmer.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "index/stopwords.h"

namespace greffier::index {
namespace {

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// NFKC case folding plus ligature expansion; accents are kept.
std::string CaseFold(std::string_view s) {
  if (IsAscii(s)) return absl::AsciiStrToLower(std::string(s));
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu::UnicodeString in =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  icu::UnicodeString folded;
  if (U_SUCCESS(status)) folded = nfkc_cf->normalize(in, status);
  if (U_FAILURE(status)) folded = in.foldCase();  // ICU data missing: degrade.
  // Œ/Æ are letters of their own in Unicode, so no normalisation splits them.
  folded.findAndReplace(icu::UnicodeString(static_cast<UChar32>(0x0153)),
                        icu::UnicodeString("oe", -1, icu::UnicodeString::kInvariant));
  folded.findAndReplace(icu::UnicodeString(static_cast<UChar32>(0x00E6)),
                        icu::UnicodeString("ae", -1, icu::UnicodeString::kInvariant));
  std::string out;
  folded.toUTF8String(out);
  return out;
}

// Removes combining marks after canonical decomposition: é→e, ç→c.
std::string StripAccents(std::string_view s) {
  if (IsAscii(s)) return std::string(s);
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  icu::UnicodeString in =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  icu::UnicodeString decomposed;
  if (U_SUCCESS(status)) decomposed = nfd->normalize(in, status);
  if (U_FAILURE(status)) return std::string(s);
  icu::UnicodeString kept;
  for (int32_t i = 0; i < decomposed.length();) {
    UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    int8_t type = u_charType(c);
    if (type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK ||
        type == U_ENCLOSING_MARK) {
      continue;
    }
    kept.append(c);
  }
  std::string out;
  kept.toUTF8String(out);
  return out;
}

bool IsApostrophe(UChar32 c) { return c == 0x27 || c == 0x2019 || c == 0x02BC || c == 0x2018; }

// U+02BC is a modifier letter for Unicode but an apostrophe in French text.
bool IsWordStart(UChar32 c) { return c >= 0 && !IsApostrophe(c) && u_isalnum(c); }

bool IsWordContinue(UChar32 c) {
  if (c < 0 || IsApostrophe(c)) return false;
  if (u_isalnum(c)) return true;
  int8_t type = u_charType(c);
  // Combining marks (decomposed accents) and format characters (soft hyphen,
  // zero-width joiners) belong to the word they sit in.
  return type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK ||
         type == U_ENCLOSING_MARK || type == U_FORMAT_CHAR;
}

bool IsHyphen(UChar32 c) { return c == 0x2D || c == 0x2010 || c == 0x2011; }
bool IsJoiner(UChar32 c) {
  return IsApostrophe(c) || IsHyphen(c) || c == '.' || c == '/' || c == ',';
}
bool IsInlineSpace(UChar32 c) { return c == 0x20 || c == 0xA0 || c == 0x202F; }

// Decodes the code point at `*pos` and advances; invalid bytes give -1.
UChar32 Next(std::string_view text, int32_t* pos) {
  UChar32 c;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  U8_NEXT(s, *pos, static_cast<int32_t>(text.size()), c);
  return c;
}

UChar32 PeekAt(std::string_view text, int32_t pos) {
  if (pos >= static_cast<int32_t>(text.size())) return U_SENTINEL;
  return Next(text, &pos);
}

struct Part {
  int32_t begin;
  int32_t end;
  std::string folded;  // Case folded, accents kept.
  std::string plain;   // Case and accent folded.
  bool has_digit = false;
  bool all_digits = false;
};

// A run of word parts separated by single joiner characters.
struct RawToken {
  std::vector<Part> parts;
  std::vector<UChar32> joiners;  // joiners[i] sits between parts i and i+1.
};

bool IsCodeLetter(std::string_view original) {
  // Législative, Réglementaire, Décret, Arrêté, Loi organique: the prefixes of
  // French code article numbers.
  return original == "L" || original == "R" || original == "D" || original == "A" ||
         original == "LO";
}

// After a code letter: « . 2121 » (dot, up to two spaces, digit) or « 2121-29 »
// (up to two spaces, digits, hyphen, digit). Returns where the number starts.
int32_t CodeNumberStart(std::string_view text, int32_t pos) {
  bool dot = false;
  if (PeekAt(text, pos) == '.') {
    dot = true;
    ++pos;
  }
  for (int spaces = 0; spaces < 2; ++spaces) {
    int32_t p = pos;
    if (!IsInlineSpace(Next(text, &p))) break;
    pos = p;
  }
  int32_t start = pos;
  int32_t p = pos;
  UChar32 c = Next(text, &p);
  if (c < '0' || c > '9') return -1;
  if (dot) return start;
  while (c >= '0' && c <= '9') c = Next(text, &p);
  if (!IsHyphen(c)) return -1;
  c = Next(text, &p);
  return (c >= '0' && c <= '9') ? start : -1;
}

void FinishPart(std::string_view text, Part* part) {
  std::string_view original = text.substr(part->begin, part->end - part->begin);
  part->folded = CaseFold(original);
  part->plain = StripAccents(part->folded);
  part->all_digits = !part->plain.empty();
  for (char ch : part->plain) {
    bool digit = ch >= '0' && ch <= '9';
    part->has_digit |= digit;
    part->all_digits &= digit;
  }
}

// Scans the raw token starting at `pos` (a word start); returns its end.
int32_t ScanToken(std::string_view text, int32_t pos, RawToken* token) {
  token->parts.clear();
  token->joiners.clear();
  while (true) {
    Part part;
    part.begin = pos;
    while (true) {
      int32_t p = pos;
      UChar32 c = Next(text, &p);
      if (!IsWordContinue(c)) break;
      pos = p;
    }
    part.end = pos;
    FinishPart(text, &part);
    std::string_view original = text.substr(part.begin, part.end - part.begin);
    bool code_letter = IsCodeLetter(original);
    token->parts.push_back(std::move(part));
    if (code_letter) {
      int32_t number = CodeNumberStart(text, pos);
      if (number >= 0) {
        token->joiners.push_back('.');
        pos = number;
        continue;
      }
    }
    int32_t p = pos;
    UChar32 joiner = Next(text, &p);
    if (!IsJoiner(joiner) || !IsWordStart(PeekAt(text, p))) break;
    token->joiners.push_back(joiner);
    pos = p;
  }
  return pos;
}

// Whether the joiner between parts a and b keeps them in one term.
bool Binds(UChar32 joiner, const Part& a, const Part& b) {
  if (IsApostrophe(joiner)) return false;
  if (joiner == ',') return a.all_digits && b.all_digits;
  if (a.has_digit || b.has_digit) return true;
  if (joiner == '.') return a.plain.size() == 1 && b.plain.size() == 1;
  return false;
}

bool ParseSmallInt(std::string_view s, int* out) {
  if (s.empty() || s.size() > 4) return false;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  *out = v;
  return true;
}

std::string Pad2(int v) { return absl::StrCat(v < 10 ? "0" : "", v); }

// dd/mm/yyyy, dd.mm.yyyy, dd-mm-yyyy, yyyy-mm-dd, yyyy/mm/dd → yyyy-mm-dd.
bool CanonicalDate(const std::vector<const Part*>& parts, const std::vector<UChar32>& joiners,
                   std::string* out) {
  if (parts.size() != 3 || joiners[0] != joiners[1]) return false;
  for (const Part* p : parts) {
    if (!p->all_digits) return false;
  }
  int a, b, c;
  if (!ParseSmallInt(parts[0]->plain, &a) || !ParseSmallInt(parts[1]->plain, &b) ||
      !ParseSmallInt(parts[2]->plain, &c)) {
    return false;
  }
  int year, month, day;
  if (parts[0]->plain.size() == 4 && parts[1]->plain.size() <= 2 && parts[2]->plain.size() <= 2 &&
      joiners[0] != '.') {
    year = a, month = b, day = c;
  } else if (parts[2]->plain.size() == 4 && parts[0]->plain.size() <= 2 &&
             parts[1]->plain.size() <= 2) {
    year = c, month = b, day = a;
  } else {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  *out = absl::StrCat(year, "-", Pad2(month), "-", Pad2(day));
  return true;
}

char JoinerChar(UChar32 joiner) {
  if (IsHyphen(joiner)) return '-';
  return static_cast<char>(joiner);  // '.', '/' or ','.
}

// Conservative French stemmer of our own: plural, then feminine endings.
std::string LightStem(std::string word) {
  if (word.size() <= 3) return word;
  if (word.size() > 4 && word.ends_with("aux")) {
    word.resize(word.size() - 3);
    word.append("al");
    return word;
  }
  if (word.back() == 's' || word.back() == 'x') word.pop_back();
  if (word.size() > 4 && word.ends_with("ee")) word.pop_back();
  if (word.size() > 4 && word.back() == 'e') word.pop_back();
  return word;
}

}  // namespace

std::string FoldForMatching(std::string_view word) { return StripAccents(CaseFold(word)); }

FrenchAnalyzer::FrenchAnalyzer(const Options& options) : options_(options) {}

FrenchAnalyzer::~FrenchAnalyzer() {
  if (stemmer_ != nullptr) sb_stemmer_delete(stemmer_);
}

absl::StatusOr<std::unique_ptr<FrenchAnalyzer>> FrenchAnalyzer::Create(const Options& options) {
  std::unique_ptr<FrenchAnalyzer> analyzer(new FrenchAnalyzer(options));
  if (options.stemming == Stemming::kSnowball) {
    analyzer->stemmer_ = sb_stemmer_new("french", "UTF_8");
    if (analyzer->stemmer_ == nullptr) {
      return absl::InternalError("libstemmer has no French UTF-8 stemmer (sb_stemmer_new failed)");
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) {
    return absl::InternalError(
        absl::StrCat("ICU normalisation data unavailable: ", u_errorName(status)));
  }
  return analyzer;
}

std::string FrenchAnalyzer::Identity() const {
  std::string id = "fr-v1";
  switch (options_.stemming) {
    case Stemming::kNone:
      absl::StrAppend(&id, "-nostem");
      break;
    case Stemming::kLight:
      absl::StrAppend(&id, "-light");
      break;
    case Stemming::kSnowball:
      absl::StrAppend(&id, "-snowball", options_.fold_accents_before_stemming ? "-af" : "");
      break;
  }
  if (options_.remove_stop_words) absl::StrAppend(&id, "-stop");
  if (options_.canonical_dates) absl::StrAppend(&id, "-dates");
  return id;
}

std::vector<Term> FrenchAnalyzer::Analyze(std::string_view text) {
  // Offsets are 32-bit; a single passage is far smaller than 2 GiB.
  if (text.size() > static_cast<size_t>(INT32_MAX)) {
    text = text.substr(0, INT32_MAX);
  }
  std::vector<Term> terms;
  RawToken token;
  uint32_t position = 0;
  int32_t pos = 0;
  const int32_t size = static_cast<int32_t>(text.size());
  while (pos < size) {
    int32_t p = pos;
    UChar32 c = Next(text, &p);
    if (!IsWordStart(c)) {
      pos = p;
      continue;
    }
    pos = ScanToken(text, pos, &token);

    size_t first = 0;
    if (token.parts.size() > 1 && IsApostrophe(token.joiners[0]) &&
        IsFrenchElision(token.parts[0].plain)) {
      first = 1;
    }
    // Split the token into groups of parts bound by their joiners.
    size_t i = first;
    while (i < token.parts.size()) {
      std::vector<const Part*> group = {&token.parts[i]};
      std::vector<UChar32> joiners;
      while (i + 1 < token.parts.size() &&
             Binds(token.joiners[i], token.parts[i], token.parts[i + 1])) {
        joiners.push_back(token.joiners[i]);
        group.push_back(&token.parts[++i]);
      }
      ++i;

      Term term;
      term.position = position++;
      term.begin = static_cast<uint32_t>(group.front()->begin);
      term.end = static_cast<uint32_t>(group.back()->end);
      bool has_digit = false;
      for (const Part* part : group) has_digit |= part->has_digit;

      if (has_digit) {
        if (!options_.canonical_dates || !CanonicalDate(group, joiners, &term.text)) {
          term.text = group[0]->plain;
          for (size_t j = 1; j < group.size(); ++j) {
            term.text.push_back(JoinerChar(joiners[j - 1]));
            term.text += group[j]->plain;
          }
          // « L2121-29 » is written « L. 2121-29 » too: one canonical form.
          std::string_view first_original =
              text.substr(group[0]->begin, group[0]->end - group[0]->begin);
          for (std::string_view letter : {"LO", "L", "R", "D", "A"}) {
            if (first_original.size() > letter.size() && first_original.starts_with(letter) &&
                absl::ascii_isdigit(first_original[letter.size()]) &&
                term.text.find('-') != std::string::npos) {
              std::string_view t = term.text;
              term.text = std::string(t.substr(0, letter.size())) + "." +
                          std::string(t.substr(letter.size()));
              break;
            }
          }
        }
      } else if (group.size() > 1) {
        // Acronym written with dots: « C.N.I.L. » → cnil.
        for (const Part* part : group) term.text += part->plain;
      } else {
        const Part& part = *group[0];
        if (options_.remove_stop_words && IsFrenchStopWord(part.plain)) {
          continue;
        }
        switch (options_.stemming) {
          case Stemming::kNone:
            term.text = part.plain;
            break;
          case Stemming::kLight:
            term.text = LightStem(part.plain);
            break;
          case Stemming::kSnowball: {
            const std::string& in =
                options_.fold_accents_before_stemming ? part.plain : part.folded;
            const sb_symbol* stem =
                sb_stemmer_stem(stemmer_, reinterpret_cast<const sb_symbol*>(in.data()),
                                static_cast<int>(in.size()));
            if (stem == nullptr) {  // Out of memory in libstemmer.
              term.text = part.plain;
            } else {
              term.text =
                  StripAccents(std::string_view(reinterpret_cast<const char*>(stem),
                                                static_cast<size_t>(sb_stemmer_length(stemmer_))));
              // Snowball keeps a final e where an accented spelling lost its
              // é (« publiee » / « publiée »): drop it so both meet.
              while (term.text.size() > 3 && term.text.back() == 'e') {
                term.text.pop_back();
              }
            }
            break;
          }
        }
      }
      if (term.text.empty()) continue;  // Only ignorable characters.
      terms.push_back(std::move(term));
    }
  }
  return terms;
}

std::vector<std::string> FrenchAnalyzer::AnalyzeToStrings(std::string_view text) {
  std::vector<Term> terms = Analyze(text);
  std::vector<std::string> out;
  out.reserve(terms.size());
  for (Term& t : terms) out.push_back(std::move(t.text));
  return out;
}

}  // namespace greffier::index
