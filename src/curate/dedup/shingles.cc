// Word n-gram hashes combine per-word hashes with position weights (n multiplies a shingle, no
// re-hashing of bytes); code point n-grams hash their byte span directly.
#include "curate/dedup/shingles.h"

#include <algorithm>

#include "core/hash.h"

namespace nlm::dedup {
namespace {

// Final mixer of MurmurHash3 (a bijection with full avalanche).
inline uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// Odd weight of position j in an n-gram, so "a b" and "b a" differ.
inline uint64_t position_weight(int j) { return 0x9E3779B97F4A7C15ULL * (2 * static_cast<uint64_t>(j) + 1); }

}  // namespace

uint64_t combine_word_hashes(const uint64_t* w, size_t n) {
  uint64_t h = n;
  for (size_t j = 0; j < n; ++j) h += w[j] * position_weight(static_cast<int>(j % 64));
  return fmix64(h);
}

void Shingler::shingles(std::string_view text, std::vector<uint64_t>& out) {
  out.clear();
  const size_t n = static_cast<size_t>(std::max(1, params_.ngram));
  if (params_.shingle == ShingleKind::Word) {
    words_.segment(text, text::AsciiWordRule::AlnumRuns, tokens_);
    word_hashes_.resize(tokens_.size());
    for (size_t i = 0; i < tokens_.size(); ++i) word_hashes_[i] = hash64(tokens_[i], params_.seed);
    const size_t m = word_hashes_.size();
    if (m == 0) return;
    const size_t width = std::min(n, m);
    for (size_t i = 0; i + width <= m; ++i) out.push_back(combine_word_hashes(word_hashes_.data() + i, width));
    return;
  }
  // Code point n-grams: boundaries_[k] is the byte offset of code point k.
  boundaries_.clear();
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) boundaries_.push_back(static_cast<uint32_t>(i));
  const size_t cps = boundaries_.size();
  if (cps == 0) return;
  boundaries_.push_back(static_cast<uint32_t>(text.size()));
  const size_t width = std::min(n, cps);
  for (size_t k = 0; k + width <= cps; ++k)
    out.push_back(hash64(text.substr(boundaries_[k], boundaries_[k + width] - boundaries_[k]), params_.seed));
}

void Shingler::shingle_set(std::string_view text, std::vector<uint64_t>& out) {
  shingles(text, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

double jaccard_sorted(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  if (a.empty() && b.empty()) return 1.0;
  size_t i = 0, j = 0, inter = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++inter;
      ++i;
      ++j;
    }
  }
  return static_cast<double>(inter) / static_cast<double>(a.size() + b.size() - inter);
}

}  // namespace nlm::dedup
