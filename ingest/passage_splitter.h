#ifndef GREFFIER_INGEST_PASSAGE_SPLITTER_H_
#define GREFFIER_INGEST_PASSAGE_SPLITTER_H_

#include <string>
#include <vector>

#include "index/records.h"
#include "ingest/extracted.h"

namespace greffier::ingest {

struct SplitterOptions {
  // Outside articles, a passage is closed once it reaches this many code points. Default: 900.
  size_t target_chars = 900;
  // Hard upper bound: an article longer than this is split (with overlap), and longer paragraphs
  // are cut at sentence or word ends. Default: 1500.
  size_t max_chars = 1500;
  // Code points repeated at the start of the next piece when a paragraph or an article is cut.
  // Default: 150.
  size_t overlap_chars = 150;
};

// Levels of the structure of French administrative documents, outermost first.
enum HeadingKind : int {
  kTitre = 0,         // TITRE / PARTIE / LIVRE, and ANNEXE (which closes the articles)
  kChapitre = 1,      // CHAPITRE
  kSection = 2,       // SECTION / Sous-section
  kDeliberation = 3,  // a numbered délibération in council minutes ("DE-2012/86 – ...")
  kPart = 4,          // Visas ("Vu ...") / Considérants ("Considérant ...")
  kArticle = 5,       // Article N, Article 1er, Art. 2, Article unique
  kHeadingLevels = 6,
};

// Splits page texts into passages that keep their page span, code-point offsets into the page
// texts, and section path (e.g. "Chapitre II > Article 7", "Délibération DE-2012/86 >
// Considérants"). A heading starts a new passage; an article is kept whole when it fits in
// max_chars, and longer ones are split with overlap. The « Arrête / Décide » line ends the visas
// and considérants. Ids are left at 0 for the index to assign. Thread-safe (pure).
std::vector<index::PassageRecord> SplitIntoPassages(const std::vector<ExtractedPage>& pages,
                                                    const SplitterOptions& options = {});

// If `line` is a French administrative heading, returns its level (a HeadingKind) and fills `label`
// with its short form (e.g. "Article 7", "Article 1er", "Chapitre II", "Annexe I", "Délibération
// 2012/86", "Visas", "Considérants"); otherwise returns -1. Markdown headings ("# ...") are
// headings too: of their administrative kind when they name one, else of level kTitre, kChapitre or
// kSection by their number of '#', labelled with their text.
int HeadingLevel(const std::string& line, std::string* label);

// Whether `line` is the operative verb that opens the articles: « Arrête », « Arrêtent », « Décide
// », « Décrète », « Délibère ».
bool IsDispositifLine(const std::string& line);

}  // namespace greffier::ingest

#endif  // GREFFIER_INGEST_PASSAGE_SPLITTER_H_
