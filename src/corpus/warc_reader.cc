// WARC parsing over a decompressed InputStream with a sliding buffer. A record is: a version
// line, header lines up to a blank line, Content-Length bytes of block, then CRLF CRLF. A
// declared length is never trusted for memory: the buffer grows only as bytes arrive, and a
// length that does not end at CRLF CRLF (or runs past the end of the file while another record
// follows) is a counted bad record, after which reading resumes at the next "WARC/" line inside
// the block it claimed.
#include "corpus/warc_reader.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/compressed_stream.h"
#include "core/error.h"

namespace nlm::corpus {

namespace {
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}
}  // namespace

std::string_view WarcRecord::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

bool is_warc_path(const std::string& path) {
  std::string_view p = path;
  for (std::string_view ext : {".gz", ".zst", ".bz2"})
    if (ends_with(p, ext)) p.remove_suffix(ext.size());
  return ends_with(p, ".warc") || ends_with(p, ".wet") || ends_with(p, ".wat");
}

WarcReader::WarcReader(const std::string& path, uint64_t max_record_bytes)
    : in_(InputStream::open(path)), max_record_bytes_(max_record_bytes) {}

WarcReader::~WarcReader() = default;

uint64_t WarcReader::raw_bytes_read() const { return in_->raw_bytes_read(); }

// Ensures at least `want` unread bytes are buffered; false if the stream ends first.
bool WarcReader::fill(size_t want) {
  while (buf_.size() - pos_ < want && !eof_) {
    if (pos_ > (1u << 20) && pos_ * 2 > buf_.size()) {
      buf_.erase(0, pos_);
      consumed_ += pos_;
      pos_ = 0;
    }
    size_t old = buf_.size();
    // At most 4 MB per read: a Content-Length that promises more than the file holds must not
    // allocate it up front.
    size_t chunk = std::clamp<size_t>(want - (old - pos_), 1u << 16, 1u << 22);
    buf_.resize(old + chunk);
    size_t got = 0;
    try {
      got = in_->read(buf_.data() + old, chunk);
    } catch (const Error& e) {
      buf_.resize(old);
      eof_ = true;
      ++stats_.truncated_files;
      if (problem_.empty()) problem_ = e.what();
      break;
    }
    buf_.resize(old + got);
    if (got == 0) eof_ = true;
  }
  return buf_.size() - pos_ >= want;
}

bool WarcReader::read_line(std::string& line) {
  for (;;) {
    size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      line.assign(buf_, pos_, nl - pos_);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      pos_ = nl + 1;
      return true;
    }
    if (buf_.size() - pos_ > (1u << 20)) {  // a "line" over 1 MB: not a WARC header
      line.assign(buf_, pos_, 1u << 20);
      pos_ += 1u << 20;
      return true;
    }
    if (!fill(buf_.size() - pos_ + 1)) {
      if (pos_ >= buf_.size()) return false;
      line.assign(buf_, pos_, std::string::npos);
      pos_ = buf_.size();
      return true;
    }
  }
}

// Skips to the next line that starts with "WARC/"; false at the end.
bool WarcReader::resync() {
  for (;;) {
    size_t at = buf_.find("\nWARC/", pos_ > 0 ? pos_ - 1 : 0);
    if (at != std::string::npos) {
      pos_ = at + 1;
      return true;
    }
    if (buf_.size() > pos_ + 6) pos_ = buf_.size() - 6;
    if (!fill(buf_.size() - pos_ + (1u << 16)) && buf_.find("\nWARC/", pos_) == std::string::npos) {
      pos_ = buf_.size();
      return false;
    }
  }
}

bool WarcReader::next(WarcRecord& rec) {
  std::string line;
  for (;;) {
    // Skip blank lines between records.
    do {
      if (!read_line(line)) return false;
    } while (trim(line).empty());
    rec.offset = consumed_ + pos_ - line.size() - 1;
    if (line.rfind("WARC/", 0) != 0) {
      ++stats_.bad_records;
      if (problem_.empty()) problem_ = "expected a WARC version line at byte " + std::to_string(rec.offset);
      if (!resync()) return false;
      continue;
    }
    rec.version = std::string(trim(line));
    rec.headers.clear();
    rec.block.clear();
    bool ok = true;
    while (read_line(line)) {
      std::string_view l = trim(line);
      if (l.empty()) break;
      size_t colon = l.find(':');
      if (colon == std::string_view::npos || l.rfind("WARC/", 0) == 0) {
        ok = false;
        break;
      }
      rec.headers.emplace_back(std::string(trim(l.substr(0, colon))), std::string(trim(l.substr(colon + 1))));
    }
    std::string_view len_text = rec.header("Content-Length");
    uint64_t len = 0;
    if (ok && !len_text.empty() && len_text.size() <= 15) {
      for (char c : len_text) {
        if (c < '0' || c > '9') {
          ok = false;
          break;
        }
        len = len * 10 + static_cast<uint64_t>(c - '0');
      }
    } else {
      ok = false;
    }
    if (!ok) {
      ++stats_.bad_records;
      if (problem_.empty()) problem_ = "malformed WARC header at byte " + std::to_string(rec.offset);
      if (!resync()) return false;
      continue;
    }
    if (len > max_record_bytes_) {
      ++stats_.oversized_records;
      // Skip the block without keeping it. A length past the end of the file cannot be told
      // from a truncated file here (the bytes are gone), so it is reported as a bad record.
      uint64_t left = len;
      while (left > 0) {
        size_t avail = buf_.size() - pos_;
        if (avail == 0 && !fill(1)) break;
        size_t take = static_cast<size_t>(std::min<uint64_t>(left, buf_.size() - pos_));
        pos_ += take;
        left -= take;
      }
      if (left > 0) {
        ++stats_.bad_records;
        if (problem_.empty())
          problem_ = "WARC Content-Length " + std::to_string(len) + " at byte " + std::to_string(rec.offset) +
                     " runs past the end of the file; the records after it are lost";
        return false;
      }
      continue;
    }
    // The block and the CRLF CRLF after it; pos_ stays at the block's start until both check out.
    const size_t n = static_cast<size_t>(len);
    if (!fill(n)) {
      // The file ends inside this record: truncated, unless another record starts inside what
      // the length claimed (the length lied).
      ++stats_.bad_records;
      if (buf_.find("\nWARC/", pos_) != std::string::npos) {
        if (problem_.empty()) problem_ = "WARC Content-Length runs past the end of the file at byte " + std::to_string(rec.offset);
        if (!resync()) return false;
        continue;
      }
      if (!stats_.truncated_files) ++stats_.truncated_files;
      if (problem_.empty()) problem_ = "WARC record cut short at byte " + std::to_string(rec.offset);
      pos_ = buf_.size();
      return false;
    }
    fill(n + 4);
    std::string_view tail(buf_.data() + pos_ + n, std::min<size_t>(4, buf_.size() - pos_ - n));
    const bool ends = tail == "\r\n\r\n" || (tail.empty() && eof_) || tail.substr(0, 2) == "\n\n" ||
                      tail.substr(0, 2) == "\r\n";
    if (!ends) {
      ++stats_.bad_records;
      if (problem_.empty()) problem_ = "WARC record with a wrong Content-Length at byte " + std::to_string(rec.offset);
      if (!resync()) return false;
      continue;
    }
    rec.block.assign(buf_, pos_, n);
    pos_ += n + (tail == "\r\n\r\n" ? 4 : 0);
    ++stats_.records;
    return true;
  }
}

}  // namespace nlm::corpus
