#include "ingest/passage_splitter.h"

#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ingest/text_normalize.h"

namespace greffier::ingest {
namespace {

// A piece of one page's text: one paragraph, or part of a long one.
struct Unit {
  uint32_t page;   // 1-based
  uint32_t start;  // code points into the page text
  uint32_t end;
  size_t byte_start;  // the same, in bytes
  size_t byte_end;
  std::string text;
  std::vector<std::string> section_path;
  bool heading = false;
};

// Byte offset -> code point offset in one page text. Offsets are asked for mostly in increasing
// order, so the cursor moves forward instead of recounting from the start (pages of hostile files
// may hold megabytes of text).
class CpCursor {
 public:
  explicit CpCursor(std::string_view s) : s_(s) {}
  uint32_t operator()(size_t byte) {
    if (byte >= byte_) {
      cp_ += CodePointCount(s_.substr(byte_, byte - byte_));
    } else {
      cp_ -= CodePointCount(s_.substr(byte, byte_ - byte));
    }
    byte_ = byte;
    return static_cast<uint32_t>(cp_);
  }

 private:
  std::string_view s_;
  size_t byte_ = 0;
  size_t cp_ = 0;
};

// Cuts a long paragraph [begin, end) of `text` into pieces of at most max bytes-ish, preferring
// sentence ends, then spaces; consecutive pieces overlap.
std::vector<std::pair<size_t, size_t>> CutLong(std::string_view text, size_t begin, size_t end,
                                               const SplitterOptions& o) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t pos = begin;
  while (pos < end) {
    size_t limit = pos + o.max_chars;
    if (limit >= end) {
      out.emplace_back(pos, end);
      break;
    }
    // Keep UTF-8 boundaries.
    while (limit > pos && (static_cast<unsigned char>(text[limit]) & 0xC0) == 0x80) --limit;
    size_t cut = std::string_view::npos;
    for (size_t i = limit; i > pos + o.target_chars / 2; --i) {
      if ((text[i - 1] == '.' || text[i - 1] == ';' || text[i - 1] == '!' || text[i - 1] == '?') &&
          (text[i] == ' ' || text[i] == '\n')) {
        cut = i;
        break;
      }
    }
    if (cut == std::string_view::npos) {
      size_t sp = text.rfind(' ', limit);
      cut = (sp != std::string_view::npos && sp > pos) ? sp : limit;
    }
    out.emplace_back(pos, cut);
    size_t next = cut > pos + o.overlap_chars ? cut - o.overlap_chars : cut;
    // Keep UTF-8 boundaries, then start the overlap at a word boundary.
    while (next < cut && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
    while (next < cut && text[next] != ' ') ++next;
    while (next < end && (text[next] == ' ' || text[next] == '\n')) ++next;
    if (next <= pos) next = cut;
    pos = next;
  }
  return out;
}

// The first letter of a line, after leading spaces, bullets and dashes.
char FirstLetter(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && i < 8) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (std::isalnum(c)) return static_cast<char>(c);
    ++i;
  }
  return 0;
}

// Whether the first word (after up to 8 bytes of punctuation) may begin a heading that one of
// HeadingLevel's expressions recognises. Must accept a superset of what they match.
bool StartsWithHeadingWord(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && i < 8 && !std::isalnum(static_cast<unsigned char>(line[i]))) ++i;
  const std::string_view w = std::string_view(line).substr(i);
  static constexpr std::string_view kWords[] = {
      "ARTICLE", "Article", "Art.",    "ANNEXE",       "Annexe",       "TITRE",    "Titre",
      "PARTIE",  "Partie",  "LIVRE",   "Livre",        "CHAPITRE",     "Chapitre", "CONSID",
      "Consid",  "SECTION", "Section", "SOUS-SECTION", "Sous-section", "DE",       "DCM",
      "DL",      "DÉLIB",   "Délib",   "DELIB",        "Delib",        "VU",       "Vu"};
  for (std::string_view k : kWords) {
    if (w.substr(0, k.size()) == k) return true;
  }
  return false;
}

std::string ArticleNumber(std::string n) {
  std::string out;
  for (char c : n) {
    if (c != ' ') out.push_back(c);
  }
  if (out == "premier" || out == "PREMIER" || out == "Premier") return "1er";
  if (out == "UNIQUE" || out == "Unique") return "unique";
  if (out.size() > 2 && (out.ends_with("ER") || out.ends_with("ère"))) {
    out = out.substr(0, out.size() - (out.ends_with("ER") ? 2 : 4)) + "er";
  }
  return out;
}

std::vector<std::string> NonEmpty(const std::vector<std::string>& path) {
  std::vector<std::string> sp;
  for (const auto& s : path) {
    if (!s.empty()) sp.push_back(s);
  }
  return sp;
}

}  // namespace

bool IsDispositifLine(const std::string& line) {
  static const std::regex kDispositifRe(
      R"(^\s*(?:ARR(?:Ê|E)T(?:E|ENT)|Arr(?:ê|e)t(?:e|ent)|D(?:É|E)CIDE|D(?:é|e)cide|D(?:É|E)CR(?:È|E)TE|D(?:é|e)cr(?:è|e)te|D(?:É|E)LIB(?:È|E)RE|D(?:é|e)lib(?:è|e)re)(?:NT|nt)?\s*:?\s*$)");
  if (line.size() > 40) return false;
  char f = FirstLetter(line);
  if (f != 'A' && f != 'D') return false;
  return std::regex_match(line, kDispositifRe);
}

int HeadingLevel(const std::string& raw_line, std::string* label) {
  if (raw_line.size() > 300) return -1;
  // Markdown headings: "## Article 3" is an article; "## Budget" a heading of its level.
  size_t hashes = 0;
  while (hashes < raw_line.size() && raw_line[hashes] == '#') ++hashes;
  const bool markdown =
      hashes > 0 && hashes <= 6 && hashes < raw_line.size() && raw_line[hashes] == ' ';
  const std::string line = markdown ? raw_line.substr(hashes + 1) : raw_line;
  if (markdown) {
    int level = HeadingLevel(line, label);
    if (level >= 0) return level;
    std::string text = line;
    absl::StripAsciiWhitespace(&text);
    if (text.empty()) return -1;
    if (text.size() > 80) text = text.substr(0, text.rfind(' ', 80));
    if (label != nullptr) *label = text;
    return std::min<int>(kTitre + static_cast<int>(hashes) - 1, kSection);
  }
  const char f = FirstLetter(line);
  // Cheap filters: every heading starts with one of these letters, then one of these words
  // (std::regex is slow enough to show in ingestion profiles when every line reaches it).
  if (std::string_view("ATPLCSDVN").find(f) == std::string_view::npos || f == 0) return -1;
  if (!StartsWithHeadingWord(line)) return -1;
  static const std::regex kArticleRe(
      R"(^\s*(?:ARTICLE|Article|Art\.)\s*(premier|PREMIER|Premier|unique|UNIQUE|Unique|[0-9]+(?:\s?(?:er|ER|ère))?(?:[-.][0-9]+)*|[IVXLC]+)\s*(?:$|[.:\-)]|–|—|\s+(?:[A-Z]|À|É|È|«)))");
  static const std::regex kTitreRe(
      R"(^\s*(TITRE|Titre|PARTIE|Partie|LIVRE|Livre)\s+(PREMIER|premier|[IVXLC]+|[0-9]+(?:er)?)\b)");
  static const std::regex kChapitreRe(
      R"(^\s*(CHAPITRE|Chapitre)\s+(PREMIER|premier|[IVXLC]+|[0-9]+(?:er)?)\b)");
  static const std::regex kSectionRe(
      R"(^\s*(SECTION|Section|SOUS-SECTION|Sous-section)\s+([IVXLC]+|[0-9]+(?:er)?)\b)");
  static const std::regex kAnnexeRe(
      R"(^\s*(?:ANNEXES?|Annexes?)(?:\s+(?:n°\s*)?([IVXLC]+|[0-9]+|[A-Z]))?\s*(?:$|[.:\-]|–|—))");
  static const std::regex kDelibCodeRe(
      R"(^[^A-Za-z0-9]{0,8}((?:DE|DCM|DEL|DL)\s?[-_]?\s?(?:19|20)[0-9]{2}\s?[/\-_]\s?[0-9]{1,4}[A-Za-z]?)\b)");
  static const std::regex kDelibWordRe(
      R"(^\s*(?:DÉLIBÉRATION|DELIBERATION|Délibération|Deliberation)\s+(?:n°|N°|no|n o|n\.|N\.)?\s*([0-9][0-9A-Za-z/\-_.]*[0-9A-Za-z]))");
  static const std::regex kVuRe(R"(^\s*(?:Vu|VU)\b)");
  static const std::regex kConsiderantRe(
      R"(^\s*(?:Considérant|CONSIDÉRANT|CONSIDERANT|Considerant)\b)");
  std::smatch m;
  auto set = [&](std::string l) {
    if (label != nullptr) *label = std::move(l);
  };
  switch (f) {
    case 'A':
      if (std::regex_search(line, m, kArticleRe)) {
        set(absl::StrCat("Article ", ArticleNumber(m[1].str())));
        return kArticle;
      }
      if (std::regex_search(line, m, kAnnexeRe)) {
        set(m[1].matched ? absl::StrCat("Annexe ", m[1].str()) : "Annexe");
        return kTitre;
      }
      return -1;
    case 'T':
    case 'P':
    case 'L':
      if (std::regex_search(line, m, kTitreRe)) {
        std::string kind = m[1].str();
        for (size_t i = 1; i < kind.size(); ++i) kind[i] = static_cast<char>(::tolower(kind[i]));
        std::string num = m[2].str();
        if (num == "PREMIER" || num == "premier") num = "Ier";
        set(absl::StrCat(kind, " ", num));
        return kTitre;
      }
      return -1;
    case 'C':
      if (std::regex_search(line, m, kChapitreRe)) {
        std::string num = m[2].str();
        if (num == "PREMIER" || num == "premier") num = "Ier";
        set(absl::StrCat("Chapitre ", num));
        return kChapitre;
      }
      if (std::regex_search(line, m, kConsiderantRe)) {
        set("Considérants");
        return kPart;
      }
      return -1;
    case 'S':
      if (std::regex_search(line, m, kSectionRe)) {
        set(absl::StrCat(m[1].str().size() > 8 ? "Sous-section " : "Section ", m[2].str()));
        return kSection;
      }
      return -1;
    case 'D':
      if (std::regex_search(line, m, kDelibCodeRe)) {
        set(absl::StrCat("Délibération ", m[1].str()));
        return kDeliberation;
      }
      if (std::regex_search(line, m, kDelibWordRe)) {
        set(absl::StrCat("Délibération ", m[1].str()));
        return kDeliberation;
      }
      return -1;
    case 'V':
      if (std::regex_search(line, m, kVuRe)) {
        set("Visas");
        return kPart;
      }
      return -1;
    default:
      return -1;
  }
}

std::vector<index::PassageRecord> SplitIntoPassages(const std::vector<ExtractedPage>& pages,
                                                    const SplitterOptions& o) {
  std::vector<Unit> units;
  std::vector<std::string> path(kHeadingLevels);
  for (size_t p = 0; p < pages.size(); ++p) {
    const std::string& text = pages[p].text;
    CpCursor cp(text);
    size_t pos = 0;
    while (pos < text.size()) {
      size_t para_end = text.find("\n\n", pos);
      if (para_end == std::string::npos) para_end = text.size();
      size_t unit_start = pos;
      bool unit_heading = false;
      auto emit = [&](size_t b, size_t e, bool heading) {
        while (b < e && (text[b] == ' ' || text[b] == '\n')) ++b;
        while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\n')) --e;
        if (b >= e) return;
        std::vector<std::string> sp = NonEmpty(path);
        for (auto [cb, ce] : CutLong(text, b, e, o)) {
          units.push_back(Unit{static_cast<uint32_t>(p + 1), cp(cb), cp(ce), cb, ce,
                               text.substr(cb, ce - cb), sp, heading});
          heading = false;
        }
      };
      size_t line_start = pos;
      while (line_start < para_end) {
        size_t line_end = text.find('\n', line_start);
        if (line_end == std::string::npos || line_end > para_end) line_end = para_end;
        const std::string line = text.substr(line_start, line_end - line_start);
        std::string label;
        int level = HeadingLevel(line, &label);
        bool dispositif = level < 0 && IsDispositifLine(line);
        // Consecutive « Vu ... » lines stay in one part.
        if (level == kPart && path[kPart] == label) level = -1;
        if (level >= 0 || dispositif) {
          emit(unit_start, line_start, unit_heading);
          if (dispositif) {
            path[kPart].clear();
            path[kArticle].clear();
          } else {
            path[level] = label;
            for (int l = level + 1; l < kHeadingLevels; ++l) path[l].clear();
            // An annex closes the body: its articles no longer apply.
            if (level == kTitre && label.starts_with("Annexe")) {
              for (int l = kChapitre; l < kHeadingLevels; ++l) path[l].clear();
            }
          }
          unit_start = line_start;
          unit_heading = true;
        }
        line_start = line_end + 1;
      }
      emit(unit_start, para_end, unit_heading);
      pos = para_end + 2;
    }
  }

  std::vector<index::PassageRecord> out;
  index::PassageRecord cur;
  size_t cur_chars = 0;
  const Unit* last = nullptr;  // the last unit added to `cur`
  auto add = [&](const Unit& u) {
    if (cur_chars == 0) {
      cur.page_start = u.page;
      cur.char_start = u.start;
      cur.section_path = u.section_path;
    } else if (u.page != cur.page_end || last == nullptr || u.byte_start < last->byte_end) {
      cur.text += "\n\n";
    } else {
      // What separates the units in the page (a line break, a blank line), so that a passage within
      // one page is exactly the page text between its offsets.
      cur.text += pages[u.page - 1].text.substr(last->byte_end, u.byte_start - last->byte_end);
    }
    cur.text += u.text;
    cur.page_end = u.page;
    cur.char_end = u.end;
    cur_chars += u.end - u.start;
    last = &u;
  };
  auto close = [&]() {
    if (cur_chars > 0) out.push_back(std::move(cur));
    cur = index::PassageRecord();
    cur_chars = 0;
  };
  for (const Unit& u : units) {
    const size_t chars = u.end - u.start;
    const bool starts_section = u.heading || (cur_chars > 0 && u.section_path != cur.section_path);
    // Inside a structured part (article, délibération...) a passage may grow to max_chars so that
    // the part stays whole; elsewhere it closes at target_chars.
    const bool structured = !cur.section_path.empty();
    const bool full =
        cur_chars + chars > o.max_chars || (!structured && cur_chars >= o.target_chars);
    if (cur_chars > 0 && (starts_section || full)) {
      const Unit* overlap = starts_section ? nullptr : last;
      close();
      // A long part split in several passages: the next one repeats the end of the previous.
      if (overlap != nullptr && overlap->end - overlap->start <= 2 * o.overlap_chars &&
          overlap->end - overlap->start + chars <= o.max_chars) {
        add(*overlap);
      }
    }
    add(u);
  }
  close();
  return out;
}

}  // namespace greffier::ingest
