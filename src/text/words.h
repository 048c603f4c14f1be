// Word segmentation with ICU's word break rules, so word-based statistics (Gopher, FineWeb) are
// valid for unspaced scripts too: Chinese, Japanese and Thai go through ICU's dictionaries.
// Only word-like segments are returned (letters, numbers, kana, ideographs); spaces, punctuation
// and symbols are left out. Offsets are byte offsets into the UTF-8 input (no UTF-16 copy).
// ASCII stretches take a scalar path that follows ICU's rules; ICU only sees the stretches around
// non-ASCII characters, cut where the rules cannot look across (see words.cc).
#pragma once
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace nlm::text {

enum class WordKind : uint8_t { Number, Letter, Kana, Ideo };

struct WordSpan {
  uint32_t begin = 0;  // byte offset of the word in the text
  uint32_t size = 0;   // bytes
  WordKind kind = WordKind::Letter;
  uint32_t chars = 0;  // code points
};

// Not thread-safe: keep one per thread (construction clones a cached ICU iterator, cheap).
class WordSegmenter {
 public:
  WordSegmenter();
  ~WordSegmenter();
  WordSegmenter(const WordSegmenter&) = delete;
  WordSegmenter& operator=(const WordSegmenter&) = delete;
  // Replaces `out` with the words of valid UTF-8 `text` (texts over 4 GiB are cut at 4 GiB).
  void segment(std::string_view text, std::vector<WordSpan>& out);
  // The reference: ICU over the whole text, without the ASCII fast path (for tests).
  void segment_icu(std::string_view text, std::vector<WordSpan>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nlm::text
