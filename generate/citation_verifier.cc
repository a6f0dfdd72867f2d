#include "generate/citation_verifier.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "generate/answer_text.h"

namespace greffier::generate {
namespace {

// Removes [n] / [n, m] markers from `text`, collecting the numbers.
std::string StripMarkers(const std::string& text, std::vector<int>* cited) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '[') {
      size_t j = i + 1;
      std::vector<int> nums;
      int cur = -1;
      bool ok = true;
      while (j < text.size() && text[j] != ']') {
        char c = text[j];
        if (c >= '0' && c <= '9') {
          cur = (cur < 0 ? 0 : cur * 10) + (c - '0');
          if (cur > 100000) ok = false;
        } else if (c == ',' || c == ' ') {
          if (cur >= 0) nums.push_back(cur);
          cur = -1;
        } else {
          ok = false;
          break;
        }
        ++j;
      }
      if (ok && j < text.size() && (cur >= 0 || !nums.empty())) {
        if (cur >= 0) nums.push_back(cur);
        for (int n : nums) {
          if (std::find(cited->begin(), cited->end(), n) == cited->end()) cited->push_back(n);
        }
        i = j + 1;
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  // Tidy spaces left by removed markers.
  std::string tidy;
  for (char c : out) {
    if (c == ' ' && (tidy.empty() || tidy.back() == ' ')) continue;
    if ((c == '.' || c == ',') && !tidy.empty() && tidy.back() == ' ') tidy.pop_back();
    tidy.push_back(c);
  }
  while (!tidy.empty() && tidy.back() == ' ') tidy.pop_back();
  return tidy;
}

}  // namespace

VerifiedAnswer VerifyCitations(const std::string& answer, const std::vector<ShownPassage>& shown,
                               const VerifierOptions& options) {
  VerifiedAnswer out;
  // Sentence ends come before the markers ("... 2024. [1]") or after ("... 2024 [1]."):
  // split first, then move leading markers back to the previous sentence.
  std::vector<Sentence> raw = SplitSentences(answer);
  std::vector<std::pair<std::string, std::vector<int>>> parts;
  for (const Sentence& s : raw) {
    std::string text = s.text;
    std::vector<int> lead;
    while (!text.empty() && text[0] == '[') {
      size_t close = text.find(']');
      if (close == std::string::npos) break;
      std::vector<int> nums;
      std::string rest = StripMarkers(text.substr(0, close + 1), &nums);
      if (!rest.empty() || nums.empty()) break;
      lead.insert(lead.end(), nums.begin(), nums.end());
      text = text.substr(close + 1);
      while (!text.empty() && text[0] == ' ') text.erase(0, 1);
    }
    if (!lead.empty() && !parts.empty()) {
      for (int n : lead) parts.back().second.push_back(n);
    }
    std::vector<int> cited;
    std::string clean = StripMarkers(text, &cited);
    if (clean.empty()) continue;
    parts.emplace_back(std::move(clean), std::move(cited));
  }
  for (size_t i = parts.size(); i-- > 1;) {
    if (parts[i - 1].second.empty()) parts[i - 1].second = parts[i].second;
  }

  for (auto& [text, cited] : parts) {
    CheckedSentence c;
    c.text = text;
    for (int n : cited) {
      bool known = std::any_of(shown.begin(), shown.end(),
                               [n](const ShownPassage& p) { return p.number == n; });
      (known ? c.cited : c.unknown_citations).push_back(n);
    }
    std::vector<std::string> terms = ContentTerms(text);
    std::set<std::string> wanted(terms.begin(), terms.end());
    std::vector<std::string> numbers = NumbersIn(text);
    for (int n : c.cited) {
      const ShownPassage& p = *std::find_if(shown.begin(), shown.end(),
                                            [n](const ShownPassage& s) { return s.number == n; });
      std::vector<Sentence> ps = SplitSentences(p.text);
      for (size_t a = 0; a < ps.size(); ++a) {
        std::set<std::string> have;
        std::string window_text;
        for (size_t b = a; b < ps.size() && b < a + 3; ++b) {
          for (auto& t : ContentTerms(ps[b].text)) have.insert(std::move(t));
          window_text += ps[b].text + " ";
          size_t hit = 0;
          for (const auto& t : wanted) hit += have.count(t);
          double support = wanted.empty() ? 1.0 : static_cast<double>(hit) / wanted.size();
          if (options.require_numbers) {
            std::vector<std::string> have_numbers = NumbersIn(window_text);
            for (const auto& num : numbers) {
              if (std::find(have_numbers.begin(), have_numbers.end(), num) == have_numbers.end()) {
                support = std::min(support, options.min_support * 0.5);
              }
            }
          }
          // The best support wins; among equals, the shortest span (then the earliest).
          const size_t span = ps[b].end - ps[a].begin;
          const bool better =
              support > c.support + 1e-9 || (support > c.support - 1e-9 && c.support_passage == n &&
                                             span < c.support_end - c.support_begin);
          if (better) {
            c.support = support;
            c.support_passage = n;
            c.support_begin = ps[a].begin;
            c.support_end = ps[b].end;
          }
        }
      }
    }
    c.supported = !c.cited.empty() && c.unknown_citations.empty() &&
                  c.support >= options.min_support && !LooksLikeInstruction(text);
    out.any_supported |= c.supported;
    out.sentences.push_back(std::move(c));
  }
  return out;
}

std::string KeepSupported(const VerifiedAnswer& verified) {
  std::string out;
  for (const auto& s : verified.sentences) {
    if (!s.supported) continue;
    if (!out.empty()) out += " ";
    std::string body = s.text;
    std::string end;
    if (!body.empty() && (body.back() == '.' || body.back() == '?' || body.back() == '!')) {
      end = std::string(1, body.back());
      body.pop_back();
    }
    out += body;
    if (!s.cited.empty()) {
      out += " [";
      for (size_t i = 0; i < s.cited.size(); ++i) absl::StrAppend(&out, i ? ", " : "", s.cited[i]);
      out += "]";
    }
    out += end;
  }
  return out;
}

}  // namespace greffier::generate
