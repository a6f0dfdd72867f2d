#include "index/records.h"

#include "index/codec.h"
#include "index/status_macros.h"

namespace greffier::index {
namespace {

constexpr std::string_view kDocMagic = "GFDC";
constexpr std::string_view kPassageMagic = "GFPS";
constexpr std::string_view kVectorMagic = "GFVC";
constexpr uint8_t kVersion = 1;

void PutStrings(Encoder& e, const std::vector<std::string>& v) {
  e.PutVarint(v.size());
  for (const auto& s : v) e.PutString(s);
}

absl::StatusOr<std::vector<std::string>> GetStrings(Decoder& d) {
  GREFFIER_ASSIGN_OR_RETURN(uint64_t n, d.GetVarint());
  std::vector<std::string> out;
  for (uint64_t i = 0; i < n; ++i) {
    GREFFIER_ASSIGN_OR_RETURN(std::string s, d.GetString());
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::string EncodeDocument(const DocumentRecord& doc) {
  Encoder e(kDocMagic, kVersion);
  e.PutVarint(doc.id);
  e.PutString(doc.source_path);
  e.PutString(doc.content_hash);
  e.PutString(doc.mime_type);
  e.PutString(doc.title);
  e.PutString(doc.collection);
  e.PutString(doc.document_type);
  e.PutString(doc.date);
  PutStrings(e, doc.access_labels);
  e.PutVarint(doc.extra.size());
  for (const auto& [k, v] : doc.extra) {
    e.PutString(k);
    e.PutString(v);
  }
  e.PutVarint(doc.pages.size());
  for (const auto& p : doc.pages) {
    e.PutU8(static_cast<uint8_t>(p.source));
    e.PutVarint(p.char_count);
    e.PutFloat(p.ocr_confidence);
    e.PutString(p.error);
  }
  e.PutVarint(doc.passage_ids.size());
  for (uint64_t id : doc.passage_ids) e.PutVarint(id);
  e.PutFixed64(static_cast<uint64_t>(doc.ingested_at_ms));
  e.PutVarint(doc.size_bytes);
  return e.Finish();
}

absl::StatusOr<DocumentRecord> DecodeDocument(std::string_view data) {
  GREFFIER_ASSIGN_OR_RETURN(Decoder d, Decoder::Open(data, kDocMagic, kVersion, "document"));
  DocumentRecord doc;
  GREFFIER_ASSIGN_OR_RETURN(doc.id, d.GetVarint());
  GREFFIER_ASSIGN_OR_RETURN(doc.source_path, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(doc.content_hash, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(doc.mime_type, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(doc.title, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(doc.collection, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(doc.document_type, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(doc.date, d.GetString());
  GREFFIER_ASSIGN_OR_RETURN(doc.access_labels, GetStrings(d));
  GREFFIER_ASSIGN_OR_RETURN(uint64_t n_extra, d.GetVarint());
  for (uint64_t i = 0; i < n_extra; ++i) {
    GREFFIER_ASSIGN_OR_RETURN(std::string k, d.GetString());
    GREFFIER_ASSIGN_OR_RETURN(std::string v, d.GetString());
    doc.extra.emplace_back(std::move(k), std::move(v));
  }
  GREFFIER_ASSIGN_OR_RETURN(uint64_t n_pages, d.GetVarint());
  for (uint64_t i = 0; i < n_pages; ++i) {
    PageInfo p;
    GREFFIER_ASSIGN_OR_RETURN(uint8_t source, d.GetU8());
    if (source > static_cast<uint8_t>(PageSource::kFailed)) {
      return absl::DataLossError("document: bad page source");
    }
    p.source = static_cast<PageSource>(source);
    GREFFIER_ASSIGN_OR_RETURN(uint64_t chars, d.GetVarint());
    p.char_count = static_cast<uint32_t>(chars);
    GREFFIER_ASSIGN_OR_RETURN(p.ocr_confidence, d.GetFloat());
    GREFFIER_ASSIGN_OR_RETURN(p.error, d.GetString());
    doc.pages.push_back(std::move(p));
  }
  GREFFIER_ASSIGN_OR_RETURN(uint64_t n_passages, d.GetVarint());
  for (uint64_t i = 0; i < n_passages; ++i) {
    GREFFIER_ASSIGN_OR_RETURN(uint64_t id, d.GetVarint());
    doc.passage_ids.push_back(id);
  }
  GREFFIER_ASSIGN_OR_RETURN(uint64_t ms, d.GetFixed64());
  doc.ingested_at_ms = static_cast<int64_t>(ms);
  GREFFIER_ASSIGN_OR_RETURN(doc.size_bytes, d.GetVarint());
  return doc;
}

std::string EncodePassage(const PassageRecord& p) {
  Encoder e(kPassageMagic, kVersion);
  e.PutVarint(p.id);
  e.PutVarint(p.document_id);
  e.PutVarint(p.page_start);
  e.PutVarint(p.page_end);
  e.PutVarint(p.char_start);
  e.PutVarint(p.char_end);
  PutStrings(e, p.section_path);
  e.PutString(p.text);
  return e.Finish();
}

absl::StatusOr<PassageRecord> DecodePassage(std::string_view data) {
  GREFFIER_ASSIGN_OR_RETURN(Decoder d, Decoder::Open(data, kPassageMagic, kVersion, "passage"));
  PassageRecord p;
  GREFFIER_ASSIGN_OR_RETURN(p.id, d.GetVarint());
  GREFFIER_ASSIGN_OR_RETURN(p.document_id, d.GetVarint());
  uint64_t v;
  GREFFIER_ASSIGN_OR_RETURN(v, d.GetVarint());
  p.page_start = static_cast<uint32_t>(v);
  GREFFIER_ASSIGN_OR_RETURN(v, d.GetVarint());
  p.page_end = static_cast<uint32_t>(v);
  GREFFIER_ASSIGN_OR_RETURN(v, d.GetVarint());
  p.char_start = static_cast<uint32_t>(v);
  GREFFIER_ASSIGN_OR_RETURN(v, d.GetVarint());
  p.char_end = static_cast<uint32_t>(v);
  GREFFIER_ASSIGN_OR_RETURN(p.section_path, GetStrings(d));
  GREFFIER_ASSIGN_OR_RETURN(p.text, d.GetString());
  return p;
}

std::string EncodeVector(const std::vector<float>& v) {
  Encoder e(kVectorMagic, kVersion);
  e.PutVarint(v.size());
  for (float x : v) e.PutFloat(x);
  return e.Finish();
}

absl::StatusOr<std::vector<float>> DecodeVector(std::string_view data) {
  GREFFIER_ASSIGN_OR_RETURN(Decoder d, Decoder::Open(data, kVectorMagic, kVersion, "vector"));
  GREFFIER_ASSIGN_OR_RETURN(uint64_t n, d.GetVarint());
  if (n > (data.size() / 4)) return absl::DataLossError("vector: dimension exceeds record size");
  std::vector<float> out(n);
  for (auto& x : out) {
    GREFFIER_ASSIGN_OR_RETURN(x, d.GetFloat());
  }
  return out;
}

}  // namespace greffier::index
