#ifndef GREFFIER_INGEST_PASSAGE_SPLITTER_H_
#define GREFFIER_INGEST_PASSAGE_SPLITTER_H_

#include <string>
#include <vector>

#include "index/records.h"
#include "ingest/extracted.h"

namespace greffier::ingest {

struct SplitterOptions {
  // A passage is closed once it reaches this many code points. Default: 900.
  size_t target_chars = 900;
  // Hard upper bound: longer paragraphs are cut at sentence or word ends. Default: 1500.
  size_t max_chars = 1500;
  // Code points repeated at the start of the next piece when a paragraph is cut.
  // Default: 150.
  size_t overlap_chars = 150;
};

// Splits page texts into passages that keep their page span, code-point offsets into the
// page texts, and section path (Titre / Chapitre / Section / Article / Annexe headings).
// A heading always starts a new passage so that an article is not mixed with the next.
// Ids are left at 0 for the index to assign. Thread-safe (pure function).
std::vector<index::PassageRecord> SplitIntoPassages(const std::vector<ExtractedPage>& pages,
                                                    const SplitterOptions& options = {});

// If `line` is a French administrative heading, returns its level (0 = Titre/Partie,
// 1 = Chapitre, 2 = Section, 3 = Article/Annexe) and fills `label` with its short form
// (e.g. "Article 7", "Chapitre II"); otherwise returns -1.
int HeadingLevel(const std::string& line, std::string* label);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_PASSAGE_SPLITTER_H_
