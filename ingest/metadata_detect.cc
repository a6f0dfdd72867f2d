#include "ingest/metadata_detect.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <regex>

#include "absl/strings/ascii.h"

namespace greffier::ingest {
namespace {

// Case- and accent-folded copy of ASCII and Latin-1 letters (é -> e), same length in bytes is not
// kept; used only for keyword search.
std::string Fold(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0xC3 && i + 1 < s.size()) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]) | 0x20;  // lower-case
      char base = 0;
      if (d >= 0xA0 && d <= 0xA5)
        base = 'a';
      else if (d == 0xA7)
        base = 'c';
      else if (d >= 0xA8 && d <= 0xAB)
        base = 'e';
      else if (d >= 0xAC && d <= 0xAF)
        base = 'i';
      else if (d >= 0xB2 && d <= 0xB6)
        base = 'o';
      else if (d >= 0xB9 && d <= 0xBC)
        base = 'u';
      if (base != 0) {
        out.push_back(base);
        ++i;
        continue;
      }
    }
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

int MonthNumber(const std::string& folded) {
  static const char* kMonths[] = {"janvier",   "fevrier", "mars",     "avril",
                                  "mai",       "juin",    "juillet",  "aout",
                                  "septembre", "octobre", "novembre", "decembre"};
  for (int i = 0; i < 12; ++i) {
    if (folded == kMonths[i]) return i + 1;
  }
  return 0;
}

std::string FormatDate(int y, int m, int d) {
  if (y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return "";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
  return buf;
}

}  // namespace

std::string FindFrenchDate(const std::string& text) {
  static const std::regex kLong(
      R"(\b([0-9]{1,2})\s*(?:er)?\s+(janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)\s+([0-9]{4})\b)");
  static const std::regex kShort(R"(\b([0-3]?[0-9])[/.]([01]?[0-9])[/.]((?:19|20)[0-9]{2})\b)");
  const std::string folded = Fold(text);
  std::smatch a, b;
  bool has_a = std::regex_search(folded, a, kLong);
  bool has_b = std::regex_search(folded, b, kShort);
  if (has_a && (!has_b || a.position(0) <= b.position(0))) {
    return FormatDate(std::stoi(a[3].str()), MonthNumber(a[2].str()), std::stoi(a[1].str()));
  }
  if (has_b) return FormatDate(std::stoi(b[3].str()), std::stoi(b[2].str()), std::stoi(b[1].str()));
  return "";
}

DetectedMetadata DetectMetadata(const std::vector<ExtractedPage>& pages) {
  DetectedMetadata d;
  std::string head;  // the first pages, up to ~4000 bytes
  for (const auto& p : pages) {
    if (!head.empty()) head += "\n\n";
    head += p.text;
    if (head.size() > 4000) break;
  }
  if (head.size() > 4000) head.resize(4000);
  std::string folded = Fold(head);
  // The Journal officiel's rubric names every kind of act at once.
  for (const char* rubric : {"decrets, arretes, circulaires", "lois et decrets"}) {
    for (size_t at = folded.find(rubric); at != std::string::npos; at = folded.find(rubric, at)) {
      std::fill(folded.begin() + at, folded.begin() + at + std::strlen(rubric), ' ');
    }
  }

  // Document type: the earliest telling keyword at the start of a line (or in a heading).
  struct Kind {
    const char* pattern;
    const char* type;
  };
  static const Kind kKinds[] = {
      {R"((^|\n)\s*(extrait du )?(registre des )?deliberations?\b)", "délibération"},
      {R"((^|\n)\s*proces[- ]verbal\b)", "procès-verbal"},
      {R"((^|\n)\s*compte[- ]rendu\b)", "procès-verbal"},
      {R"((^|\n)\s*(conseil municipal|seance du conseil))", "procès-verbal"},
      {R"((^|\n)\s*arr?ete(s|n)?\b)", "arrêté"},
      {R"((^|\n)\s*decrets?\b)", "décret"},
      {R"((^|\n)\s*circulaire\b)", "circulaire"},
      {R"(\bcerfa\b|(^|\n)\s*formulaire\b)", "formulaire"},
      {R"((^|\n)\s*rapport\b)", "rapport"},
  };
  static const std::vector<std::regex>* kRegexes = [] {
    auto* v = new std::vector<std::regex>;
    for (const Kind& k : kKinds) v->emplace_back(k.pattern);
    return v;
  }();
  size_t best = std::string::npos;
  for (size_t i = 0; i < std::size(kKinds); ++i) {
    std::smatch m;
    if (std::regex_search(folded, m, (*kRegexes)[i]) && static_cast<size_t>(m.position(0)) < best) {
      best = static_cast<size_t>(m.position(0));
      d.document_type = kKinds[i].type;
    }
  }
  // Title: the line naming the act, with its continuation ("Arrêté du ... fixant ...").
  if (!d.document_type.empty()) {
    size_t start = best;
    while (start < folded.size() && (folded[start] == '\n' || folded[start] == ' ')) ++start;
    // `folded` and `head` differ in length but not in lines: find the line by its number.
    size_t line_no = 0;
    for (size_t i = 0; i < start; ++i) line_no += folded[i] == '\n';
    size_t pos = 0;
    for (size_t n = 0; n < line_no && pos != std::string::npos; ++n) {
      pos = head.find('\n', pos);
      if (pos != std::string::npos) ++pos;
    }
    if (pos != std::string::npos) {
      size_t end = head.find("\n\n", pos);
      std::string title = head.substr(pos, end == std::string::npos ? 200 : end - pos);
      for (char& c : title) {
        if (c == '\n') c = ' ';
      }
      if (title.size() > 200) {
        size_t cut = title.rfind(' ', 200);
        title.resize(cut == std::string::npos ? 200 : cut);
      }
      absl::StripAsciiWhitespace(&title);
      if (title.size() >= 6) d.title = title;
    }
  }
  d.date = FindFrenchDate(d.title);
  if (d.date.empty()) d.date = FindFrenchDate(head.substr(0, 1500));

  static const std::regex kNor(R"(NOR\s*:?\s*([A-Z]{4}[0-9]{7}[A-Z]))");
  std::smatch m;
  if (std::regex_search(head, m, kNor)) d.nor = m[1].str();
  static const std::regex kRef(
      R"((?:n°|N°|n o|no\.)\s*((?:[A-Z]{1,6}[-\s]?)?[0-9][0-9A-Za-z]*(?:[/\-_.][0-9A-Za-z]+)+))");
  for (auto it = std::sregex_iterator(head.begin(), head.end(), kRef);
       it != std::sregex_iterator() && d.references.size() < 5; ++it) {
    std::string ref = (*it)[1].str();
    if (std::find(d.references.begin(), d.references.end(), ref) == d.references.end()) {
      d.references.push_back(ref);
    }
  }
  return d;
}

}  // namespace greffier::ingest
