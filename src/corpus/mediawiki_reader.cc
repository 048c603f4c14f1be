// <page> blocks are cut out of a sliding buffer by string search (the dump's layout is fixed by
// MediaWiki's export schema), then <ns>, <id>, <title>, <redirect> and <text> are read from the
// block.
#include "corpus/mediawiki_reader.h"

#include "core/compressed_stream.h"
#include "core/error.h"
#include "text/utf8.h"

namespace nlm::corpus {

namespace {
bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}
// Content of the first <tag ...>content</tag> in `block`, or nullopt-like "" with found=false.
std::string_view element(std::string_view block, std::string_view tag, bool& found) {
  found = false;
  std::string open = "<" + std::string(tag);
  size_t p = block.find(open);
  while (p != std::string_view::npos) {
    char after = p + open.size() < block.size() ? block[p + open.size()] : '\0';
    if (after == '>' || after == ' ' || after == '/') break;
    p = block.find(open, p + 1);
  }
  if (p == std::string_view::npos) return {};
  size_t gt = block.find('>', p);
  if (gt == std::string_view::npos) return {};
  found = true;
  if (block[gt - 1] == '/') return {};  // <text ... />
  std::string close = "</" + std::string(tag) + ">";
  size_t end = block.find(close, gt + 1);
  if (end == std::string_view::npos) {
    found = false;
    return {};
  }
  return block.substr(gt + 1, end - gt - 1);
}
}  // namespace

std::string xml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out.push_back('&');
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "lt") out.push_back('<');
    else if (ent == "gt") out.push_back('>');
    else if (ent == "amp") out.push_back('&');
    else if (ent == "quot") out.push_back('"');
    else if (ent == "apos") out.push_back('\'');
    else if (!ent.empty() && ent[0] == '#') {
      uint32_t cp = 0;
      bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      bool ok = ent.size() > (hex ? 2u : 1u);
      for (size_t k = hex ? 2 : 1; k < ent.size() && ok; ++k) {
        char c = ent[k];
        int d = c >= '0' && c <= '9' ? c - '0' : hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (d < 0 || cp > 0x10FFFF) ok = false;
        else cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
      }
      if (!ok || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = text::kReplacementChar;
      text::utf8_append(out, cp);
    } else {
      out.push_back('&');
      continue;
    }
    i = semi;
  }
  return out;
}

bool is_mediawiki_path(const std::string& path) {
  std::string_view p = path;
  for (std::string_view ext : {".gz", ".zst", ".bz2"})
    if (ends_with(p, ext)) p.remove_suffix(ext.size());
  return ends_with(p, ".xml") || p.find("pages-articles") != std::string_view::npos ||
         p.find("pages-meta-current") != std::string_view::npos;
}

MediaWikiReader::MediaWikiReader(const std::string& path, uint64_t max_page_bytes)
    : in_(InputStream::open(path)), max_page_bytes_(max_page_bytes) {}
MediaWikiReader::~MediaWikiReader() = default;
uint64_t MediaWikiReader::raw_bytes_read() const { return in_->raw_bytes_read(); }

bool MediaWikiReader::fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  size_t old = buf_.size();
  buf_.resize(old + (1u << 20));
  size_t got = 0;
  try {
    got = in_->read(buf_.data() + old, 1u << 20);
  } catch (const Error&) {
    ++stats_.truncated_files;
    eof_ = true;
  }
  buf_.resize(old + got);
  if (got == 0) eof_ = true;
  return got > 0;
}

bool MediaWikiReader::next(WikiPage& page) {
  for (;;) {
    size_t start = buf_.find("<page>", pos_);
    if (start == std::string::npos) {
      pos_ = buf_.size() > 6 ? buf_.size() - 6 : 0;
      if (!fill()) return false;
      continue;
    }
    size_t end = buf_.find("</page>", start);
    while (end == std::string::npos) {
      if (buf_.size() - start > max_page_bytes_) {  // drop a runaway page
        ++stats_.bad_pages;
        pos_ = start + 6;
        break;
      }
      pos_ = start;
      bool more = fill();
      start = 0;
      end = buf_.find("</page>", start);
      if (!more && end == std::string::npos) {
        if (buf_.size() > 6) ++stats_.bad_pages;  // cut-off last page
        pos_ = buf_.size();
        return false;
      }
    }
    if (end == std::string::npos) continue;
    std::string_view block(buf_.data() + start, end - start);
    pos_ = end + 7;
    bool found = false;
    std::string_view ns = element(block, "ns", found);
    if (found && ns != "0") {
      ++stats_.other_namespace;
      continue;
    }
    if (block.find("<redirect") != std::string_view::npos) {
      ++stats_.redirects;
      continue;
    }
    std::string_view text = element(block, "text", found);
    if (!found) {
      ++stats_.bad_pages;
      continue;
    }
    // A damaged dump can hold invalid UTF-8 anywhere; pages come out as UTF-8.
    page.id = std::string(element(block, "id", found));
    text::utf8_repair_inplace(page.id);
    page.title = xml_unescape(element(block, "title", found));
    text::utf8_repair_inplace(page.title);
    page.text = xml_unescape(text);
    text::utf8_repair_inplace(page.text);
    ++stats_.pages;
    return true;
  }
}

}  // namespace nlm::corpus
