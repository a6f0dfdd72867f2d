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

// ---- PostingList ----

double PostingList::Impact(uint32_t tf, uint32_t length, double k1, double b, double avgdl) {
  const double t = static_cast<double>(tf);
  return t / (t + k1 * (1.0 - b + b * static_cast<double>(length) / avgdl));
}

uint32_t PostingList::TfAt(size_t pos) const {
  const uint8_t tf = tfs_[pos];
  if (tf != 255) return tf;
  return big_tfs_.at(static_cast<uint32_t>(pos));
}

void PostingList::Append(uint64_t passage_id, uint32_t tf, uint32_t length) {
  if (blocks_.empty() || offsets_.size() - blocks_.back().begin >= kBlockSize ||
      passage_id - blocks_.back().base > UINT32_MAX) {
    blocks_.push_back(
        Block{passage_id, passage_id, static_cast<uint32_t>(offsets_.size()), 0, UINT32_MAX});
  }
  Block& block = blocks_.back();
  block.last = passage_id;
  block.max_tf = std::max(block.max_tf, tf);
  block.min_length = std::min(block.min_length, length);
  if (tf >= 255) big_tfs_[static_cast<uint32_t>(offsets_.size())] = tf;
  offsets_.push_back(static_cast<uint32_t>(passage_id - block.base));
  tfs_.push_back(static_cast<uint8_t>(std::min<uint32_t>(tf, 255)));
  // The frontier keeps the pairs no other pair beats on both tf (higher) and length (lower).
  for (const auto& [ftf, flen] : frontier_) {
    if (ftf >= tf && flen <= length) return;
  }
  std::erase_if(frontier_, [&](const auto& f) { return f.first <= tf && f.second >= length; });
  frontier_.emplace_back(tf, length);
}

std::vector<std::pair<uint64_t, uint32_t>> PostingList::LivePostings() const {
  std::vector<std::pair<uint64_t, uint32_t>> out;
  out.reserve(live());
  for (size_t b = 0; b < blocks_.size(); ++b) {
    for (size_t i = blocks_[b].begin; i < BlockEnd(b); ++i) {
      if (tfs_[i] != 0) out.emplace_back(IdAt(b, i), TfAt(i));
    }
  }
  return out;
}

void PostingList::Add(uint64_t passage_id, uint32_t tf, uint32_t length) {
  if (tf == 0) return;
  if (blocks_.empty() || passage_id > blocks_.back().last) {
    Append(passage_id, tf, length);
    return;
  }
  // Out of order: rebuild. Lengths of the others are not known here, so their bounds use
  // the block bounds they had, which stay valid upper bounds.
  std::vector<std::pair<uint64_t, uint32_t>> postings;
  std::vector<uint32_t> lengths;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    for (size_t i = blocks_[b].begin; i < BlockEnd(b); ++i) {
      if (tfs_[i] == 0) continue;
      postings.emplace_back(IdAt(b, i), TfAt(i));
      lengths.push_back(blocks_[b].min_length);
    }
  }
  auto at = std::lower_bound(postings.begin(), postings.end(), std::make_pair(passage_id, 0u));
  if (at != postings.end() && at->first == passage_id) return;  // already present
  const size_t index = static_cast<size_t>(at - postings.begin());
  postings.insert(at, {passage_id, tf});
  lengths.insert(lengths.begin() + static_cast<std::ptrdiff_t>(index), length);
  auto frontier = std::move(frontier_);
  *this = PostingList();
  for (size_t i = 0; i < postings.size(); ++i) {
    Append(postings[i].first, postings[i].second, lengths[i]);
  }
  // Lengths taken from block bounds only loosen the frontier: keep the old pairs too.
  for (const auto& f : frontier) {
    bool dominated = false;
    for (const auto& g : frontier_) dominated |= g.first >= f.first && g.second <= f.second;
    if (!dominated) frontier_.push_back(f);
  }
}

bool PostingList::Erase(uint64_t passage_id) {
  // The block whose range holds the id.
  auto block = std::partition_point(blocks_.begin(), blocks_.end(),
                                    [&](const Block& b) { return b.last < passage_id; });
  if (block == blocks_.end() || block->base > passage_id) return false;
  const size_t b = static_cast<size_t>(block - blocks_.begin());
  const uint64_t offset = passage_id - block->base;
  auto begin = offsets_.begin() + block->begin;
  auto end = offsets_.begin() + static_cast<std::ptrdiff_t>(BlockEnd(b));
  auto it = std::lower_bound(begin, end, offset);
  if (it == end || *it != offset) return false;
  const size_t pos = static_cast<size_t>(it - offsets_.begin());
  if (tfs_[pos] == 0) return false;
  if (tfs_[pos] == 255) big_tfs_.erase(static_cast<uint32_t>(pos));
  tfs_[pos] = 0;
  ++dead_;
  return true;
}

void PostingList::Compact(const std::function<uint32_t(uint64_t)>& length_of) {
  std::vector<std::pair<uint64_t, uint32_t>> postings = LivePostings();
  *this = PostingList();
  for (const auto& [id, tf] : postings) Append(id, tf, length_of(id));
  offsets_.shrink_to_fit();
  tfs_.shrink_to_fit();
  blocks_.shrink_to_fit();
}

size_t PostingList::MemoryBytes() const {
  return offsets_.capacity() * sizeof(uint32_t) + tfs_.capacity() +
         blocks_.capacity() * sizeof(Block) + big_tfs_.size() * 32 +
         frontier_.capacity() * sizeof(frontier_[0]) + sizeof(*this);
}

double PostingList::MaxImpact(double k1, double b, double avgdl) const {
  double best = 0;
  for (const auto& [tf, length] : frontier_)
    best = std::max(best, Impact(tf, length, k1, b, avgdl));
  return best;
}

PostingList::Cursor::Cursor(const PostingList* list) : list_(list) { Settle(); }

void PostingList::Cursor::Settle() {
  const auto& l = *list_;
  while (pos_ < l.offsets_.size()) {
    while (pos_ >= l.BlockEnd(block_)) ++block_;
    if (l.tfs_[pos_] != 0) {
      id_ = l.IdAt(block_, pos_);
      return;
    }
    ++pos_;
  }
  id_ = kEnd;
}

uint32_t PostingList::Cursor::tf() const { return list_->TfAt(pos_); }

void PostingList::Cursor::Next() {
  if (id_ == kEnd) return;
  ++pos_;
  Settle();
}

void PostingList::Cursor::Advance(uint64_t target) {
  if (id_ >= target) return;
  const auto& l = *list_;
  if (l.blocks_[block_].last < target) {
    // Gallop over the blocks, then binary search.
    size_t step = 1, lo = block_ + 1;
    while (lo + step < l.blocks_.size() && l.blocks_[lo + step].last < target) step *= 2;
    auto first = l.blocks_.begin() + static_cast<std::ptrdiff_t>(lo);
    auto last =
        l.blocks_.begin() + static_cast<std::ptrdiff_t>(std::min(lo + step + 1, l.blocks_.size()));
    auto it = std::partition_point(first, last, [&](const Block& b) { return b.last < target; });
    if (it == l.blocks_.end()) {
      pos_ = l.offsets_.size();
      block_ = l.blocks_.size() - 1;
      id_ = kEnd;
      return;
    }
    block_ = static_cast<size_t>(it - l.blocks_.begin());
    pos_ = l.blocks_[block_].begin;
  }
  const Block& block = l.blocks_[block_];
  const uint64_t offset = target > block.base ? target - block.base : 0;
  auto begin = l.offsets_.begin() + static_cast<std::ptrdiff_t>(pos_);
  auto end = l.offsets_.begin() + static_cast<std::ptrdiff_t>(l.BlockEnd(block_));
  pos_ = static_cast<size_t>(std::lower_bound(begin, end, static_cast<uint32_t>(offset)) -
                             l.offsets_.begin());
  Settle();
}

double PostingList::Cursor::BlockMaxImpact(double k1, double b, double avgdl) const {
  const Block& block = list_->blocks_[block_];
  return Impact(block.max_tf, block.min_length, k1, b, avgdl);
}

uint64_t PostingList::Cursor::BlockLast() const { return list_->blocks_[block_].last; }

// ---- InvertedLists ----

void InvertedLists::SetLength(uint64_t passage_id, uint32_t length) {
  if (passage_id < kDenseIds) {
    if (dense_lengths_.size() <= passage_id) {
      dense_lengths_.resize(std::max<size_t>(passage_id + 1, dense_lengths_.size() * 3 / 2), 0);
    }
    dense_lengths_[passage_id] = length;
  } else if (length == 0) {
    sparse_lengths_.erase(passage_id);
  } else {
    sparse_lengths_[passage_id] = length;
  }
}

uint32_t InvertedLists::Length(uint64_t passage_id) const {
  if (passage_id < kDenseIds) {
    return passage_id < dense_lengths_.size() ? dense_lengths_[passage_id] : 0;
  }
  auto it = sparse_lengths_.find(passage_id);
  return it == sparse_lengths_.end() ? 0 : it->second;
}

void InvertedLists::Add(uint64_t passage_id,
                        const std::vector<std::pair<std::string, uint32_t>>& terms,
                        uint32_t length) {
  SetLength(passage_id, length);
  for (const auto& [term, tf] : terms) lists_[term].Add(passage_id, tf, length);
}

void InvertedLists::AddPostings(const std::string& term,
                                const std::vector<std::pair<uint64_t, uint32_t>>& id_tfs) {
  if (id_tfs.empty()) return;
  PostingList& list = lists_[term];
  for (const auto& [id, tf] : id_tfs) list.Add(id, tf, Length(id));
}

void InvertedLists::Remove(uint64_t passage_id, const std::vector<std::string>& terms) {
  for (const std::string& term : terms) {
    auto it = lists_.find(term);
    if (it == lists_.end() || !it->second.Erase(passage_id)) continue;
    PostingList& list = it->second;
    if (list.live() == 0) {
      lists_.erase(it);
    } else if (list.dead() > 64 && list.dead() > list.live() / 2) {
      list.Compact([this, passage_id](uint64_t id) { return id == passage_id ? 0 : Length(id); });
    }
  }
  SetLength(passage_id, 0);
}

const PostingList* InvertedLists::Find(std::string_view term) const {
  auto it = lists_.find(std::string(term));
  return it == lists_.end() ? nullptr : &it->second;
}

size_t InvertedLists::MemoryBytes() const {
  size_t bytes = dense_lengths_.capacity() * sizeof(uint32_t) + sparse_lengths_.size() * 32 +
                 lists_.bucket_count() * sizeof(void*);
  for (const auto& [term, list] : lists_) bytes += term.capacity() + 32 + list.MemoryBytes();
  return bytes;
}

// ---- MemoryPostings ----

absl::Status MemoryPostings::Add(uint64_t passage_id, const std::vector<std::string>& terms) {
  if (lengths_.contains(passage_id)) {
    return absl::AlreadyExistsError(absl::StrCat("passage ", passage_id, " is already indexed"));
  }
  std::unordered_map<std::string_view, uint32_t> tf;
  for (const std::string& t : terms) ++tf[t];
  std::vector<std::string> distinct;
  std::vector<std::pair<std::string, uint32_t>> term_tfs;
  distinct.reserve(tf.size());
  for (const auto& [term, count] : tf) {
    term_tfs.emplace_back(std::string(term), count);
    distinct.emplace_back(term);
  }
  lists_.Add(passage_id, term_tfs, static_cast<uint32_t>(terms.size()));
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
  lists_.Remove(passage_id, passage_terms_[passage_id]);
  passage_terms_.erase(passage_id);
  total_length_ -= length->second;
  lengths_.erase(length);
  return absl::OkStatus();
}

absl::Status MemoryPostings::ForEachPosting(std::string_view term, const PostingFn& fn) const {
  const PostingList* list = lists_.Find(term);
  if (list == nullptr) return absl::OkStatus();
  for (PostingList::Cursor c(list); c.id() != PostingList::Cursor::kEnd; c.Next()) {
    fn(c.id(), c.tf());
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MemoryPostings::DocumentFrequency(std::string_view term) const {
  const PostingList* list = lists_.Find(term);
  return list == nullptr ? 0 : list->live();
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

  if (options_.dynamic_pruning && source_->inverted_lists() != nullptr) {
    return SearchPruned(*source_->inverted_lists(), counts, k, filter);
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

// MaxScore (Turtle & Flood 1995): terms sorted by their impact bound; the lowest-bound
// terms whose bounds sum below the current k-th score are "non-essential": a passage that
// only they contain cannot enter the top k, so candidates come from the other terms' lists
// only, and the non-essential lists are probed (by skipping) only while the candidate can
// still reach the threshold. Block bounds refine the test before any length is read. Scores
// are recomputed in the exhaustive search's term order, so they are bit-identical to it.
absl::StatusOr<std::vector<ScoredPassage>> Bm25Searcher::SearchPruned(
    const InvertedLists& lists, const std::vector<std::pair<std::string_view, int>>& counts,
    size_t k, const Filter& filter) const {
  const uint64_t n = source_->NumDocuments();
  const double avgdl = std::max(source_->AverageLength(), 1e-9);
  const double k1 = options_.k1;
  const double b = options_.b;
  struct Term {
    size_t order;  // position in `counts`: the order scores are summed in
    double weight;
    double bound;  // weight * MaxImpact, slightly inflated
    const PostingList* list;
  };
  // Bounds are inflated so that rounding never prunes a passage that ties the threshold.
  constexpr double kSlack = 1.0 + 1e-9;
  std::vector<Term> terms;
  for (size_t i = 0; i < counts.size(); ++i) {
    const auto& [term, count] = counts[i];
    absl::StatusOr<uint64_t> df = source_->DocumentFrequency(term);
    if (!df.ok()) return df.status();
    if (*df == 0) continue;
    const PostingList* list = lists.Find(term);
    if (list == nullptr || list->live() == 0) continue;
    const double dfd = static_cast<double>(*df);
    const double idf =
        std::max(0.0, std::log(1.0 + (static_cast<double>(n) - dfd + 0.5) / (dfd + 0.5)));
    const double weight = idf * count * (k1 + 1.0);
    terms.push_back({i, weight, weight * list->MaxImpact(k1, b, avgdl) * kSlack, list});
  }
  std::sort(terms.begin(), terms.end(), [](const Term& x, const Term& y) {
    return x.bound != y.bound ? x.bound < y.bound : x.order < y.order;
  });
  const size_t m = terms.size();
  std::vector<PostingList::Cursor> cursors;
  cursors.reserve(m);
  std::vector<double> prefix(m + 1, 0.0);  // prefix[i]: sum of the i lowest bounds
  for (size_t i = 0; i < m; ++i) {
    cursors.emplace_back(terms[i].list);
    prefix[i + 1] = prefix[i] + terms[i].bound;
  }

  std::priority_queue<ScoredPassage, std::vector<ScoredPassage>, decltype(&Better)> heap(&Better);
  // Passages whose upper bound is below `threshold` cannot enter the heap.
  double threshold = -1.0;
  size_t first_essential = 0;
  auto update_threshold = [&]() {
    if (heap.size() < k) return;
    const double t = heap.top().score;
    threshold = t - std::abs(t) * 1e-9;
    while (first_essential < m && prefix[first_essential + 1] < threshold) ++first_essential;
  };
  std::vector<uint32_t> tfs(counts.size());
  std::vector<double> weights(counts.size(), 0.0);
  for (const Term& t : terms) weights[t.order] = t.weight;
  while (first_essential < m) {
    uint64_t id = PostingList::Cursor::kEnd;
    for (size_t i = first_essential; i < m; ++i) id = std::min(id, cursors[i].id());
    if (id == PostingList::Cursor::kEnd) break;
    if (heap.size() == k) {
      // Up to the first end of a current block, no passage can beat the essential lists'
      // block bounds plus the non-essential bounds: when that is below the threshold, the
      // whole window is skipped.
      uint64_t window_end = PostingList::Cursor::kEnd;
      double window = prefix[first_essential];
      for (size_t i = first_essential; i < m; ++i) {
        if (cursors[i].id() == PostingList::Cursor::kEnd) continue;
        window_end = std::min(window_end, cursors[i].BlockLast());
        window += terms[i].weight * cursors[i].BlockMaxImpact(k1, b, avgdl);
      }
      if (window * kSlack < threshold) {
        for (size_t i = first_essential; i < m; ++i) cursors[i].Advance(window_end + 1);
        continue;
      }
      // The block bounds of the lists at `id` only.
      double bound = prefix[first_essential];
      for (size_t i = first_essential; i < m; ++i) {
        if (cursors[i].id() == id) {
          bound += terms[i].weight * cursors[i].BlockMaxImpact(k1, b, avgdl);
        }
      }
      if (bound * kSlack < threshold) {
        for (size_t i = first_essential; i < m; ++i) {
          if (cursors[i].id() == id) cursors[i].Next();
        }
        continue;
      }
    }
    std::fill(tfs.begin(), tfs.end(), 0);
    const uint32_t length = lists.Length(id);
    const double norm = k1 * (1.0 - b + b * static_cast<double>(length) / avgdl);
    double partial = 0;
    for (size_t i = first_essential; i < m; ++i) {
      if (cursors[i].id() != id) continue;
      const uint32_t tf = cursors[i].tf();
      tfs[terms[i].order] = tf;
      partial += terms[i].weight * tf / (tf + norm);
      cursors[i].Next();
    }
    bool pruned = false;
    for (size_t i = first_essential; i-- > 0;) {
      if ((partial + prefix[i + 1]) * kSlack < threshold) {
        pruned = true;
        break;
      }
      cursors[i].Advance(id);
      if (cursors[i].id() != id) continue;
      const uint32_t tf = cursors[i].tf();
      tfs[terms[i].order] = tf;
      partial += terms[i].weight * tf / (tf + norm);
    }
    if (pruned || partial * kSlack < threshold) continue;
    // The exact score, summed as the exhaustive search does.
    double score = 0.0;
    for (size_t j = 0; j < counts.size(); ++j) {
      if (tfs[j] != 0) score += weights[j] * tfs[j] / (tfs[j] + norm);
    }
    ScoredPassage p{id, score};
    if (heap.size() == k && !Better(p, heap.top())) continue;
    if (filter && !filter(id)) continue;
    if (heap.size() == k) heap.pop();
    heap.push(p);
    update_threshold();
  }
  std::vector<ScoredPassage> results;
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
