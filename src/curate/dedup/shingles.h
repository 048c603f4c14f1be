// Shingling for MinHash: a document becomes the set of 64-bit hashes of its word n-grams or
// code point n-grams, taken over the dedup-normalised text. A text shorter than n units gives one
// shingle of all its units, so short documents still compare; an empty text gives none.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "curate/dedup/options.h"
#include "text/dedup_normalize.h"
#include "text/words.h"

namespace nlm::dedup {

class Shingler {
 public:
  explicit Shingler(const MinHashParams& params) : params_(params) {}
  // Shingle hashes of already normalised text (text::dedup_normalize), in text order, possibly
  // repeated. `out` is replaced.
  void shingles(std::string_view normalized, std::vector<uint64_t>& out);
  // The same, sorted and unique: the set used by the exact Jaccard check.
  void shingle_set(std::string_view normalized, std::vector<uint64_t>& out);

 private:
  MinHashParams params_;
  text::WordSegmenter words_;
  std::vector<std::string_view> tokens_;
  std::vector<uint64_t> word_hashes_;
  std::vector<uint32_t> boundaries_;
};

// Hash of a word n-gram from its words' hashes (order-sensitive; shared with decontamination).
uint64_t combine_word_hashes(const uint64_t* word_hashes, size_t n);

// Jaccard similarity |A ∩ B| / |A ∪ B| of two sorted unique sets (1 when both are empty).
double jaccard_sorted(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);

}  // namespace nlm::dedup
