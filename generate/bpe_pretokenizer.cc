#include "generate/bpe_pretokenizer.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "generate/unicode.h"

namespace greffier::generate {
namespace {

// One decoded character of the text.
struct Ch {
  uint32_t off;    // byte offset in the text
  char32_t cp;     // code point (0xFFFD for invalid bytes)
  uint32_t flags;  // CodepointFlag bits
};

constexpr uint32_t kLN = kCpLetter | kCpNumber;

class Scanner {
 public:
  explicit Scanner(const std::vector<Ch>& chars) : c_(chars), n_(chars.size()) {}

  bool Is(size_t i, uint32_t flag) const { return i < n_ && (c_[i].flags & flag) != 0; }
  bool IsSpace(size_t i) const { return Is(i, kCpWhitespace); }
  bool IsLetter(size_t i) const { return Is(i, kCpLetter); }
  bool IsNumber(size_t i) const { return Is(i, kCpNumber); }
  // [^\s\p{L}\p{N}]
  bool IsOther(size_t i) const { return i < n_ && (c_[i].flags & (kLN | kCpWhitespace)) == 0; }
  bool IsNewline(size_t i) const { return i < n_ && (c_[i].cp == '\r' || c_[i].cp == '\n'); }
  char32_t Cp(size_t i) const { return i < n_ ? c_[i].cp : 0; }
  size_t size() const { return n_; }

  // Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
  size_t Contraction(size_t i, bool ignore_case) const {
    if (Cp(i) != '\'') return 0;
    auto lower = [&](size_t k) -> char32_t {
      char32_t c = Cp(k);
      if (ignore_case && c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
      return c;
    };
    const char32_t a = lower(i + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    const char32_t b = lower(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
      return 3;
    }
    return 0;
  }

  size_t SkipWhile(size_t i, uint32_t flag) const {
    while (Is(i, flag)) ++i;
    return i;
  }
  size_t SkipOther(size_t i) const {
    while (IsOther(i)) ++i;
    return i;
  }
  size_t SkipNewlines(size_t i) const {
    while (IsNewline(i)) ++i;
    return i;
  }

  // \s+(?!\S)|\s+ at i (i is whitespace): the run, less its last character
  // when a non-space follows and the run is longer than one.
  size_t WhitespaceTail(size_t i) const {
    const size_t j = SkipWhile(i, kCpWhitespace);
    if (j < n_ && j - i >= 2) return j - 1;
    return j;
  }

 private:
  const std::vector<Ch>& c_;
  size_t n_;
};

size_t NextGpt2(const Scanner& s, size_t i) {
  if (size_t len = s.Contraction(i, /*ignore_case=*/false)) return i + len;
  const size_t k = s.Cp(i) == ' ' ? i + 1 : i;
  if (s.IsLetter(k)) return s.SkipWhile(k, kCpLetter);
  if (s.IsNumber(k)) return s.SkipWhile(k, kCpNumber);
  if (s.IsOther(k)) return s.SkipOther(k);
  return s.WhitespaceTail(i);
}

size_t NextLlama3(const Scanner& s, size_t i, size_t max_digits) {
  if (size_t len = s.Contraction(i, /*ignore_case=*/true)) return i + len;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (s.IsLetter(i)) return s.SkipWhile(i, kCpLetter);
  if (!s.IsNewline(i) && !s.IsNumber(i) && s.IsLetter(i + 1)) {
    return s.SkipWhile(i + 1, kCpLetter);
  }
  // \p{N}{1,max}
  if (s.IsNumber(i)) {
    size_t j = i;
    while (j - i < max_digits && s.IsNumber(j)) ++j;
    return j;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  const size_t k = s.Cp(i) == ' ' ? i + 1 : i;
  if (s.IsOther(k)) return s.SkipNewlines(s.SkipOther(k));
  // \s*[\r\n]+ : up to and including the run's last newline.
  const size_t j = s.SkipWhile(i, kCpWhitespace);
  for (size_t m = j; m > i; --m) {
    if (s.IsNewline(m - 1)) return m;
  }
  return s.WhitespaceTail(i);
}

}  // namespace

absl::StatusOr<PreTokenizerKind> PreTokenizerFromName(std::string_view name) {
  if (name.empty() || name == "default" || name == "gpt-2" || name == "gpt2") {
    return PreTokenizerKind::kGpt2;
  }
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3" || name == "smaug-bpe") {
    return PreTokenizerKind::kLlama3;
  }
  if (name == "qwen2" || name == "deepseek-r1-qwen") {
    return PreTokenizerKind::kQwen2;
  }
  return absl::UnimplementedError(absl::StrCat("unsupported byte-level BPE pre-tokenizer '",
                                               std::string(name),
                                               "' (supported: default, gpt-2, llama-bpe, qwen2)"));
}

void PreTokenize(PreTokenizerKind kind, std::string_view text,
                 std::vector<std::string_view>* pieces) {
  std::vector<Ch> chars;
  chars.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = DecodeUtf8(text, i);
    chars.push_back({static_cast<uint32_t>(i), c.cp, c.valid ? CodepointFlags(c.cp) : 0u});
    i += c.len;
  }
  const Scanner s(chars);
  const size_t n = chars.size();
  for (size_t i = 0; i < n;) {
    size_t j = 0;
    switch (kind) {
      case PreTokenizerKind::kGpt2:
        j = NextGpt2(s, i);
        break;
      case PreTokenizerKind::kLlama3:
        j = NextLlama3(s, i, 3);
        break;
      case PreTokenizerKind::kQwen2:
        j = NextLlama3(s, i, 1);
        break;
    }
    if (j <= i) j = i + 1;  // defensive: every character is covered above
    const size_t begin = chars[i].off;
    const size_t end = j < n ? chars[j].off : text.size();
    pieces->push_back(text.substr(begin, end - begin));
    i = j;
  }
}

}  // namespace greffier::generate
