// Duplicate-element and n-gram statistics with hashed words: an n-gram is identified by the
// 64-bit combination of its word hashes (a collision only makes a document look more repetitive
// by one n-gram, with probability ~2^-64 per pair).
#include "curate/gopher_repetition.h"

#include <algorithm>
#include <unordered_map>
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
inline uint64_t mix(uint64_t h, uint64_t w) { return (h ^ w) * 0x9E3779B97F4A7C15ull + (h >> 29); }
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
  word_hash_.resize(n_words);
  word_chars_.resize(n_words);
  for (size_t i = 0; i < n_words; ++i) {
    std::string_view w = ctx.word(words[i]);
    word_hash_[i] = hash64(w);
    word_chars_[i] = static_cast<uint32_t>(utf8_chars(w));
  }

  // Top n-gram: characters of the most frequent n-gram (counted once per occurrence, as datatrove
  // does) over all characters; an n-gram seen once does not count.
  const double top_max[] = {o.max_top_2gram_char_frac, o.max_top_3gram_char_frac,
                            o.max_top_4gram_char_frac};
  std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> counts;  // hash → (count, chars)
  for (int n = 2; n <= 4; ++n) {
    if (n_words < static_cast<size_t>(n)) break;
    counts.clear();
    counts.reserve(n_words);
    uint64_t best = 0;
    for (size_t i = 0; i + n <= n_words; ++i) {
      uint64_t h = static_cast<uint64_t>(n);
      uint32_t c = 0;
      for (int k = 0; k < n; ++k) {
        h = mix(h, word_hash_[i + k]);
        c += word_chars_[i + k];
      }
      auto& e = counts[h];
      ++e.first;
      e.second = c;
      if (e.first > 1) best = std::max<uint64_t>(best, uint64_t{e.first} * e.second);
    }
    double f = static_cast<double>(best) / chars;
    if (f > top_max[n - 2])
      return Rejection{"gopher_repetition.max_top_" + std::to_string(n) + "gram_char_frac", f};
  }

  // Repeated n-grams: walk the words; an n-gram seen before adds its characters and the walk
  // jumps past it, so overlapping repeats are not counted twice.
  const double dup_max[] = {o.max_dup_5gram_char_frac, o.max_dup_6gram_char_frac,
                            o.max_dup_7gram_char_frac, o.max_dup_8gram_char_frac,
                            o.max_dup_9gram_char_frac, o.max_dup_10gram_char_frac};
  std::unordered_set<uint64_t> seen;
  for (int n = 5; n <= 10; ++n) {
    if (n_words < static_cast<size_t>(n)) break;
    seen.clear();
    seen.reserve(n_words);
    uint64_t repeated = 0;
    size_t i = 0;
    while (i + n <= n_words) {
      uint64_t h = static_cast<uint64_t>(n);
      uint32_t c = 0;
      for (int k = 0; k < n; ++k) {
        h = mix(h, word_hash_[i + k]);
        c += word_chars_[i + k];
      }
      if (!seen.insert(h).second) {
        repeated += c;
        i += static_cast<size_t>(n);
      } else {
        ++i;
      }
    }
    double f = static_cast<double>(repeated) / chars;
    if (f > dup_max[n - 5])
      return Rejection{"gopher_repetition.max_dup_" + std::to_string(n) + "gram_char_frac", f};
  }
  return std::nullopt;
}

}  // namespace nlm::curate
