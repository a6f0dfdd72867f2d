#include "index/beir.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace greffier::index {
namespace {

// Minimal strict JSON reader over one text; positions are byte offsets.
class JsonReader {
 public:
  explicit JsonReader(std::string_view in) : in_(in) {}

  absl::StatusOr<std::unordered_map<std::string, std::string>> TopObject() {
    std::unordered_map<std::string, std::string> fields;
    SkipSpace();
    if (!Consume('{')) return Error("expected '{'");
    SkipSpace();
    if (Consume('}')) return Finish(std::move(fields));
    while (true) {
      SkipSpace();
      std::string key;
      if (absl::Status s = String(&key); !s.ok()) return s;
      SkipSpace();
      if (!Consume(':')) return Error("expected ':' after a key");
      SkipSpace();
      if (pos_ < in_.size() && in_[pos_] == '"') {
        std::string value;
        if (absl::Status s = String(&value); !s.ok()) return s;
        fields[key] = std::move(value);
      } else if (pos_ < in_.size() &&
                 (in_[pos_] == '-' || (in_[pos_] >= '0' && in_[pos_] <= '9'))) {
        size_t start = pos_;
        if (absl::Status s = Number(); !s.ok()) return s;
        fields[key] = std::string(in_.substr(start, pos_ - start));
      } else if (absl::Status s = Value(0); !s.ok()) {
        return s;
      }
      SkipSpace();
      if (Consume('}')) return Finish(std::move(fields));
      if (!Consume(',')) return Error("expected ',' or '}'");
    }
  }

 private:
  static constexpr int kMaxDepth = 64;

  absl::StatusOr<std::unordered_map<std::string, std::string>> Finish(
      std::unordered_map<std::string, std::string> fields) {
    SkipSpace();
    if (pos_ != in_.size()) return Error("trailing characters after object");
    return fields;
  }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("JSON byte ", pos_, ": ", std::string(what)));
  }

  void SkipSpace() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Consume(char c) {
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool ConsumeWord(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  absl::Status Value(int depth) {
    if (depth > kMaxDepth) return Error("nesting too deep");
    if (pos_ >= in_.size()) return Error("unexpected end of input");
    char c = in_[pos_];
    if (c == '"') {
      std::string ignored;
      return String(&ignored);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      SkipSpace();
      if (Consume(close)) return absl::OkStatus();
      while (true) {
        SkipSpace();
        if (c == '{') {
          std::string key;
          if (absl::Status s = String(&key); !s.ok()) return s;
          SkipSpace();
          if (!Consume(':')) return Error("expected ':' after a key");
          SkipSpace();
        }
        if (absl::Status s = Value(depth + 1); !s.ok()) return s;
        SkipSpace();
        if (Consume(close)) return absl::OkStatus();
        if (!Consume(',')) return Error("expected ',' in a list or object");
      }
    }
    if (c == '-' || (c >= '0' && c <= '9')) return Number();
    if (ConsumeWord("true") || ConsumeWord("false") || ConsumeWord("null")) {
      return absl::OkStatus();
    }
    return Error("unexpected character");
  }

  absl::Status Number() {
    size_t start = pos_;
    Consume('-');
    auto digits = [this] {
      size_t s = pos_;
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
      return pos_ > s;
    };
    if (!digits()) return Error("invalid number");
    if (Consume('.') && !digits()) return Error("invalid number");
    if (Consume('e') || Consume('E')) {
      if (!Consume('+')) Consume('-');
      if (!digits()) return Error("invalid number");
    }
    return pos_ > start ? absl::OkStatus() : Error("invalid number");
  }

  bool Hex4(uint32_t* v) {
    if (pos_ + 4 > in_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = in_[pos_++];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return false;
      }
      *v = (*v << 4) | d;
    }
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  absl::Status String(std::string* out) {
    if (!Consume('"')) return Error("expected a string");
    while (true) {
      if (pos_ >= in_.size()) return Error("unterminated string");
      char c = in_[pos_++];
      if (c == '"') return absl::OkStatus();
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) return Error("unterminated escape");
      char e = in_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return Error("invalid \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (!ConsumeWord("\\u") || !Hex4(&low) || low < 0xDC00 || low > 0xDFFF) {
              return Error("unpaired surrogate in \\u escape");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Error("unpaired surrogate in \\u escape");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("invalid escape");
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

absl::Status LineError(const std::filesystem::path& path, size_t line, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(path.string(), ":", line, ": ", why));
}

// Calls fn(line_number, line) for each non-blank line (CR and BOM removed).
template <typename Fn>
absl::Status ForEachLine(const std::filesystem::path& path, Fn fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open for reading"));
  }
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view view = line;
    if (number == 1 && view.starts_with("\xEF\xBB\xBF")) view.remove_prefix(3);
    if (view.ends_with('\r')) view.remove_suffix(1);
    if (view.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (absl::Status s = fn(number, view); !s.ok()) return s;
  }
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(path.string(), ": read error"));
  }
  return absl::OkStatus();
}

// Parses a JSON-lines record and checks that `_id` is present and unique.
absl::StatusOr<std::unordered_map<std::string, std::string>> Record(
    const std::filesystem::path& path, size_t number, std::string_view line,
    std::unordered_set<std::string>* seen) {
  auto fields = ParseJsonObjectFields(line);
  if (!fields.ok()) return LineError(path, number, std::string(fields.status().message()));
  auto id = fields->find("_id");
  if (id == fields->end()) return LineError(path, number, "no \"_id\" field");
  if (!seen->insert(id->second).second) {
    return LineError(path, number, absl::StrCat("duplicate _id \"", id->second, "\""));
  }
  return fields;
}

}  // namespace

absl::StatusOr<std::unordered_map<std::string, std::string>> ParseJsonObjectFields(
    std::string_view json) {
  return JsonReader(json).TopObject();
}

absl::StatusOr<std::vector<BeirDocument>> ReadBeirCorpus(const std::filesystem::path& path) {
  std::vector<BeirDocument> docs;
  std::unordered_set<std::string> seen;
  absl::Status status = ForEachLine(path, [&](size_t number, std::string_view line) {
    auto fields = Record(path, number, line, &seen);
    if (!fields.ok()) return fields.status();
    BeirDocument doc;
    doc.id = (*fields)["_id"];
    doc.title = (*fields)["title"];
    doc.text = (*fields)["text"];
    docs.push_back(std::move(doc));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return docs;
}

absl::StatusOr<std::vector<BeirQuery>> ReadBeirQueries(const std::filesystem::path& path) {
  std::vector<BeirQuery> queries;
  std::unordered_set<std::string> seen;
  absl::Status status = ForEachLine(path, [&](size_t number, std::string_view line) {
    auto fields = Record(path, number, line, &seen);
    if (!fields.ok()) return fields.status();
    auto text = fields->find("text");
    if (text == fields->end()) {
      return LineError(path, number, "no \"text\" field");
    }
    queries.push_back({(*fields)["_id"], text->second});
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return queries;
}

absl::StatusOr<BeirQrels> ReadBeirQrels(const std::filesystem::path& path) {
  BeirQrels qrels;
  absl::Status status = ForEachLine(path, [&](size_t number, std::string_view line) {
    std::vector<std::string_view> cols;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (cols.size() != 3) {
      return LineError(path, number,
                       absl::StrCat("expected 3 tab-separated columns, got ", cols.size()));
    }
    int score;
    if (!absl::SimpleAtoi(std::string(cols[2]), &score)) {
      if (number == 1) return absl::OkStatus();  // Header line.
      return LineError(path, number, "score is not an integer");
    }
    auto& per_query = qrels[std::string(cols[0])];
    if (!per_query.emplace(std::string(cols[1]), score).second) {
      return LineError(path, number, "duplicate query/document pair");
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return qrels;
}

absl::StatusOr<BeirDataset> ReadBeirDataset(const std::filesystem::path& dir) {
  BeirDataset set;
  auto corpus = ReadBeirCorpus(dir / "corpus.jsonl");
  if (!corpus.ok()) return corpus.status();
  set.corpus = *std::move(corpus);
  auto queries = ReadBeirQueries(dir / "queries.jsonl");
  if (!queries.ok()) return queries.status();
  set.queries = *std::move(queries);
  std::filesystem::path qrels_path = dir / "qrels.tsv";
  if (!std::filesystem::exists(qrels_path) && std::filesystem::exists(dir / "qrels" / "test.tsv")) {
    qrels_path = dir / "qrels" / "test.tsv";
  }
  auto qrels = ReadBeirQrels(qrels_path);
  if (!qrels.ok()) return qrels.status();
  set.qrels = *std::move(qrels);
  return set;
}

void RetrievalEvaluator::AddQuery(const std::unordered_map<std::string, int>& relevance,
                                  const std::vector<std::string>& ranked) {
  std::vector<int> gains;
  for (const auto& [id, score] : relevance) {
    if (score > 0) gains.push_back(score);
  }
  if (gains.empty()) return;
  const double relevant = static_cast<double>(gains.size());
  size_t found[4] = {0, 0, 0, 0};
  constexpr size_t kCutoffs[4] = {1, 5, 10, 20};
  double reciprocal_rank = 0;
  double dcg = 0;
  std::unordered_set<std::string_view> counted;  // A repeated id counts once.
  for (size_t rank = 0; rank < ranked.size() && rank < 20; ++rank) {
    auto it = relevance.find(ranked[rank]);
    if (it == relevance.end() || it->second <= 0) continue;
    if (!counted.insert(ranked[rank]).second) continue;
    for (int c = 0; c < 4; ++c) {
      if (rank < kCutoffs[c]) ++found[c];
    }
    if (rank < 10) {
      if (reciprocal_rank == 0) reciprocal_rank = 1.0 / (rank + 1);
      dcg += it->second / std::log2(rank + 2.0);
    }
  }
  std::sort(gains.begin(), gains.end(), std::greater<int>());
  double ideal = 0;
  for (size_t i = 0; i < gains.size() && i < 10; ++i) {
    ideal += gains[i] / std::log2(i + 2.0);
  }
  ++sums_.queries;
  sums_.recall_at_1 += found[0] / relevant;
  sums_.recall_at_5 += found[1] / relevant;
  sums_.recall_at_10 += found[2] / relevant;
  sums_.recall_at_20 += found[3] / relevant;
  sums_.mrr_at_10 += reciprocal_rank;
  sums_.ndcg_at_10 += dcg / ideal;
}

RetrievalMetrics RetrievalEvaluator::Summary() const {
  RetrievalMetrics m = sums_;
  if (m.queries == 0) return m;
  const double n = static_cast<double>(m.queries);
  m.recall_at_1 /= n;
  m.recall_at_5 /= n;
  m.recall_at_10 /= n;
  m.recall_at_20 /= n;
  m.mrr_at_10 /= n;
  m.ndcg_at_10 /= n;
  return m;
}

}  // namespace greffier::index
