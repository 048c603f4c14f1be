// Streaming reader of MediaWiki XML dumps (*-pages-articles*.xml, .bz2 and multistream too).
// Yields the raw wikitext of each article page: redirects and pages outside the article
// namespace (ns 0) are skipped and counted. Memory is bounded by the largest page; a truncated
// dump ends early, counted, keeping the pages before the damage. Stripping the markup is
// curate/wikitext.h's job.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace nlm {
class InputStream;
}

namespace nlm::corpus {

struct WikiPage {
  std::string id;
  std::string title;
  std::string text;  // wikitext, XML entities decoded
};

struct WikiStats {
  uint64_t pages = 0;          // article pages returned
  uint64_t redirects = 0;
  uint64_t other_namespace = 0;
  uint64_t bad_pages = 0;      // no closing tag within max_page_bytes, or no <text>
  uint64_t truncated_files = 0;
};

class MediaWikiReader {
 public:
  explicit MediaWikiReader(const std::string& path, uint64_t max_page_bytes = 64ull << 20);
  ~MediaWikiReader();
  bool next(WikiPage& page);
  const WikiStats& stats() const { return stats_; }
  uint64_t raw_bytes_read() const;

 private:
  bool fill();
  std::unique_ptr<InputStream> in_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t max_page_bytes_;
  WikiStats stats_;
};

// Decodes the five XML entities and numeric character references.
std::string xml_unescape(std::string_view s);
// True for file names like enwiki-latest-pages-articles1.xml-p1p41242.bz2 or *.xml(.bz2).
bool is_mediawiki_path(const std::string& path);

}  // namespace nlm::corpus
