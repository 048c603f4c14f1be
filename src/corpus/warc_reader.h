// Streaming reader of WARC/WET files (.warc, .warc.gz with one gzip member per record or one for
// the whole file, .warc.wet.gz). Yields each record's WARC headers and its content block. A record
// with a broken header or a wrong Content-Length is skipped and counted, and the reader resyncs at
// the next "WARC/" version line; a truncated archive ends the file early, counted, keeping the
// records read before the damage. Turning records into documents (HTML extraction, charsets) is
// the job of curate/warc_source.h.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nlm {
class InputStream;
}

namespace nlm::corpus {

struct WarcRecord {
  std::string version;  // "WARC/1.0" or "WARC/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as written
  std::string block;    // the content block (for a response: HTTP headers + body)
  uint64_t offset = 0;  // byte offset of the record in the decompressed stream

  // Value of a header (case-insensitive name), or "".
  std::string_view header(std::string_view name) const;
  std::string_view type() const { return header("WARC-Type"); }
};

struct WarcStats {
  uint64_t records = 0;
  uint64_t bad_records = 0;       // unparseable headers, bad Content-Length, missing terminator
  uint64_t truncated_files = 0;   // compressed stream or last record cut short
  uint64_t oversized_records = 0; // blocks over max_record_bytes (skipped)
};

class WarcReader {
 public:
  // Throws nlm::Error if the file cannot be opened. Records with a block over max_record_bytes
  // are skipped (counted), so one giant record cannot exhaust memory.
  explicit WarcReader(const std::string& path, uint64_t max_record_bytes = 64ull << 20);
  ~WarcReader();
  // Next well-formed record; false at the end of the file (or at unrecoverable damage).
  bool next(WarcRecord& record);
  const WarcStats& stats() const { return stats_; }
  uint64_t raw_bytes_read() const;
  // The first problem met, for diagnostics ("" when none).
  const std::string& last_problem() const { return problem_; }

 private:
  bool fill(size_t want);
  bool read_line(std::string& line);
  bool resync();
  std::unique_ptr<InputStream> in_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t consumed_ = 0;  // decompressed bytes before buf_[0]
  bool eof_ = false;
  uint64_t max_record_bytes_;
  WarcStats stats_;
  std::string problem_;
};

// True when the file name looks like WARC/WET (.warc, .wet, .warc.gz, .warc.wet.gz, ...).
bool is_warc_path(const std::string& path);

}  // namespace nlm::corpus
