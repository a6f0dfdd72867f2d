#include "index/bm25.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace greffier::index {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint of at most `max_bits` bits from the front of `*in`.
bool GetVarint(std::string_view* in, int max_bits, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < max_bits; shift += 7) {
    if (in->empty()) return false;
    uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    uint64_t bits = byte & 0x7F;
    if (max_bits - shift < 7 && (bits >> (max_bits - shift)) != 0) {
      return false;  // More than max_bits bits.
    }
    result |= bits << shift;
    if ((byte & 0x80) == 0) {
      if (byte == 0 && shift > 0) return false;  // Overlong: one value, one key.
      *v = result;
      return true;
    }
  }
  return false;
}

bool Better(const ScoredPassage& a, const ScoredPassage& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.passage_id < b.passage_id;
}

}  // namespace

absl::Status MemoryPostings::Add(uint64_t passage_id, const std::vector<std::string>& terms) {
  if (lengths_.contains(passage_id)) {
    return absl::AlreadyExistsError(absl::StrCat("passage ", passage_id, " is already indexed"));
  }
  std::unordered_map<std::string_view, uint32_t> tf;
  for (const std::string& t : terms) ++tf[t];
  std::vector<std::string> distinct;
  distinct.reserve(tf.size());
  for (const auto& [term, count] : tf) {
    postings_[std::string(term)].push_back({passage_id, count});
    distinct.emplace_back(term);
  }
  passage_terms_[passage_id] = std::move(distinct);
  lengths_[passage_id] = static_cast<uint32_t>(terms.size());
  total_length_ += terms.size();
  return absl::OkStatus();
}

absl::Status MemoryPostings::Remove(uint64_t passage_id) {
  auto length = lengths_.find(passage_id);
  if (length == lengths_.end()) {
    return absl::NotFoundError(absl::StrCat("passage ", passage_id, " is not indexed"));
  }
  for (const std::string& term : passage_terms_[passage_id]) {
    auto it = postings_.find(term);
    if (it == postings_.end()) continue;
    std::erase_if(it->second,
                  [passage_id](const Posting& p) { return p.passage_id == passage_id; });
    if (it->second.empty()) postings_.erase(it);
  }
  passage_terms_.erase(passage_id);
  total_length_ -= length->second;
  lengths_.erase(length);
  return absl::OkStatus();
}

absl::Status MemoryPostings::ForEachPosting(std::string_view term, const PostingFn& fn) const {
  auto it = postings_.find(std::string(term));
  if (it == postings_.end()) return absl::OkStatus();
  for (const Posting& p : it->second) fn(p.passage_id, p.tf);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MemoryPostings::DocumentFrequency(std::string_view term) const {
  auto it = postings_.find(std::string(term));
  return it == postings_.end() ? 0 : it->second.size();
}

absl::StatusOr<uint32_t> MemoryPostings::Length(uint64_t passage_id) const {
  auto it = lengths_.find(passage_id);
  return it == lengths_.end() ? 0 : it->second;
}

double MemoryPostings::AverageLength() const {
  if (lengths_.empty()) return 0.0;
  return static_cast<double>(total_length_) / static_cast<double>(lengths_.size());
}

absl::StatusOr<std::vector<ScoredPassage>> Bm25Searcher::Search(
    const std::vector<std::string>& query_terms, size_t k, const Filter& filter) const {
  std::vector<ScoredPassage> results;
  const uint64_t n = source_->NumDocuments();
  if (k == 0 || n == 0 || query_terms.empty()) return results;
  const double avgdl = std::max(source_->AverageLength(), 1e-9);

  // Query term counts, in first-occurrence order so sums are reproducible.
  std::vector<std::pair<std::string_view, int>> counts;
  for (const std::string& t : query_terms) {
    auto it =
        std::find_if(counts.begin(), counts.end(), [&t](const auto& c) { return c.first == t; });
    if (it == counts.end()) {
      counts.emplace_back(t, 1);
    } else {
      ++it->second;
    }
  }

  struct Candidate {
    double score = 0.0;
    double norm = 0.0;  // k1 * (1 - b + b * |p| / avgdl)
    bool allowed = false;
  };
  std::unordered_map<uint64_t, Candidate> candidates;
  absl::Status error;
  const double k1 = options_.k1;
  const double b = options_.b;
  for (const auto& [term, count] : counts) {
    absl::StatusOr<uint64_t> df = source_->DocumentFrequency(term);
    if (!df.ok()) return df.status();
    if (*df == 0) continue;
    const double dfd = static_cast<double>(*df);
    const double idf =
        std::max(0.0, std::log(1.0 + (static_cast<double>(n) - dfd + 0.5) / (dfd + 0.5)));
    const double weight = idf * count * (k1 + 1.0);
    absl::Status status = source_->ForEachPosting(term, [&](uint64_t passage_id, uint32_t tf) {
      auto [it, inserted] = candidates.try_emplace(passage_id);
      Candidate& c = it->second;
      if (inserted) {
        c.allowed = !filter || filter(passage_id);
        if (!c.allowed) return;
        absl::StatusOr<uint32_t> length = source_->Length(passage_id);
        if (!length.ok()) {
          if (error.ok()) error = length.status();
          c.allowed = false;
          return;
        }
        c.norm = k1 * (1.0 - b + b * static_cast<double>(*length) / avgdl);
      }
      if (!c.allowed) return;
      c.score += weight * tf / (tf + c.norm);
    });
    if (!status.ok()) return status;
    if (!error.ok()) return error;
  }

  // Min-heap of the best k: its top is the worst kept passage.
  std::priority_queue<ScoredPassage, std::vector<ScoredPassage>, decltype(&Better)> heap(&Better);
  for (const auto& [passage_id, c] : candidates) {
    if (!c.allowed) continue;
    ScoredPassage p{passage_id, c.score};
    if (heap.size() < k) {
      heap.push(p);
    } else if (Better(p, heap.top())) {
      heap.pop();
      heap.push(p);
    }
  }
  results.reserve(heap.size());
  while (!heap.empty()) {
    results.push_back(heap.top());
    heap.pop();
  }
  std::reverse(results.begin(), results.end());
  return results;
}

std::string PostingKeyPrefix(std::string_view term) {
  std::string key;
  PutVarint(term.size(), &key);
  key.append(term);
  return key;
}

std::string EncodePostingKey(std::string_view term, uint64_t passage_id) {
  std::string key = PostingKeyPrefix(term);
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((passage_id >> shift) & 0xFF));
  }
  return key;
}

absl::StatusOr<PostingKey> DecodePostingKey(std::string_view key) {
  std::string_view in = key;
  uint64_t term_length;
  if (!GetVarint(&in, 32, &term_length)) {
    return absl::InvalidArgumentError("posting key: truncated or invalid term length");
  }
  if (in.size() != term_length + 8) {
    return absl::InvalidArgumentError(absl::StrCat("posting key: expected ", term_length,
                                                   " term bytes and 8 id bytes, ", in.size(),
                                                   " bytes remain"));
  }
  PostingKey out;
  out.term = std::string(in.substr(0, term_length));
  out.passage_id = 0;
  for (char c : in.substr(term_length)) {
    out.passage_id = (out.passage_id << 8) | static_cast<uint8_t>(c);
  }
  return out;
}

absl::StatusOr<std::string> EncodePostingValue(const PostingValue& value) {
  std::string out;
  PutVarint(value.tf, &out);
  PutVarint(value.positions.size(), &out);
  uint32_t previous = 0;
  for (size_t i = 0; i < value.positions.size(); ++i) {
    uint32_t p = value.positions[i];
    if (i > 0 && p <= previous) {
      return absl::InvalidArgumentError("posting value: positions must be strictly ascending");
    }
    PutVarint(p - previous, &out);
    previous = p;
  }
  return out;
}

absl::StatusOr<PostingValue> DecodePostingValue(std::string_view value) {
  std::string_view in = value;
  uint64_t tf, count;
  if (!GetVarint(&in, 32, &tf) || !GetVarint(&in, 32, &count)) {
    return absl::InvalidArgumentError("posting value: truncated or invalid header");
  }
  // Each position takes at least one byte: bounds the allocation.
  if (count > in.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "posting value: ", count, " positions announced, ", in.size(), " bytes remain"));
  }
  PostingValue out;
  out.tf = static_cast<uint32_t>(tf);
  out.positions.reserve(count);
  uint64_t position = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta;
    if (!GetVarint(&in, 32, &delta)) {
      return absl::InvalidArgumentError(absl::StrCat("posting value: truncated position ", i));
    }
    if ((i > 0 && delta == 0) || position + delta > UINT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat("posting value: invalid position ", i));
    }
    position += delta;
    out.positions.push_back(static_cast<uint32_t>(position));
  }
  if (!in.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("posting value: ", in.size(), " trailing bytes"));
  }
  return out;
}

}  // namespace greffier::index
