// Where curate's documents come from, per input shard: JSONL/text through corpus::DocumentReader,
// or WARC/WET archives, whose records become documents here: WET conversion records as they are,
// HTML responses through charset decoding (charset.h) and main-text extraction (html_extract.h),
// with URL, date and charset kept under "meta". Skipped records are counted under "warc"; pages
// that give no text (extraction refused or found nothing, an unreadable HTTP head) also come out
// as documents marked with a Rejection, so they reach the rejects like every other removal.
// MediaWiki XML dumps give one document per article with the markup stripped (wikitext.h).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "corpus/document.h"
#include "corpus/read_options.h"
#include "curate/doc_context.h"
#include "curate/html_extract.h"
#include "curate/step.h"

namespace nlm::curate {

class DocSource {
 public:
  virtual ~DocSource() = default;
  virtual bool next(corpus::Document& doc) = 0;
  virtual uint64_t raw_bytes_read() const = 0;
  // Reader statistics: the ReadStats that apply, plus named counters (e.g. "warc").
  virtual corpus::ReadStats read_stats() const = 0;
  virtual void add_counters(Counters& counters) const = 0;
  // Set when the document the last next() gave was removed by the source itself ("html.no_text",
  // "html.too_deep", "warc.bad_http", ...): its text is the page as read (HTML decoded to UTF-8),
  // it skips the chain and goes to the rejects.
  const std::optional<Rejection>& rejection() const { return rejection_; }

 protected:
  std::optional<Rejection> rejection_;
};

// WARC/WET by file name (corpus::is_warc_path), MediaWiki dumps by name (*.xml, *pages-articles*)
// when --format is auto, else the document reader.
std::unique_ptr<DocSource> open_source(const std::string& path, const corpus::ReadOptions& read,
                                       const HtmlOptions& html, corpus::Diagnostics* diag);

}  // namespace nlm::curate
