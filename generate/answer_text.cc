#include "generate/answer_text.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "generate/hashing_embedder.h"

namespace greffier::generate {
namespace {

const std::set<std::string>& StopWords() {
  static const auto* words = new std::set<std::string>{
      // French (folded)
      "a", "au", "aux", "avec", "ce", "ces", "cet", "cette", "dans", "de", "des", "du", "elle",
      "elles", "en", "est", "et", "etre", "il", "ils", "je", "la", "le", "les", "leur", "leurs",
      "lui", "ma", "mais", "me", "meme", "mes", "moi", "mon", "ne", "nos", "notre", "nous", "on",
      "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sont", "sur", "ta",
      "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "y", "ete", "etait",
      "sera", "ont", "avait", "fait", "faire", "peut", "doit", "faut", "quel", "quelle", "quels",
      "quelles", "comment", "combien", "quand", "pourquoi", "lequel", "laquelle", "ou", "dont",
      "quoi", "est-ce", "ai", "as", "avons", "avez", "c", "d", "j", "l", "m", "n", "s", "t", "plus",
      "moins", "tres", "aussi", "ainsi", "donc", "si", "sans", "sous", "entre", "tout", "tous",
      "toute", "toutes", "autre", "autres", "selon",
      // English
      "the", "of", "and", "to", "in", "is", "are", "was", "were", "be", "for", "on", "with", "by",
      "an", "as", "at", "it", "this", "that", "what", "which", "who", "whom", "when", "where",
      "why", "how", "does", "do", "did", "can", "from", "or", "not", "its", "their"};
  return *words;
}

// Plural/feminine endings and a length cap: "conservées" and "conserver" meet at "conser".
std::string LightStem(std::string w) {
  if (w.size() > 4 && (w.back() == 's' || w.back() == 'x')) w.pop_back();
  if (w.size() > 4 && w.back() == 'e') w.pop_back();
  if (w.size() > 6) w.resize(6);
  return w;
}

bool IsAbbreviation(std::string_view word) {
  static const std::set<std::string> kAbbrev = {"art", "m",   "mm",  "mme", "mlle", "n",   "no",
                                                "p",   "pp",  "cf",  "etc", "env",  "min", "dr",
                                                "st",  "ste", "vol", "al",  "av",   "bd",  "ch"};
  std::string lower;
  for (char c : word)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (kAbbrev.count(lower)) return true;
  // Single capital letters: initials and code references ("L. 2121-29").
  return word.size() == 1 && std::isupper(static_cast<unsigned char>(word[0]));
}

bool StartsSentence(std::string_view text, size_t pos) {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n')) ++pos;
  if (pos >= text.size()) return true;
  unsigned char c = static_cast<unsigned char>(text[pos]);
  if (std::isupper(c) || std::isdigit(c) || c == '(' || c == '"' || c == '[') return true;
  // UTF-8 capitals with accents (À, É, È, Ê, Î, Ô, Ç...) and opening guillemets.
  if (c == 0xC3 && pos + 1 < text.size()) {
    unsigned char d = static_cast<unsigned char>(text[pos + 1]);
    return d >= 0x80 && d <= 0x9E;
  }
  return c == 0xC2 && pos + 1 < text.size() && static_cast<unsigned char>(text[pos + 1]) == 0xAB;
}

}  // namespace

std::vector<Sentence> SplitSentences(std::string_view text) {
  std::vector<Sentence> out;
  size_t start = 0;
  auto emit = [&](size_t end) {
    size_t b = start, e = end;
    while (b < e && (text[b] == ' ' || text[b] == '\n')) ++b;
    while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\n')) --e;
    if (e > b) {
      Sentence s{b, e, std::string(text.substr(b, e - b))};
      std::replace(s.text.begin(), s.text.end(), '\n', ' ');
      out.push_back(std::move(s));
    }
    start = end;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    // A blank line ends a sentence, unless the text goes on in lower case (a sentence that
    // runs over a page or column break).
    if (c == '\n' && i + 1 < text.size() && text[i + 1] == '\n' && StartsSentence(text, i + 1)) {
      emit(i);
      continue;
    }
    // A short line without final punctuation followed by a capitalised line is a heading
    // ("Article 2 - Durées de conservation"): it stands alone.
    if (c == '\n' && i > start) {
      size_t line_start = text.rfind('\n', i - 1);
      line_start =
          line_start == std::string_view::npos || line_start < start ? start : line_start + 1;
      std::string_view line = text.substr(line_start, i - line_start);
      while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
      const char last = line.empty() ? '.' : line.back();
      if (line_start == start && line.size() < 90 &&
          std::string_view(".,;:!?").find(last) == std::string_view::npos &&
          StartsSentence(text, i + 1) && text.substr(i + 1, 1) != "[") {
        emit(i);
        continue;
      }
    }
    if (c != '.' && c != '!' && c != '?' && c != ';') continue;
    if (i + 1 < text.size() && text[i + 1] != ' ' && text[i + 1] != '\n') continue;
    if (c == '.') {
      size_t w = i;
      while (w > start && std::isalpha(static_cast<unsigned char>(text[w - 1]))) --w;
      if (IsAbbreviation(text.substr(w, i - w))) continue;
    }
    if (!StartsSentence(text, i + 1)) continue;
    emit(i + 1);
  }
  emit(text.size());
  return out;
}

std::vector<std::string> ContentTerms(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : FoldWords(text)) {
    if (StopWords().count(w)) continue;
    if (w.size() < 2 && !std::isdigit(static_cast<unsigned char>(w[0]))) continue;
    out.push_back(LightStem(std::move(w)));
  }
  return out;
}

std::vector<std::string> NumbersIn(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto digit = [&](size_t i) {
    return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (digit(i)) {
      cur.push_back(text[i]);
    } else if (!cur.empty() && (text[i] == ' ' || text[i] == ',' || text[i] == '.') &&
               digit(i + 1)) {
      continue;  // "1 500", "2,60" and "1.500" are one number each
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool LooksLikeInstruction(std::string_view sentence) {
  std::string folded;
  for (const auto& w : FoldWords(sentence)) folded += w + " ";
  static const char* kPatterns[] = {"ignore les instructions",
                                    "ignorez les instructions",
                                    "ignorez toutes les instructions",
                                    "oubliez les instructions",
                                    "oublie les instructions",
                                    "ignorez les consignes",
                                    "ignore les consignes",
                                    "instructions precedentes",
                                    "consignes precedentes",
                                    "repondez que",
                                    "reponds que",
                                    "ignore previous instructions",
                                    "ignore all previous instructions",
                                    "ignore the previous instructions",
                                    "disregard previous instructions",
                                    "previous instructions",
                                    "answer that",
                                    "you are now",
                                    "system prompt",
                                    "prompt systeme",
                                    "tu es maintenant",
                                    "vous etes maintenant"};
  for (const char* p : kPatterns) {
    if (folded.find(p) != std::string::npos) return true;
  }
  return false;
}

Language DetectLanguage(std::string_view text) {
  static const std::set<std::string> kFr = {
      "le",      "la",      "les",  "des", "est", "une",  "du",  "quel", "quelle", "quels",
      "comment", "combien", "pour", "que", "qui", "dans", "sur", "au",   "aux"};
  static const std::set<std::string> kEn = {"the",  "is",    "are",  "what", "which", "how", "who",
                                            "when", "where", "does", "of",   "for",   "to",  "a",
                                            "an",   "in",    "on",   "do",   "can"};
  int fr = 0, en = 0;
  for (const auto& w : FoldWords(text)) {
    fr += kFr.count(w);
    en += kEn.count(w);
  }
  return en > fr ? Language::kEnglish : Language::kFrench;
}

const char* LanguageCode(Language language) { return language == Language::kEnglish ? "en" : "fr"; }

size_t CodePointOffset(std::string_view text, size_t byte) {
  size_t n = 0;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    n += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
  }
  return n;
}

}  // namespace greffier::generate
