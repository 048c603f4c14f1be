// Document sources for curate: the JSONL/text reader, and WARC records → documents.
#include "curate/source.h"

#include <nlohmann/json.hpp>

#include "corpus/reader.h"
#include "corpus/mediawiki_reader.h"
#include "corpus/warc_reader.h"
#include "curate/charset.h"
#include "curate/text_util.h"
#include "curate/wikitext.h"
#include "text/utf8.h"

namespace nlm::curate {

namespace {
// ReadStats of an archive reader (WARC, MediaWiki): documents counted here, damage by the reader.
template <class Reader>
corpus::ReadStats archive_stats(corpus::ReadStats s, const Reader& reader) {
  s.truncated_files = reader.stats().truncated_files;
  s.raw_bytes = reader.raw_bytes_read();
  return s;
}

class ReaderSource : public DocSource {
 public:
  ReaderSource(const std::string& path, const corpus::ReadOptions& read, corpus::Diagnostics* diag)
      : reader_(path, read, diag) {}
  bool next(corpus::Document& doc) override { return reader_.next(doc); }
  uint64_t raw_bytes_read() const override { return reader_.raw_bytes_read(); }
  corpus::ReadStats read_stats() const override { return reader_.stats(); }
  void add_counters(Counters&) const override {}

 private:
  corpus::DocumentReader reader_;
};

class WarcSource : public DocSource {
 public:
  WarcSource(const std::string& path, const HtmlOptions& html, corpus::Diagnostics* diag)
      : reader_(path), html_(html), diag_(diag), source_(std::make_shared<const std::string>(path)) {
    stats_.files = 1;
  }

  bool next(corpus::Document& doc) override {
    corpus::WarcRecord rec;
    rejection_.reset();
    while (reader_.next(rec)) {
      if (make_doc(rec, doc)) {
        ++stats_.docs;
        stats_.text_bytes += doc.text.size();
        return true;
      }
    }
    if (!reported_ && !reader_.last_problem().empty()) {
      reported_ = true;
      if (diag_) diag_->malformed(*source_, reader_.last_problem());
    }
    return false;
  }
  uint64_t raw_bytes_read() const override { return reader_.raw_bytes_read(); }
  corpus::ReadStats read_stats() const override { return archive_stats(stats_, reader_); }
  void add_counters(Counters& c) const override {
    const auto& w = reader_.stats();
    c["warc"]["records"] += w.records;
    c["warc"]["bad_records"] += w.bad_records;
    c["warc"]["oversized_records"] += w.oversized_records;
    for (const auto& [k, v] : counts_) c["warc"][k] += v;
  }

 private:
  bool make_doc(const corpus::WarcRecord& rec, corpus::Document& doc) {
    std::string_view type = rec.type();
    std::string_view block = rec.block;
    std::string content_type;
    bool html = false;
    if (type == "conversion") {  // WET: already text
      content_type = "text/plain; charset=utf-8";
    } else if (type == "response" || type == "resource") {
      if (type == "response") {
        // HTTP status line and headers, then the body.
        size_t end = block.find("\r\n\r\n");
        size_t skip = 4;
        if (end == std::string_view::npos) {
          end = block.find("\n\n");
          skip = 2;
        }
        if (end == std::string_view::npos) return reject_bad_http(rec, block, doc);
        std::string_view head = block.substr(0, end);
        if (head.rfind("HTTP/", 0) != 0) return reject_bad_http(rec, block, doc);
        size_t sp = head.find(' ');
        if (sp == std::string_view::npos || head.substr(sp + 1, 1) != "2") return skip_record("http_not_2xx");
        for (size_t p = 0; p < head.size();) {
          size_t nl = head.find('\n', p);
          std::string_view line = head.substr(p, nl == std::string_view::npos ? std::string_view::npos : nl - p);
          if (ascii_lower(line.substr(0, 13)) == "content-type:") content_type = std::string(trim(line.substr(13)));
          if (nl == std::string_view::npos) break;
          p = nl + 1;
        }
        block = block.substr(end + skip);
      } else {
        content_type = std::string(rec.header("Content-Type"));
      }
      std::string mime = ascii_lower(content_type.substr(0, content_type.find(';')));
      mime = std::string(trim(mime));
      html = mime == "text/html" || mime == "application/xhtml+xml" || mime.empty();
      if (!html && mime != "text/plain") return skip_record("not_text");
    } else {
      return false;  // warcinfo, request, metadata, revisit: not documents
    }
    Decoded dec = decode_to_utf8(block, content_type, html);
    std::string title;
    if (html) {
      HtmlText t = extract_html_text(dec.text, html_);
      if (!t.dropped.empty()) {
        // "html_no_text" → counter html_no_text, reason html.no_text
        std::string reason = "html." + t.dropped.substr(5);
        doc.clear();
        doc.text = std::move(dec.text);
        set_meta(rec, dec, t.title, doc);
        return rejected(t.dropped, reason, t.dropped_value);
      }
      doc.clear();
      doc.text = std::move(t.text);
      title = std::move(t.title);
      ++counts_[t.method == "structure" ? "html_by_structure" : "html_by_justext"];
    } else {
      doc.clear();
      doc.text = std::move(dec.text);
    }
    set_meta(rec, dec, title, doc);
    if (trim(doc.text).empty()) return rejected("no_text", "warc.no_text", 0);
    ++counts_[html ? "html_docs" : "text_docs"];
    return true;
  }
  // id, source and "meta" (url, date, charset, title).
  void set_meta(const corpus::WarcRecord& rec, const Decoded& dec, const std::string& title, corpus::Document& doc) {
    doc.source = source_;
    // WARC headers are raw bytes; a damaged record can put invalid UTF-8 into them, and every
    // string that goes into JSON must be UTF-8.
    auto header_text = [&rec](std::string_view name) {
      std::string value(rec.header(name));
      text::utf8_repair_inplace(value);
      return value;
    };
    doc.id = header_text("WARC-Record-ID");
    nlohmann::ordered_json meta;
    meta["url"] = header_text("WARC-Target-URI");
    meta["date"] = header_text("WARC-Date");
    if (!dec.charset.empty()) meta["charset"] = dec.charset;
    if (!dec.source.empty()) meta["charset_source"] = dec.source;
    if (!title.empty()) meta["title"] = title;
    doc.set_field("meta", meta.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  }
  bool skip_record(const std::string& why) {
    ++counts_[why];
    return false;
  }
  // A page removed here: counted under "warc" as before, and given out as a document marked with
  // its rejection.
  bool rejected(const std::string& counter, const std::string& reason, double value) {
    ++counts_[counter];
    rejection_ = Rejection{reason, value};
    return true;
  }
  // A response whose HTTP head cannot be read: the record's block, repaired to UTF-8, is the text.
  bool reject_bad_http(const corpus::WarcRecord& rec, std::string_view block, corpus::Document& doc) {
    doc.clear();
    doc.text = std::string(block);
    text::utf8_repair_inplace(doc.text);
    set_meta(rec, Decoded{}, "", doc);
    return rejected("bad_http", "warc.bad_http", 0);
  }

  corpus::WarcReader reader_;
  HtmlOptions html_;
  corpus::Diagnostics* diag_;
  std::shared_ptr<const std::string> source_;
  corpus::ReadStats stats_;
  std::map<std::string, uint64_t> counts_;
  bool reported_ = false;
};
class WikiSource : public DocSource {
 public:
  explicit WikiSource(const std::string& path)
      : reader_(path), source_(std::make_shared<const std::string>(path)) {
    stats_.files = 1;
  }
  bool next(corpus::Document& doc) override {
    corpus::WikiPage page;
    while (reader_.next(page)) {
      std::string text = strip_wikitext(page.text);
      if (trim(text).empty()) {
        ++empty_;
        continue;
      }
      doc.clear();
      doc.source = source_;
      doc.id = page.id;
      doc.text = std::move(text);
      doc.set_string_field("title", page.title);
      ++stats_.docs;
      stats_.text_bytes += doc.text.size();
      return true;
    }
    return false;
  }
  uint64_t raw_bytes_read() const override { return reader_.raw_bytes_read(); }
  corpus::ReadStats read_stats() const override { return archive_stats(stats_, reader_); }
  void add_counters(Counters& c) const override {
    const auto& w = reader_.stats();
    c["wiki"]["pages"] += w.pages;
    c["wiki"]["redirects"] += w.redirects;
    c["wiki"]["other_namespace"] += w.other_namespace;
    c["wiki"]["bad_pages"] += w.bad_pages;
    c["wiki"]["empty_after_markup"] += empty_;
  }

 private:
  corpus::MediaWikiReader reader_;
  std::shared_ptr<const std::string> source_;
  corpus::ReadStats stats_;
  uint64_t empty_ = 0;
};
}  // namespace

std::unique_ptr<DocSource> open_source(const std::string& path, const corpus::ReadOptions& read,
                                       const HtmlOptions& html, corpus::Diagnostics* diag) {
  if (corpus::is_warc_path(path)) return std::make_unique<WarcSource>(path, html, diag);
  if (read.format == corpus::InputFormat::Auto && corpus::is_mediawiki_path(path))
    return std::make_unique<WikiSource>(path);
  return std::make_unique<ReaderSource>(path, read, diag);
}

}  // namespace nlm::curate
