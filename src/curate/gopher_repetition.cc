// Duplicate-element and n-gram statistics with hashed words: an n-gram is identified by the
// 64-bit combination of its word hashes (a collision only makes a document look more repetitive
// by one n-gram, with probability ~2^-64 per pair).
#include "curate/gopher_repetition.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/options.h"
#include "core/hash.h"
#include "curate/doc_context.h"
#include "curate/text_util.h"

namespace nlm::curate {

void declare(opt::Schema& s, GopherRepetitionOptions& o) {
  auto frac = [&s](const char* key, double& v, const std::string& doc) { s.add(key, v, doc).range(0, 1); };
  frac("max_dup_para_frac", o.max_dup_para_frac, "Share of paragraphs that repeat an earlier one");
  frac("max_dup_para_char_frac", o.max_dup_para_char_frac, "Character share of repeated paragraphs");
  frac("max_dup_line_frac", o.max_dup_line_frac, "Share of lines that repeat an earlier one");
  frac("max_dup_line_char_frac", o.max_dup_line_char_frac, "Character share of repeated lines");
  frac("max_top_2gram_char_frac", o.max_top_2gram_char_frac, "Character share of the most frequent 2-gram");
  frac("max_top_3gram_char_frac", o.max_top_3gram_char_frac, "Character share of the most frequent 3-gram");
  frac("max_top_4gram_char_frac", o.max_top_4gram_char_frac, "Character share of the most frequent 4-gram");
  frac("max_dup_5gram_char_frac", o.max_dup_5gram_char_frac, "Character share of repeated 5-grams");
  frac("max_dup_6gram_char_frac", o.max_dup_6gram_char_frac, "Character share of repeated 6-grams");
  frac("max_dup_7gram_char_frac", o.max_dup_7gram_char_frac, "Character share of repeated 7-grams");
  frac("max_dup_8gram_char_frac", o.max_dup_8gram_char_frac, "Character share of repeated 8-grams");
  frac("max_dup_9gram_char_frac", o.max_dup_9gram_char_frac, "Character share of repeated 9-grams");
  frac("max_dup_10gram_char_frac", o.max_dup_10gram_char_frac, "Character share of repeated 10-grams");
}

namespace {
// A word's identity for n-grams: words of up to 8 bytes are their bytes (zero-padded; words hold no
// NUL) put through a bijective mix, so they never collide; longer words are hashed.
// `end` is the end of the text holding the word: when 8 bytes can be read, one load and a mask.
inline uint64_t word_key(std::string_view w, const char* end) {
  if (w.size() > 8) return hash64(w);
  uint64_t v = 0;
  if (std::endian::native == std::endian::little && w.data() + 8 <= end) {
    std::memcpy(&v, w.data(), 8);
    if (w.size() < 8) v &= (uint64_t{1} << (8 * w.size())) - 1;
  } else {
    std::memcpy(&v, w.data(), w.size());
  }
  v *= 0x9E3779B97F4A7C15ull;
  v ^= v >> 32;
  v *= 0xD6E8FEB86659FD93ull;
  return v ^ (v >> 32);
}
// Extends an n-gram hash by one word. Asymmetric in its two inputs, so "a b" and "b a" differ
// (a plain h ^ w would make every n-gram collide with its first two words swapped).
inline uint64_t mix(uint64_t h, uint64_t w) {
  h = (h * 0xC2B2AE3D27D4EB4Full ^ w) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 31);
}
constexpr uint32_t kSeen = 0x80000000u;  // flag bit in a count: visited by the walk
}  // namespace

std::optional<Rejection> GopherRepetition::check(DocContext& ctx, const GopherRepetitionOptions& o) {
  std::string_view text = ctx.text();
  double chars = static_cast<double>(ctx.chars());
  if (chars == 0) return std::nullopt;
  const bool ascii = ctx.ascii();
  const auto& lines = ctx.nonblank_lines();

  // Repeated paragraphs (split on blank lines "\n\n"), then repeated lines, by count and by
  // characters. Every non-empty paragraph holds a non-blank line, so lines.size() bounds both.
  {
    uint64_t elements = 0, dup = 0, dup_chars = 0;
    table_.reset(lines.size());
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t end = text.find("\n\n", pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view el = trim(text.substr(pos, end - pos));
      if (!el.empty()) {
        ++elements;
        if (!table_.insert(hash64(el))) {
          ++dup;
          dup_chars += ascii ? el.size() : utf8_chars(el);
        }
      }
      pos = end + 2;
      while (pos < text.size() && text[pos] == '\n') ++pos;
    }
    if (elements) {
      double f = static_cast<double>(dup) / static_cast<double>(elements);
      if (f > o.max_dup_para_frac) return Rejection{"gopher_repetition.max_dup_para_frac", f};
      double c = static_cast<double>(dup_chars) / chars;
      if (c > o.max_dup_para_char_frac) return Rejection{"gopher_repetition.max_dup_para_char_frac", c};
    }
  }
  if (!lines.empty()) {
    uint64_t dup = 0, dup_chars = 0;
    table_.reset(lines.size());
    for (const auto& line : lines)
      if (!table_.insert(line.hash)) {
        ++dup;
        dup_chars += line.chars;
      }
    double f = static_cast<double>(dup) / static_cast<double>(lines.size());
    if (f > o.max_dup_line_frac) return Rejection{"gopher_repetition.max_dup_line_frac", f};
    double c = static_cast<double>(dup_chars) / chars;
    if (c > o.max_dup_line_char_frac) return Rejection{"gopher_repetition.max_dup_line_char_frac", c};
  }

  const auto& words = ctx.words();
  size_t n_words = words.size();
  if (n_words < 2) return std::nullopt;
  // gram_[i] / gram_chars_[i]: hash and characters of the n-gram starting at word i, extended
  // from n-1 to n words in place.
  //
  // Only candidates are looked at: an n-gram can occur twice only if the (n-1)-grams at i and at
  // i+1 both do (its prefix and suffix), so positions whose (n-1)-grams were unique drop out, and
  // for running text the candidates shrink fast. A unique n-gram changes none of the figures: it
  // is never the top n-gram (count 1 does not count) and never repeats, so the walk below only
  // needs the candidates.
  word_hash_.resize(n_words);
  word_chars_.resize(n_words);
  for (size_t i = 0; i < n_words; ++i) {
    word_hash_[i] = word_key(ctx.word(words[i]), text.data() + text.size());
    word_chars_[i] = words[i].chars;
  }
  gram_.assign(word_hash_.begin(), word_hash_.end());
  gram_chars_.assign(word_chars_.begin(), word_chars_.end());
  repeated_at_.assign(n_words, 0);  // n when the n-gram at i occurs more than once

  const double top_max[] = {o.max_top_2gram_char_frac, o.max_top_3gram_char_frac,
                            o.max_top_4gram_char_frac};
  const double dup_max[] = {o.max_dup_5gram_char_frac, o.max_dup_6gram_char_frac,
                            o.max_dup_7gram_char_frac, o.max_dup_8gram_char_frac,
                            o.max_dup_9gram_char_frac, o.max_dup_10gram_char_frac};
  std::vector<uint32_t*>& counts = count_ptr_;
  for (size_t n = 2; n <= 10 && n <= n_words; ++n) {
    size_t count = n_words - n + 1;
    if (n == 2) {  // every position
      cand_.resize(count);
      for (size_t i = 0; i < count; ++i) {
        gram_[i] = mix(gram_[i], word_hash_[i + 1]);
        gram_chars_[i] += word_chars_[i + 1];
        cand_[i] = static_cast<uint32_t>(i);
      }
    } else {
      next_.clear();
      for (uint32_t i : cand_) {
        if (i >= count) break;  // candidates are in ascending order
        if (repeated_at_[i] != n - 1 || repeated_at_[i + 1] != n - 1) continue;
        gram_[i] = mix(gram_[i], word_hash_[i + n - 1]);
        gram_chars_[i] += word_chars_[i + n - 1];
        next_.push_back(i);
      }
      cand_.swap(next_);
    }
    // Occurrences of each candidate n-gram (the table is sized for them, so it never rehashes
    // and the pointers stay valid).
    table_.reset(cand_.size());
    counts.resize(cand_.size());
    for (size_t k = 0; k < cand_.size(); ++k) {
      uint32_t& c = table_[gram_[cand_[k]]];
      ++c;
      counts[k] = &c;
    }
    if (n <= 4) {
      // Top n-gram: characters of the most frequent n-gram times its count (as datatrove does);
      // an n-gram seen once does not count.
      uint64_t best = 0;
      for (size_t k = 0; k < cand_.size(); ++k)
        if (*counts[k] > 1) best = std::max<uint64_t>(best, uint64_t{*counts[k]} * gram_chars_[cand_[k]]);
      double f = static_cast<double>(best) / chars;
      if (f > top_max[n - 2])
        return Rejection{"gopher_repetition.max_top_" + std::to_string(n) + "gram_char_frac", f};
    } else {
      // Repeated n-grams, walking the text from the start: an n-gram seen before adds its
      // characters and the walk jumps past it, so overlapping repeats are not counted twice.
      uint64_t repeated = 0;
      size_t resume = 0;  // the walk jumped to here
      for (size_t k = 0; k < cand_.size(); ++k) {
        uint32_t i = cand_[k];
        uint32_t& c = *counts[k];
        if ((c & ~kSeen) < 2 || i < resume) continue;
        if (c & kSeen) {
          repeated += gram_chars_[i];
          resume = i + n;
        } else {
          c |= kSeen;
        }
      }
      double f = static_cast<double>(repeated) / chars;
      if (f > dup_max[n - 5])
        return Rejection{"gopher_repetition.max_dup_" + std::to_string(n) + "gram_char_frac", f};
    }
    for (size_t k = 0; k < cand_.size(); ++k)
      if ((*counts[k] & ~kSeen) > 1) repeated_at_[cand_[k]] = static_cast<uint32_t>(n);
  }
  return std::nullopt;
}

}  // namespace nlm::curate
