#include "ingest/pdf_writer.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace greffier::ingest {
namespace {

constexpr double kPageWidth = 595;
constexpr double kPageHeight = 842;
constexpr double kMargin = 72;

// UTF-8 -> Windows-1252 bytes.
std::string ToWinAnsi(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    int len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c >> 5) == 0x6 && i + 1 < s.size()) {
      cp = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F);
      len = 2;
    } else if ((c >> 4) == 0xE && i + 2 < s.size()) {
      cp = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
      len = 3;
    } else {
      cp = '?';
      len = (c >> 3) == 0x1E ? 4 : 1;
    }
    i += len;
    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
      out.push_back(static_cast<char>(cp));
      continue;
    }
    switch (cp) {
      case 0x20AC:
        out.push_back('\x80');
        break;
      case 0x2026:
        out.push_back('\x85');
        break;
      case 0x0152:
        out.push_back('\x8C');
        break;
      case 0x2018:
        out.push_back('\x91');
        break;
      case 0x2019:
        out.push_back('\x92');
        break;
      case 0x201C:
        out.push_back('\x93');
        break;
      case 0x201D:
        out.push_back('\x94');
        break;
      case 0x2022:
        out.push_back('\x95');
        break;
      case 0x2013:
        out.push_back('\x96');
        break;
      case 0x2014:
        out.push_back('\x97');
        break;
      case 0x0153:
        out.push_back('\x9C');
        break;
      case 0x0178:
        out.push_back('\x9F');
        break;
      default:
        out.push_back('?');
    }
  }
  return out;
}

std::string PdfString(std::string_view utf8) {
  std::string out = "(";
  for (char c : ToWinAnsi(utf8)) {
    if (c == '(' || c == ')' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out += ")";
  return out;
}

// Helvetica advance widths are about half the font size on average for French text.
double TextWidth(std::string_view utf8, double size) {
  size_t cps = 0;
  for (unsigned char c : utf8) cps += (c & 0xC0) != 0x80;
  return static_cast<double>(cps) * size * 0.5;
}

}  // namespace

std::string WritePdf(const PdfDocumentSpec& spec) {
  std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets;  // offsets[i] is the byte offset of object i+1
  auto begin_obj = [&](size_t num) {
    if (offsets.size() < num) offsets.resize(num);
    offsets[num - 1] = out.size();
    absl::StrAppend(&out, num, " 0 obj\n");
  };
  const size_t n_pages = spec.pages.size();
  // Objects: 1 catalog, 2 pages, 3 font, 4 bold font, 5 info, then (page, content) pairs.
  begin_obj(1);
  out += "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n";
  begin_obj(2);
  out += "<< /Type /Pages /Kids [";
  for (size_t i = 0; i < n_pages; ++i) absl::StrAppend(&out, " ", 6 + 2 * i, " 0 R");
  absl::StrAppend(&out, " ] /Count ", n_pages, " >>\nendobj\n");
  begin_obj(3);
  out +=
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>\n"
      "endobj\n";
  begin_obj(4);
  out +=
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding "
      ">>\nendobj\n";
  begin_obj(5);
  absl::StrAppend(&out, "<< /Title ", PdfString(spec.title), " /Author ", PdfString(spec.author),
                  " /Producer (greffier) >>\nendobj\n");
  // Image XObjects follow the page objects.
  size_t next_image_obj = 6 + 2 * n_pages;
  std::vector<std::pair<size_t, const PdfImage*>> images;
  for (size_t i = 0; i < n_pages; ++i) {
    std::string content;
    std::string xobjects;
    const PdfImage& img = spec.pages[i].image;
    if (img.width > 0 && img.height > 0 &&
        img.gray.size() == static_cast<size_t>(img.width) * static_cast<size_t>(img.height)) {
      absl::StrAppend(&content, "q ", kPageWidth, " 0 0 ", kPageHeight, " 0 0 cm /Im1 Do Q\n");
      absl::StrAppend(&xobjects, " /XObject << /Im1 ", next_image_obj, " 0 R >>");
      images.emplace_back(next_image_obj++, &img);
    }
    for (const auto& line : spec.pages[i].lines) {
      char pos[96];
      std::snprintf(pos, sizeof(pos), "%.2f %.2f Td\n", line.x, line.y);
      absl::StrAppend(&content, "BT\n/", line.bold ? "F2" : "F1", " ", line.font_size, " Tf\n", pos,
                      PdfString(line.text), " Tj\nET\n");
    }
    begin_obj(6 + 2 * i);
    absl::StrAppend(&out, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ", kPageWidth, " ",
                    kPageHeight, "] /Resources << /Font << /F1 3 0 R /F2 4 0 R >>", xobjects,
                    " >> /Contents ", 7 + 2 * i, " 0 R >>\nendobj\n");
    begin_obj(7 + 2 * i);
    absl::StrAppend(&out, "<< /Length ", content.size(), " >>\nstream\n", content,
                    "\nendstream\nendobj\n");
  }
  for (const auto& [num, img] : images) {
    begin_obj(num);
    absl::StrAppend(&out, "<< /Type /XObject /Subtype /Image /Width ", img->width, " /Height ",
                    img->height, " /ColorSpace /DeviceGray /BitsPerComponent 8 /Length ",
                    img->gray.size(), " >>\nstream\n");
    out += img->gray;
    out += "\nendstream\nendobj\n";
  }
  size_t xref = out.size();
  absl::StrAppend(&out, "xref\n0 ", offsets.size() + 1, "\n0000000000 65535 f \n");
  for (size_t off : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof(entry), "%010zu 00000 n \n", off);
    out += entry;
  }
  absl::StrAppend(&out, "trailer\n<< /Size ", offsets.size() + 1,
                  " /Root 1 0 R /Info 5 0 R >>\nstartxref\n", xref, "\n%%EOF\n");
  return out;
}

PdfDocumentSpec LayoutDocument(const std::string& title, const std::vector<PdfBlock>& blocks,
                               const LayoutOptions& options) {
  PdfDocumentSpec spec;
  spec.title = title;
  spec.author = "greffier";
  const double top = kPageHeight - kMargin;
  const double bottom = kMargin + 20;
  const double width = kPageWidth - 2 * kMargin;
  double y = top;
  spec.pages.emplace_back();
  auto new_page = [&]() {
    spec.pages.emplace_back();
    y = top;
  };
  auto put = [&](const std::string& text, double size, bool bold, double x) {
    if (y - size * 1.4 < bottom) new_page();
    y -= size * 1.4;
    spec.pages.back().lines.push_back(PdfTextLine{x, y, size, bold, text});
  };
  auto wrap = [&](const std::string& text, double size, bool bold) {
    std::string line;
    for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
      std::string candidate = line.empty() ? std::string(word) : absl::StrCat(line, " ", word);
      if (!line.empty() && TextWidth(candidate, size) > width) {
        put(line, size, bold, kMargin);
        line = std::string(word);
      } else {
        line = candidate;
      }
    }
    if (!line.empty()) put(line, size, bold, kMargin);
  };
  const double fs = options.font_size;
  for (const auto& b : blocks) {
    switch (b.kind) {
      case PdfBlock::kTitle:
        wrap(b.text, fs + 5, true);
        y -= fs;
        break;
      case PdfBlock::kHeading:
        if (y - 4 * fs < bottom) new_page();  // keep a heading with its text
        y -= fs * 0.6;
        wrap(b.text, fs + 1, true);
        break;
      case PdfBlock::kParagraph:
        wrap(b.text, fs, false);
        y -= fs * 0.8;  // paragraph gap
        break;
      case PdfBlock::kSpacer:
        y -= fs * 2;
        break;
    }
  }
  const size_t n = spec.pages.size();
  for (size_t i = 0; i < n; ++i) {
    auto& lines = spec.pages[i].lines;
    if (!options.header.empty()) {
      lines.push_back(PdfTextLine{kMargin, kPageHeight - 40, 8, false, options.header});
    }
    if (!options.footer.empty()) {
      std::string footer = absl::StrReplaceAll(
          options.footer, {{"{page}", absl::StrCat(i + 1)}, {"{pages}", absl::StrCat(n)}});
      lines.push_back(PdfTextLine{kPageWidth / 2 - 30, 40, 8, false, footer});
    }
  }
  return spec;
}

}  // namespace greffier::ingest
