// Word segmentation with ICU's word break rules, so word-based statistics (Gopher, FineWeb) and
// dedup shingles are valid for unspaced scripts too: Chinese, Japanese and Thai go through ICU's
// dictionaries. Only word-like segments are returned (letters, numbers, kana, ideographs); spaces,
// punctuation and symbols are left out. Offsets are byte offsets into the UTF-8 input (no UTF-16
// copy). ASCII stretches take a scalar path; ICU only sees the stretches around non-ASCII
// characters, cut where the rules cannot look across (see words.cc). What an ASCII word is, is a
// choice every caller makes explicitly (AsciiWordRule).
#pragma once
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace nlm::text {

// The two rules for ASCII text. Text with non-ASCII characters follows ICU's rules under both.
enum class AsciiWordRule : uint8_t {
  // UAX #29, exactly as ICU: letters, digits and '_' joined by MidLetter/MidNum characters, '@'
  // counted as a letter, so "don't", "3.14", "e.g", "a@b.org" and "snake_case" are one word each.
  // Curation (Gopher, FineWeb and C4 word counts and n-grams, LID features, boilerplate
  // detection) and tokenizer statistics: a word must mean the same on ASCII text as on any other
  // script, so thresholds tuned on ICU word counts hold everywhere.
  Uax29,
  // Runs of [A-Za-z0-9] inside whitespace-delimited chunks that are all ASCII ("don't" gives
  // "don" and "t", "3.14" gives "3" and "14", "snake_case" two words); a chunk with any non-ASCII
  // byte gets UAX #29 over that chunk alone. Dedup and decontamination: n-grams match across
  // punctuation and apostrophe variants, each chunk's words depend only on that chunk, and
  // MinHash signatures, dedup checkpoints and decontam matches depend on exactly this split.
  AlnumRuns,
};

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
  // AlnumRuns words of ASCII chunks are Number when all digits, else Letter; chars = bytes.
  void segment(std::string_view text, AsciiWordRule rule, std::vector<WordSpan>& out);
  // The same words as views into `text` (any length).
  void segment(std::string_view text, AsciiWordRule rule, std::vector<std::string_view>& out);
  // The reference: ICU over the whole text, without the ASCII fast path (for tests).
  void segment_icu(std::string_view text, std::vector<WordSpan>& out);

 private:
  // Replaces `out` with the AsciiWordRule::Uax29 words of `text`.
  void segment_uax29(std::string_view text, std::vector<WordSpan>& out);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<WordSpan> chunk_words_;  // AlnumRuns: the UAX #29 words of one non-ASCII chunk
};

}  // namespace nlm::text
