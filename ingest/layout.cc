#include "ingest/layout.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>

namespace greffier::ingest {
namespace {

// A run of words on one line with no wide gap inside: a line of a column or a table cell.
struct Frag {
  std::string text;
  double x0, y0, x1, y1;
  double fs;
  int words;
  int row;               // index of the page row it belongs to
  bool numeric = false;  // mostly digits: an amount, a date, a reference
};

// Whether most letters and digits of `s` are digits ("1 000,00 €", "26/06/2012").
bool MostlyDigits(const std::string& s) {
  int digits = 0, letters = 0;
  for (unsigned char c : s) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (std::isalpha(c) || c >= 0xC0) {
      ++letters;
    }
  }
  return digits > 0 && digits >= 2 * letters;
}

struct Line {
  std::string text;
  double x0, y0, x1, y1;
  double fs;
};

using Block = std::vector<Line>;

bool Sane(double v) { return std::isfinite(v) && std::fabs(v) < 1e6; }

double Height(const LayoutWord& w) { return std::max(0.1, w.y1 - w.y0); }
double FontSize(const LayoutWord& w) { return w.font_size > 0.5 ? w.font_size : Height(w); }

// Maps a word's box into the frame where its text runs left to right.
LayoutWord Upright(const LayoutWord& w, double width, double height) {
  LayoutWord o = w;
  double ax, ay, bx, by;
  switch (w.rotation & 3) {
    case 1:  // top to bottom
      ax = w.y0, ay = width - w.x0, bx = w.y1, by = width - w.x1;
      break;
    case 2:
      ax = width - w.x0, ay = height - w.y0, bx = width - w.x1, by = height - w.y1;
      break;
    case 3:  // bottom to top
      ax = height - w.y0, ay = w.x0, bx = height - w.y1, by = w.x1;
      break;
    default:
      return o;
  }
  o.x0 = std::min(ax, bx), o.x1 = std::max(ax, bx);
  o.y0 = std::min(ay, by), o.y1 = std::max(ay, by);
  return o;
}

bool IsLowerStart(const std::string& s) {
  if (s.empty()) return false;
  unsigned char c = static_cast<unsigned char>(s[0]);
  if (c >= 'a' && c <= 'z') return true;
  // Latin-1 lower-case letters U+00DF..U+00FF are C3 9F..C3 BF; œ is C5 93.
  if (c == 0xC3 && s.size() > 1) return static_cast<unsigned char>(s[1]) >= 0x9F;
  if (c == 0xC5 && s.size() > 1) return static_cast<unsigned char>(s[1]) == 0x93;
  return false;
}

bool EndsWithLetter(const std::string& s) {
  if (s.empty()) return false;
  unsigned char c = static_cast<unsigned char>(s.back());
  return std::isalpha(c) || c >= 0x80;
}

// Groups the words of one frame into rows (same baseline band) and rows into fragments.
void BuildFragments(std::vector<LayoutWord> words, std::vector<Frag>* frags, int* rows) {
  const size_t first_frag = frags->size();
  std::sort(words.begin(), words.end(),
            [](const LayoutWord& a, const LayoutWord& b) { return a.y0 + a.y1 < b.y0 + b.y1; });
  std::vector<std::vector<const LayoutWord*>> row_words;
  double row_cy = 0, row_h = 0;
  for (const LayoutWord& w : words) {
    double cy = (w.y0 + w.y1) / 2;
    if (row_words.empty() || std::fabs(cy - row_cy) > 0.45 * std::max(Height(w), row_h)) {
      row_words.emplace_back();
      row_cy = cy;
      row_h = Height(w);
    }
    row_words.back().push_back(&w);
  }
  for (auto& rw : row_words) {
    std::sort(rw.begin(), rw.end(),
              [](const LayoutWord* a, const LayoutWord* b) { return a->x0 < b->x0; });
    const int row = (*rows)++;
    // Justified lines stretch every space alike: a cell boundary is a gap much wider than the row's
    // usual one.
    std::vector<double> gaps;
    for (size_t i = 1; i < rw.size(); ++i) gaps.push_back(rw[i]->x0 - rw[i - 1]->x1);
    double median_gap = 0;
    if (gaps.size() >= 3) {
      std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
      median_gap = gaps[gaps.size() / 2];
    }
    Frag* cur = nullptr;
    const LayoutWord* prev = nullptr;
    for (const LayoutWord* w : rw) {
      // Some producers draw bold text twice at the same place.
      if (prev != nullptr && w->text == prev->text && std::fabs(w->x0 - prev->x0) < 1 &&
          std::fabs(w->y0 - prev->y0) < 1) {
        continue;
      }
      double fs = FontSize(*w);
      double gap = prev == nullptr ? 0 : w->x0 - prev->x1;
      if (cur == nullptr || (gap > 1.0 * std::max(fs, FontSize(*prev)) && gap > 2.0 * median_gap)) {
        frags->push_back(Frag{w->text, w->x0, w->y0, w->x1, w->y1, fs, 1, row, false});
        cur = &frags->back();
      } else {
        if (prev->space_after || gap > 0.15 * fs) cur->text += ' ';
        cur->text += w->text;
        cur->x0 = std::min(cur->x0, w->x0);
        cur->x1 = std::max(cur->x1, w->x1);
        cur->y0 = std::min(cur->y0, w->y0);
        cur->y1 = std::max(cur->y1, w->y1);
        cur->fs = std::max(cur->fs, fs);
        ++cur->words;
      }
      prev = w;
    }
  }
  for (size_t i = first_frag; i < frags->size(); ++i) {
    (*frags)[i].numeric = MostlyDigits((*frags)[i].text);
  }
}

// Looks for a vertical band that splits `ids` into two columns of running text.
bool FindGutter(const std::vector<Frag>& f, const std::vector<int>& ids, double* gutter) {
  if (ids.size() < 6) return false;
  double minx = 1e18, maxx = -1e18;
  for (int i : ids) minx = std::min(minx, f[i].x0), maxx = std::max(maxx, f[i].x1);
  const double span = maxx - minx;
  if (span <= 0) return false;
  size_t best_cross = ids.size();
  size_t best_min_side = 0;
  bool found = false;
  // About one candidate per point of width: hostile pages may hold 10^5 fragments.
  constexpr size_t kSlots = 2048;
  std::vector<bool> tried(kSlots, false);
  for (int c : ids) {
    const double x = f[c].x1 + 0.5;
    if (x < minx + 0.2 * span || x > maxx - 0.2 * span) continue;
    const size_t slot = static_cast<size_t>((x - minx) / span * (kSlots - 1));
    if (slot >= kSlots || tried[slot]) continue;
    tried[slot] = true;
    size_t left = 0, right = 0, lw = 0, rw = 0, lnum = 0, rnum = 0;
    double ly0 = 1e18, ly1 = -1e18, ry0 = 1e18, ry1 = -1e18;
    for (int i : ids) {
      if (f[i].x1 <= x) {
        ++left, lw += f[i].words, lnum += f[i].numeric;
        ly0 = std::min(ly0, f[i].y0), ly1 = std::max(ly1, f[i].y1);
      } else if (f[i].x0 >= x) {
        ++right, rw += f[i].words, rnum += f[i].numeric;
        ry0 = std::min(ry0, f[i].y0), ry1 = std::max(ry1, f[i].y1);
      }
    }
    const size_t cross = ids.size() - left - right;
    if (left < 3 || right < 3 || cross >= std::min(left, right)) continue;
    // Columns of running text, not the cells of a table.
    if (lw < 2 * left || rw < 2 * right || (lw < 3 * left && rw < 3 * right)) continue;
    // A column of amounts or dates is a table column.
    if (2 * lnum > left || 2 * rnum > right) continue;
    const double overlap = std::min(ly1, ry1) - std::max(ly0, ry0);
    if (overlap < 0.3 * std::min(ly1 - ly0, ry1 - ry0)) continue;
    const size_t min_side = std::min(left, right);
    if (!found || cross < best_cross || (cross == best_cross && min_side > best_min_side)) {
      found = true;
      best_cross = cross;
      best_min_side = min_side;
      *gutter = x;
    }
  }
  return found;
}

void RowsToBlock(const std::vector<Frag>& f, std::vector<int> ids, const std::string& sep,
                 std::vector<Block>* out) {
  if (ids.empty()) return;
  std::sort(ids.begin(), ids.end(), [&](int a, int b) {
    return f[a].row != f[b].row ? f[a].row < f[b].row : f[a].x0 < f[b].x0;
  });
  Block block;
  int row = -1;
  for (int i : ids) {
    if (f[i].row != row) {
      block.push_back(Line{f[i].text, f[i].x0, f[i].y0, f[i].x1, f[i].y1, f[i].fs});
      row = f[i].row;
    } else {
      Line& l = block.back();
      l.text += sep;
      l.text += f[i].text;
      l.x1 = std::max(l.x1, f[i].x1);
      l.y0 = std::min(l.y0, f[i].y0);
      l.y1 = std::max(l.y1, f[i].y1);
      l.fs = std::max(l.fs, f[i].fs);
    }
  }
  out->push_back(std::move(block));
}

// Recursive reading order: columns left to right between full-width elements.
void Order(const std::vector<Frag>& f, const std::vector<int>& ids, int depth,
           const std::string& sep, std::vector<Block>* out) {
  double gutter = 0;
  if (depth >= 4 || !FindGutter(f, ids, &gutter)) {
    RowsToBlock(f, ids, sep, out);
    return;
  }
  std::vector<int> spanning;
  for (int i : ids) {
    if (f[i].x0 < gutter && f[i].x1 > gutter) spanning.push_back(i);
  }
  std::sort(spanning.begin(), spanning.end(),
            [&](int a, int b) { return f[a].y0 + f[a].y1 < f[b].y0 + f[b].y1; });
  std::vector<double> centers;
  for (int i : spanning) centers.push_back((f[i].y0 + f[i].y1) / 2);
  // Segment k holds the fragments between spanning element k-1 and k.
  std::vector<std::vector<int>> left(spanning.size() + 1), right(spanning.size() + 1);
  for (int i : ids) {
    if (f[i].x0 < gutter && f[i].x1 > gutter) continue;
    const double cy = (f[i].y0 + f[i].y1) / 2;
    const size_t k =
        static_cast<size_t>(std::lower_bound(centers.begin(), centers.end(), cy) - centers.begin());
    (f[i].x1 <= gutter ? left : right)[k].push_back(i);
  }
  std::vector<int> run;  // consecutive spanning elements form one block
  for (size_t k = 0; k <= spanning.size(); ++k) {
    if (!left[k].empty() || !right[k].empty()) {
      RowsToBlock(f, run, sep, out);
      run.clear();
      Order(f, left[k], depth + 1, sep, out);
      Order(f, right[k], depth + 1, sep, out);
    }
    if (k < spanning.size()) run.push_back(spanning[k]);
  }
  RowsToBlock(f, run, sep, out);
}

// Digits masked, spaces collapsed, lower-cased ASCII: the identity of a running line.
std::string RunningKey(const std::string& s) {
  std::string k;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (k.empty() || k.back() != '#') k.push_back('#');
    } else if (c == ' ') {
      if (!k.empty() && k.back() != ' ') k.push_back(' ');
    } else {
      k.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return k;
}

struct PageFrags {
  int rotation = 0;
  double width = 0, height = 0;
  std::vector<Frag> frags;
  int rows = 0;
  std::vector<std::string> row_text;  // fragments of each row joined
  std::vector<double> row_y;          // centre of each row
  std::vector<double> row_fs;
  std::vector<bool> row_has_number;  // one of its fragments is a page number
};

void JoinLine(std::string* para, const std::string& line, bool dehyphenate) {
  if (para->empty()) {
    *para = line;
    return;
  }
  if (dehyphenate && para->size() >= 2 && para->back() == '-' &&
      EndsWithLetter(para->substr(0, para->size() - 1)) && IsLowerStart(line)) {
    // The word continues: move its end up to this line.
    para->pop_back();
    size_t sp = line.find(' ');
    if (sp == std::string::npos) {
      *para += line;
    } else {
      *para += line.substr(0, sp);
      *para += '\n';
      *para += line.substr(sp + 1);
    }
    return;
  }
  // U+00AD soft hyphen at a line end.
  if (dehyphenate && para->size() >= 2 && para->compare(para->size() - 2, 2, "\xC2\xAD") == 0) {
    para->resize(para->size() - 2);
    *para += line;
    return;
  }
  *para += '\n';
  *para += line;
}

std::string BlocksToText(const std::vector<Block>& blocks, bool dehyphenate) {
  std::vector<double> gaps;
  for (const Block& b : blocks) {
    for (size_t i = 1; i < b.size(); ++i) gaps.push_back(b[i].y0 - b[i - 1].y1);
  }
  double median_gap = 0;
  if (!gaps.empty()) {
    // The lower median: with few lines, the paragraph gap must not become the norm.
    std::nth_element(gaps.begin(), gaps.begin() + (gaps.size() - 1) / 2, gaps.end());
    median_gap = gaps[(gaps.size() - 1) / 2];
  }
  std::string out;
  for (const Block& b : blocks) {
    double bx0 = 1e18, bx1 = -1e18;
    for (const Line& l : b) bx0 = std::min(bx0, l.x0), bx1 = std::max(bx1, l.x1);
    std::string para;
    auto flush = [&]() {
      if (para.empty()) return;
      if (!out.empty()) out += "\n\n";
      out += para;
      para.clear();
    };
    for (size_t i = 0; i < b.size(); ++i) {
      if (i > 0) {
        const Line& p = b[i - 1];
        const Line& l = b[i];
        const double fs = std::min(p.fs, l.fs);
        const double gap = l.y0 - p.y1;
        bool brk = gap > std::max(median_gap, 0.0) + 0.5 * fs || std::fabs(l.fs - p.fs) > 1.0;
        // A short line ending a sentence closes its paragraph.
        if (!brk && !p.text.empty() && p.x1 < bx1 - 0.3 * (bx1 - bx0)) {
          char last = p.text.back();
          brk = last == '.' || last == ':' || last == ';';
        }
        if (brk) flush();
      }
      JoinLine(&para, b[i].text, dehyphenate);
    }
    flush();
  }
  return out;
}

}  // namespace

bool IsPageNumberLine(const std::string& line) {
  static const std::regex kPage(
      R"(^[\s\-–—]*(?:(?:page|pages|p\.|pp\.)\s*)?[0-9]{1,4}\s*(?:(?:/|sur|of|de)\s*[0-9]{1,4})?[\s\-–—]*$)",
      std::regex::icase);
  if (line.size() > 40) return false;
  return std::regex_match(line, kPage);
}

std::vector<std::string> ComposePages(const std::vector<LayoutPage>& pages,
                                      const TextLayoutOptions& o) {
  // Each page may hold several frames (text at different rotations); the dominant one first.
  std::vector<std::vector<PageFrags>> frames(pages.size());
  for (size_t p = 0; p < pages.size(); ++p) {
    std::map<int, std::vector<LayoutWord>> by_rot;
    std::map<int, size_t> chars;
    const double pw = Sane(pages[p].width) && pages[p].width > 1 ? pages[p].width : 595;
    const double ph = Sane(pages[p].height) && pages[p].height > 1 ? pages[p].height : 842;
    for (const LayoutWord& w : pages[p].words) {
      // Hostile files yield NaN or huge coordinates, which would break the sorting.
      if (w.text.empty() || !Sane(w.x0) || !Sane(w.x1) || !Sane(w.y0) || !Sane(w.y1) ||
          !std::isfinite(w.font_size)) {
        continue;
      }
      by_rot[w.rotation & 3].push_back(Upright(w, pw, ph));
      chars[w.rotation & 3] += w.text.size();
    }
    std::vector<int> rots;
    for (auto& [r, _] : by_rot) rots.push_back(r);
    std::sort(rots.begin(), rots.end(), [&](int a, int b) { return chars[a] > chars[b]; });
    for (int r : rots) {
      PageFrags pf;
      pf.rotation = r;
      const bool swap = (r & 1) != 0;
      pf.width = swap ? ph : pw;
      pf.height = swap ? pw : ph;
      BuildFragments(std::move(by_rot[r]), &pf.frags, &pf.rows);
      pf.row_text.resize(pf.rows);
      pf.row_y.assign(pf.rows, 0);
      pf.row_fs.assign(pf.rows, 0);
      pf.row_has_number.assign(pf.rows, false);
      for (const Frag& f : pf.frags) {
        if (!pf.row_text[f.row].empty()) pf.row_text[f.row] += ' ';
        pf.row_text[f.row] += f.text;
        pf.row_y[f.row] = (f.y0 + f.y1) / 2;
        pf.row_fs[f.row] = std::max(pf.row_fs[f.row], f.fs);
        if (IsPageNumberLine(f.text)) pf.row_has_number[f.row] = true;
      }
      frames[p].push_back(std::move(pf));
    }
  }

  // Running lines are searched in the upright frame (rotated tables repeat their own column titles,
  // which are kept).
  auto upright = [&](size_t p) -> int {
    for (size_t i = 0; i < frames[p].size(); ++i) {
      if (frames[p][i].rotation == 0) return static_cast<int>(i);
    }
    return -1;
  };
  // Running lines: among the first four and last three rows of the upright frame, in the top or
  // bottom 15% of the page.
  std::vector<std::vector<bool>> drop_row(pages.size());
  if (o.drop_running_lines) {
    std::map<std::string, int> exact, masked;
    struct Cand {
      size_t page;
      int row;
      std::string key;
    };
    std::vector<Cand> cands;
    // Body font size: median over rows.
    std::vector<double> all_fs;
    for (size_t p = 0; p < frames.size(); ++p) {
      if (upright(p) < 0) continue;
      for (double fs : frames[p][upright(p)].row_fs) all_fs.push_back(fs);
    }
    double body_fs = 0;
    if (!all_fs.empty()) {
      std::nth_element(all_fs.begin(), all_fs.begin() + all_fs.size() / 2, all_fs.end());
      body_fs = all_fs[all_fs.size() / 2];
    }
    for (size_t p = 0; p < frames.size(); ++p) {
      if (upright(p) < 0) continue;
      const PageFrags& pf = frames[p][upright(p)];
      drop_row[p].assign(pf.rows, false);
      for (int r = 0; r < pf.rows; ++r) {
        // A running line sits above or below the body: never the page's only content (other frames,
        // such as a table printed sideways, are content too).
        const bool other_frames = frames[p].size() > 1;
        const bool first = r < 4 && (other_frames || r < pf.rows - 1);
        const bool last = r >= pf.rows - 3 && (other_frames || r > 0);
        const bool top = first && pf.row_y[r] < 0.15 * pf.height;
        const bool bottom = last && pf.row_y[r] > 0.85 * pf.height;
        if (!top && !bottom) continue;
        if (IsPageNumberLine(pf.row_text[r])) {
          drop_row[p][r] = true;
          continue;
        }
        std::string exact_key = std::string(top ? "T" : "B") + pf.row_text[r];
        std::string masked_key = std::string(top ? "T" : "B") + RunningKey(pf.row_text[r]);
        ++exact[exact_key];
        // Lines that differ only by digits ("Page 3", "RAA n° 70 du 7 mai 2025 - 12") count
        // together when they are set smaller than the body text or carry a page number.
        cands.push_back(Cand{p, r, exact_key});
        if (pf.row_fs[r] < body_fs - 0.5 || pf.row_has_number[r]) {
          ++masked[masked_key];
          cands.push_back(Cand{p, r, "\x01" + masked_key});
        }
      }
    }
    // Long documents mix layouts (portrait text, landscape annexes): a few repeats suffice.
    const double need =
        std::max(2.0, std::min(4.0, o.running_min_fraction * static_cast<double>(pages.size())));
    for (const Cand& c : cands) {
      int n = c.key[0] == '\x01' ? masked[c.key.substr(1)] : exact[c.key];
      if (n >= need) drop_row[c.page][c.row] = true;
    }
  }

  std::vector<std::string> out(pages.size());
  for (size_t p = 0; p < frames.size(); ++p) {
    for (size_t fi = 0; fi < frames[p].size(); ++fi) {
      const PageFrags& pf = frames[p][fi];
      std::vector<int> ids;
      for (size_t i = 0; i < pf.frags.size(); ++i) {
        if (static_cast<int>(fi) == upright(p) && !drop_row[p].empty() &&
            drop_row[p][pf.frags[i].row]) {
          continue;
        }
        ids.push_back(static_cast<int>(i));
      }
      std::vector<Block> frame_blocks;
      Order(pf.frags, ids, 0, o.cell_separator, &frame_blocks);
      std::string text = BlocksToText(frame_blocks, o.dehyphenate);
      if (text.empty()) continue;
      if (!out[p].empty()) out[p] += "\n\n";
      out[p] += text;
    }
  }
  return out;
}

}  // namespace greffier::ingest
