// Duplicate-element and n-gram statistics with hashed words: an n-gram is identified by the
// 64-bit combination of its word hashes (a collision only makes a document look more repetitive
// by one n-gram, with probability ~2^-64 per pair).
#include "curate/gopher_repetition.h"

#include <algorithm>
#include <unordered_set>

#include "core/hash.h"
#include "curate/doc_context.h"
#include "curate/text_util.h"

namespace nlm::curate {

void GopherRepetitionOptions::visit(ParamVisitor& v) {
  v.on("max_dup_para_frac", max_dup_para_frac, "share of repeated paragraphs");
  v.on("max_dup_para_char_frac", max_dup_para_char_frac, "character share of repeated paragraphs");
  v.on("max_dup_line_frac", max_dup_line_frac, "share of repeated lines");
  v.on("max_dup_line_char_frac", max_dup_line_char_frac, "character share of repeated lines");
  v.on("max_top_2gram_char_frac", max_top_2gram_char_frac, "character share of the top 2-gram");
  v.on("max_top_3gram_char_frac", max_top_3gram_char_frac, "character share of the top 3-gram");
  v.on("max_top_4gram_char_frac", max_top_4gram_char_frac, "character share of the top 4-gram");
  v.on("max_dup_5gram_char_frac", max_dup_5gram_char_frac, "character share of repeated 5-grams");
  v.on("max_dup_6gram_char_frac", max_dup_6gram_char_frac, "character share of repeated 6-grams");
  v.on("max_dup_7gram_char_frac", max_dup_7gram_char_frac, "character share of repeated 7-grams");
  v.on("max_dup_8gram_char_frac", max_dup_8gram_char_frac, "character share of repeated 8-grams");
  v.on("max_dup_9gram_char_frac", max_dup_9gram_char_frac, "character share of repeated 9-grams");
  v.on("max_dup_10gram_char_frac", max_dup_10gram_char_frac, "character share of repeated 10-grams");
}

namespace {
struct DupStats {
  uint64_t elements = 0, dup_elements = 0, dup_chars = 0;
};
// Elements of `text` separated by `sep` runs; empty (blank) elements are ignored.
DupStats duplicates(std::string_view text, std::string_view sep) {
  DupStats s;
  std::unordered_set<uint64_t> seen;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(sep, pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view el = trim(text.substr(pos, end - pos));
    if (!el.empty()) {
      ++s.elements;
      if (!seen.insert(hash64(el)).second) {
        ++s.dup_elements;
        s.dup_chars += utf8_chars(el);
      }
    }
    pos = end + sep.size();
    while (sep == "\n\n" && pos < text.size() && text[pos] == '\n') ++pos;
  }
  return s;
}
inline uint64_t mix(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 31);
}
}  // namespace

std::optional<Rejection> GopherRepetition::check(DocContext& ctx, const GopherRepetitionOptions& o) {
  std::string_view text = ctx.text();
  double chars = static_cast<double>(ctx.chars());
  if (chars == 0) return std::nullopt;

  // Repeated elements by count and by characters; paragraphs first, then lines.
  struct Rule {
    const char* sep;
    double max_frac, max_char_frac;
    const char *frac_reason, *char_reason;
  };
  const Rule rules[] = {
      {"\n\n", o.max_dup_para_frac, o.max_dup_para_char_frac, "gopher_repetition.max_dup_para_frac",
       "gopher_repetition.max_dup_para_char_frac"},
      {"\n", o.max_dup_line_frac, o.max_dup_line_char_frac, "gopher_repetition.max_dup_line_frac",
       "gopher_repetition.max_dup_line_char_frac"}};
  for (const Rule& r : rules) {
    DupStats d = duplicates(text, r.sep);
    if (!d.elements) continue;
    double f = static_cast<double>(d.dup_elements) / static_cast<double>(d.elements);
    if (f > r.max_frac) return Rejection{r.frac_reason, f};
    double c = static_cast<double>(d.dup_chars) / chars;
    if (c > r.max_char_frac) return Rejection{r.char_reason, c};
  }

  const auto& words = ctx.words();
  size_t n_words = words.size();
  if (n_words < 2) return std::nullopt;
  // gram_[i] / gram_chars_[i]: hash and characters of the n-gram starting at word i, extended
  // from n-1 to n words in place, so each n costs one pass.
  gram_.resize(n_words);
  gram_chars_.resize(n_words);
  word_chars_.resize(n_words);
  for (size_t i = 0; i < n_words; ++i) {
    std::string_view w = ctx.word(words[i]);
    gram_[i] = hash64(w) | 1;  // never 0: 0 marks an empty slot in the table
    gram_chars_[i] = word_chars_[i] = static_cast<uint32_t>(utf8_chars(w));
  }
  word_hash_.assign(gram_.begin(), gram_.end());
  table_.reset(n_words);

  const double top_max[] = {o.max_top_2gram_char_frac, o.max_top_3gram_char_frac,
                            o.max_top_4gram_char_frac};
  const double dup_max[] = {o.max_dup_5gram_char_frac, o.max_dup_6gram_char_frac,
                            o.max_dup_7gram_char_frac, o.max_dup_8gram_char_frac,
                            o.max_dup_9gram_char_frac, o.max_dup_10gram_char_frac};
  for (size_t n = 2; n <= 10 && n <= n_words; ++n) {
    size_t count = n_words - n + 1;
    for (size_t i = 0; i < count; ++i) {
      gram_[i] = mix(gram_[i], word_hash_[i + n - 1]) | 1;
      gram_chars_[i] += word_chars_[i + n - 1];
    }
    table_.clear();
    if (n <= 4) {
      // Top n-gram: characters of the most frequent n-gram times its count (as datatrove does);
      // an n-gram seen once does not count.
      uint64_t best = 0;
      for (size_t i = 0; i < count; ++i) {
        uint32_t& c = table_.slot(gram_[i]);
        ++c;
        if (c > 1) best = std::max<uint64_t>(best, uint64_t{c} * gram_chars_[i]);
      }
      double f = static_cast<double>(best) / chars;
      if (f > top_max[n - 2])
        return Rejection{"gopher_repetition.max_top_" + std::to_string(n) + "gram_char_frac", f};
    } else {
      // Repeated n-grams: an n-gram seen before adds its characters and the walk jumps past it,
      // so overlapping repeats are not counted twice.
      uint64_t repeated = 0;
      size_t i = 0;
      while (i < count) {
        uint32_t& c = table_.slot(gram_[i]);
        if (c) {
          repeated += gram_chars_[i];
          i += n;
        } else {
          c = 1;
          ++i;
        }
      }
      double f = static_cast<double>(repeated) / chars;
      if (f > dup_max[n - 5])
        return Rejection{"gopher_repetition.max_dup_" + std::to_string(n) + "gram_char_frac", f};
    }
  }
  return std::nullopt;
}

}  // namespace nlm::curate

namespace nlm::curate {

void NgramTable::reset(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  if (keys_.size() < cap || keys_.size() > 4 * cap) {
    keys_.assign(cap, 0);
    counts_.assign(cap, 0);
    used_.clear();
  }
  mask_ = keys_.size() - 1;
}

void NgramTable::clear() {
  // Only the slots in use are reset, so a small document after a large one stays cheap.
  for (uint32_t i : used_) {
    keys_[i] = 0;
    counts_[i] = 0;
  }
  used_.clear();
}

}  // namespace nlm::curate
