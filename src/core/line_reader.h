// Splits a decompressed InputStream into lines of any length (a single 100 MB line is fine; the
// buffer grows to fit it). Each returned line is followed in memory by at least kLinePadding
// readable bytes, so a SIMD parser (simdjson) can parse it in place without a copy.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/compressed_stream.h"

namespace nlm {

inline constexpr size_t kLinePadding = 64;

class LineReader {
 public:
  explicit LineReader(InputStream& in, size_t initial_buffer = 1 << 20);
  // Next line without its '\n' (and without a trailing '\r'). False at end of input. Truncated
  // or corrupt compressed input throws nlm::Error from the stream; lines already returned stay
  // valid for the caller to have used.
  bool next(std::string_view& line);
  // 1-based number of the line last returned.
  uint64_t line_number() const { return line_no_; }
  // Bytes of the line returned last that are readable past its end (>= kLinePadding).
  size_t padding_after(std::string_view line) const;

 private:
  bool fill();
  InputStream& in_;
  std::vector<char> buf_;  // capacity = used area + kLinePadding
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_no_ = 0;
};

}  // namespace nlm
