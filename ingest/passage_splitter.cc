#include "ingest/passage_splitter.h"

#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ingest/text_normalize.h"

namespace greffier::ingest {
namespace {

// A piece of one page's text: one paragraph, or part of a long one.
struct Unit {
  uint32_t page;  // 1-based
  uint32_t start;  // code points into the page text
  uint32_t end;
  std::string text;
  std::vector<std::string> section_path;
  bool heading = false;
};

// Byte offset -> code point offset, for a string scanned left to right.
uint32_t CpOffset(std::string_view s, size_t byte) {
  return static_cast<uint32_t>(CodePointCount(s.substr(0, byte)));
}

// Cuts a long paragraph [begin, end) of `text` into pieces of at most max bytes-ish,
// preferring sentence ends, then spaces; consecutive pieces overlap.
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
    // Start the overlap at a word boundary.
    while (next < cut && text[next] != ' ') ++next;
    while (next < end && (text[next] == ' ' || text[next] == '\n')) ++next;
    if (next <= pos) next = cut;
    pos = next;
  }
  return out;
}

}  // namespace

int HeadingLevel(const std::string& line, std::string* label) {
  static const std::regex kHeading(
      R"(^\s*(TITRE|Titre|PARTIE|Partie|CHAPITRE|Chapitre|SECTION|Section|ARTICLE|Article|Art\.|ANNEXE|Annexe)\s+((?:[IVXLC]+|[0-9]+(?:er|ère|re)?|premier|unique|[A-Z])(?:[\-.][0-9A-Za-z]+)*)\b\.?)");
  if (line.size() > 200) return -1;
  std::smatch m;
  if (!std::regex_search(line, m, kHeading)) return -1;
  std::string kind = m[1].str();
  for (size_t i = 1; i < kind.size(); ++i) kind[i] = static_cast<char>(::tolower(kind[i]));
  int level = 3;
  if (kind == "Titre" || kind == "Partie") level = 0;
  if (kind == "Chapitre") level = 1;
  if (kind == "Section") level = 2;
  if (kind == "Art.") kind = "Article";
  if (label != nullptr) *label = absl::StrCat(kind, " ", m[2].str());
  return level;
}

std::vector<index::PassageRecord> SplitIntoPassages(const std::vector<ExtractedPage>& pages,
                                                    const SplitterOptions& o) {
  std::vector<Unit> units;
  std::vector<std::string> path(4);
  for (size_t p = 0; p < pages.size(); ++p) {
    const std::string& text = pages[p].text;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t para_end = text.find("\n\n", pos);
      if (para_end == std::string::npos) para_end = text.size();
      // A heading line inside a paragraph also opens a new unit.
      size_t line_start = pos;
      size_t unit_start = pos;
      auto emit = [&](size_t b, size_t e, bool heading) {
        while (b < e && (text[b] == ' ' || text[b] == '\n')) ++b;
        while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\n')) --e;
        if (b >= e) return;
        std::vector<std::string> sp;
        for (const auto& s : path) {
          if (!s.empty()) sp.push_back(s);
        }
        for (auto [cb, ce] : CutLong(text, b, e, o)) {
          units.push_back(Unit{static_cast<uint32_t>(p + 1), CpOffset(text, cb), CpOffset(text, ce),
                               text.substr(cb, ce - cb), sp, heading});
          heading = false;
        }
      };
      while (line_start < para_end) {
        size_t line_end = text.find('\n', line_start);
        if (line_end == std::string::npos || line_end > para_end) line_end = para_end;
        std::string label;
        int level = HeadingLevel(text.substr(line_start, line_end - line_start), &label);
        if (level >= 0) {
          emit(unit_start, line_start, false);
          path[level] = label;
          for (int l = level + 1; l < 4; ++l) path[l].clear();
          unit_start = line_start;
          // The heading and what follows belong together.
          std::vector<std::string> sp;
          for (const auto& s : path) {
            if (!s.empty()) sp.push_back(s);
          }
          size_t stop = para_end;
          // Stop at the next heading line in the same paragraph.
          size_t ls = line_end < para_end ? line_end + 1 : para_end;
          while (ls < para_end) {
            size_t le = text.find('\n', ls);
            if (le == std::string::npos || le > para_end) le = para_end;
            if (HeadingLevel(text.substr(ls, le - ls), nullptr) >= 0) {
              stop = ls;
              break;
            }
            ls = le + 1;
          }
          emit(unit_start, stop, true);
          unit_start = stop;
          line_start = stop;
          continue;
        }
        line_start = line_end + 1;
      }
      emit(unit_start, para_end, false);
      pos = para_end + 2;
    }
  }

  std::vector<index::PassageRecord> out;
  index::PassageRecord cur;
  size_t cur_chars = 0;
  auto close = [&]() {
    if (cur_chars > 0) out.push_back(std::move(cur));
    cur = index::PassageRecord();
    cur_chars = 0;
  };
  for (Unit& u : units) {
    size_t chars = u.end - u.start;
    bool starts_section = u.heading || (cur_chars > 0 && u.section_path != cur.section_path);
    if (cur_chars > 0 && (starts_section || cur_chars + chars > o.max_chars ||
                          cur_chars >= o.target_chars)) {
      close();
    }
    if (cur_chars == 0) {
      cur.page_start = u.page;
      cur.char_start = u.start;
      cur.section_path = u.section_path;
    } else {
      cur.text += u.page != cur.page_end ? "\n\n" : "\n";
    }
    cur.text += u.text;
    cur.page_end = u.page;
    cur.char_end = u.end;
    cur_chars += chars;
  }
  close();
  return out;
}

}  // namespace greffier::ingest
