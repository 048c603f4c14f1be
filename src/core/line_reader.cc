// Buffer management for LineReader: compacts, then doubles the buffer for over-long lines.
#include "core/line_reader.h"

#include <cstring>

namespace nlm {

LineReader::LineReader(InputStream& in, size_t initial_buffer)
    : in_(in), buf_(initial_buffer + kLinePadding, 0) {}

size_t LineReader::padding_after(std::string_view line) const {
  return static_cast<size_t>(buf_.data() + buf_.size() - (line.data() + line.size()));
}

bool LineReader::fill() {
  if (eof_) return false;
  size_t usable = buf_.size() - kLinePadding;
  if (begin_ > 0) {  // compact
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == usable) {  // a line longer than the buffer: grow
    buf_.resize(usable * 2 + kLinePadding, 0);
    usable = buf_.size() - kLinePadding;
  }
  size_t n = in_.read(buf_.data() + end_, usable - end_);
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

bool LineReader::next(std::string_view& line) {
  size_t scanned = begin_;
  for (;;) {
    const char* start = buf_.data() + scanned;
    const void* nl = std::memchr(start, '\n', end_ - scanned);
    if (nl) {
      size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - buf_.data());
      size_t len = pos - begin_;
      if (len > 0 && buf_[pos - 1] == '\r') --len;
      line = std::string_view(buf_.data() + begin_, len);
      begin_ = pos + 1;
      ++line_no_;
      return true;
    }
    size_t offset = end_ - begin_;  // what was scanned, relative to begin_
    if (!fill()) {
      if (end_ > begin_) {  // last line without a newline
        size_t len = end_ - begin_;
        if (buf_[begin_ + len - 1] == '\r') --len;
        line = std::string_view(buf_.data() + begin_, len);
        begin_ = end_;
        ++line_no_;
        return true;
      }
      return false;
    }
    scanned = begin_ + offset;
  }
}

}  // namespace nlm
