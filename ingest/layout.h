#ifndef GREFFIER_INGEST_LAYOUT_H_
#define GREFFIER_INGEST_LAYOUT_H_

// Layout analysis of word boxes: reading order, running headers and footers, hyphenation, table
// rows. Independent of Poppler so that it can be tested on synthetic boxes.

#include <string>
#include <vector>

namespace greffier::ingest {

// One word as placed on the page. Coordinates are in points with the origin at the top-left corner
// of the page and y growing downwards.
struct LayoutWord {
  std::string text;  // UTF-8
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  double font_size = 0;  // 0 when unknown: the box height is used instead
                         // (sizes are only compared with each other)
  bool space_after = true;
  int rotation = 0;  // 0..3, quarter turns clockwise of the text direction
};

struct LayoutPage {
  double width = 595;
  double height = 842;
  std::vector<LayoutWord> words;
};

struct TextLayoutOptions {
  // Drop lines repeated at the top or bottom of several pages, and page-number lines. Default:
  // true.
  bool drop_running_lines = true;
  // A repeated top/bottom line is dropped when it appears on at least this fraction of the pages,
  // or on four pages, and on two pages at least. Default: 0.4.
  double running_min_fraction = 0.4;
  // Join "régle-" + "mentation" at line ends. Default: true.
  bool dehyphenate = true;
  // Cells of a table row (fragments of one line separated by wide gaps) are joined with this
  // separator. Default: " | ".
  std::string cell_separator = " | ";
};

// Turns the words of each page into page texts (UTF-8, not yet normalised): lines in reading order
// (columns one after the other), paragraphs separated by blank lines. Returns one string per input
// page. Thread-safe (pure function).
std::vector<std::string> ComposePages(const std::vector<LayoutPage>& pages,
                                      const TextLayoutOptions& options = {});

// Whether `line` is only a page number ("12", "- 3 -", "Page 2/5", "p. 4 sur 9").
bool IsPageNumberLine(const std::string& line);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_LAYOUT_H_
