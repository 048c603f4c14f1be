// Text normalisation and word segmentation for near-duplicate detection. Dedup compares texts
// after NFKC case folding and whitespace collapsing, and cuts them into words so that shingles
// are word n-grams in every script: ASCII chunks split at non-alphanumerics (fast path), other
// chunks go through ICU's word break iterator (dictionary-based for Chinese, Japanese, Thai...).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nlm::text {

// NFKC_Casefold (ASCII: lowercase), whitespace runs collapsed to one space, ends trimmed.
// Invalid UTF-8 must already be repaired (the readers do). Replaces the contents of `out`.
void dedup_normalize(std::string_view in, std::string& out);

// Splits text into word tokens, dropping spaces and punctuation. One per thread: the ICU break
// iterator it holds is costly to create and not thread-safe.
class DedupWordSplitter {
 public:
  DedupWordSplitter();
  ~DedupWordSplitter();
  DedupWordSplitter(const DedupWordSplitter&) = delete;
  DedupWordSplitter& operator=(const DedupWordSplitter&) = delete;
  // Appends views into `text` (one per word) to `out`, which is cleared first.
  void split(std::string_view text, std::vector<std::string_view>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nlm::text
