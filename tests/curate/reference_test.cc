// The fast paths against plain reference implementations on random documents: word segmentation
// (ASCII fast path and ICU islands) against ICU over the whole text, Gopher repetition (hashed,
// candidate-pruned n-grams) against string n-grams, FineWeb against per-line string sets, and the
// character clean-up against a character-by-character version. Every figure must be identical.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "curate/chain.h"
#include "curate/doc_context.h"
#include "curate/fineweb.h"
#include "curate/gopher_repetition.h"
#include "curate/hash_table.h"
#include "curate/normalize.h"
#include "text/utf8.h"
#include "text/words.h"

namespace {
using namespace nlm::curate;
using nlm::corpus::Document;
using nlm::text::WordSegmenter;
using nlm::text::WordSpan;

// Pieces of text: ASCII words and punctuation, whitespace of every kind, and non-ASCII letters,
// marks, joiners, emoji, CJK, Thai, Hebrew, Arabic and spaces.
const std::vector<std::string> kPieces = {
    "a", "b", "Z", "1", "9", "_", ".", ",", "'", "\"", ";", ":", "@", "-", " ", " ", " ", "  ",
    "\n", "\r\n", "\t", "hello", "world", "3.14", "don't", "e.g.", "x@y.z", "v1.2", "a1", "1_",
    "\u00e9", "\u0301", "\u200d", "\u200c", "\u00a0", "\u2019", "\U0001F600", "\U0001F1EB",
    "\U0001F1F7", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35", "\u4e2d\u6587", "\u7684",
    "\u3053\u3093", "\u30ab\u30bf", "\u00ad", "\u200b", "\uff11", "\u0627\u0644\u0639",
    "\u05d0", "\u05d1", "\u2028", "\u0085", "\u2014", "\u03b1\u03b2", "\u2764", "\ufe0f",
    "\U0001F469\u200d\U0001F4BB", "\u1780\u1781", "\u3000", "\x01", "\x7f"};
constexpr size_t kAsciiPieces = 30;  // kPieces[0, kAsciiPieces) are ASCII

std::string random_text(std::mt19937_64& rng, size_t pieces) {
  std::string t;
  bool mostly_ascii = rng() % 4 != 0;
  for (size_t i = 0; i < pieces; ++i) {
    size_t k = rng() % kPieces.size();
    if (mostly_ascii && k >= kAsciiPieces && rng() % 8 != 0) k = rng() % kAsciiPieces;
    t += kPieces[k];
  }
  return t;
}

bool same_words(const std::vector<WordSpan>& a, const std::vector<WordSpan>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].begin != b[i].begin || a[i].size != b[i].size || a[i].kind != b[i].kind ||
        a[i].chars != b[i].chars)
      return false;
  return true;
}

TEST(CurateReference, WordsMatchIcuOnMixedText) {
  std::mt19937_64 rng(11);
  WordSegmenter seg;
  std::vector<WordSpan> fast, icu;
  for (int k = 0; k < 4000; ++k) {
    std::string t = random_text(rng, 1 + rng() % (k % 10 == 0 ? 300 : 30));
    seg.segment(t, nlm::text::AsciiWordRule::Uax29, fast);
    seg.segment_icu(t, icu);
    ASSERT_TRUE(same_words(fast, icu)) << "text: " << t;
  }
}

TEST(CurateReference, AsciiWordKindsMatchIcu) {
  // Short strings over the characters the ASCII rules care about: every word, kind and offset
  // must be ICU's (e.g. "a1" and "1_" are numbers, "__" a letter word, "_" no word).
  const std::string alphabet = "ab1_.,';@ :-\"";
  std::mt19937_64 rng(5);
  WordSegmenter seg;
  std::vector<WordSpan> fast, icu;
  for (int k = 0; k < 20000; ++k) {
    std::string t;
    for (size_t n = 1 + rng() % 8; n > 0; --n) t += alphabet[rng() % alphabet.size()];
    seg.segment(t, nlm::text::AsciiWordRule::Uax29, fast);
    seg.segment_icu(t, icu);
    ASSERT_TRUE(same_words(fast, icu)) << "text: '" << t << "'";
  }
}

// ---- Gopher repetition with strings --------------------------------------------------------

std::string_view trim_ws(std::string_view s) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<Rejection> reference_repetition(const std::string& text, const GopherRepetitionOptions& o) {
  double chars = static_cast<double>(nlm::text::utf8_length(text));
  if (chars == 0) return std::nullopt;
  auto dups = [&](const std::string& sep, uint64_t& elements, uint64_t& dup, uint64_t& dup_chars) {
    std::set<std::string> seen;
    elements = dup = dup_chars = 0;
    size_t pos = 0;
    std::string_view t = text;
    while (pos <= t.size()) {
      size_t end = t.find(sep, pos);
      if (end == std::string_view::npos) end = t.size();
      std::string_view el = trim_ws(t.substr(pos, end - pos));
      if (!el.empty()) {
        ++elements;
        if (!seen.insert(std::string(el)).second) {
          ++dup;
          dup_chars += nlm::text::utf8_length(el);
        }
      }
      pos = end + sep.size();
      while (sep == "\n\n" && pos < t.size() && t[pos] == '\n') ++pos;
    }
  };
  struct Rule {
    std::string sep;
    double max_frac, max_char_frac;
    const char *frac_reason, *char_reason;
  };
  for (const Rule& r : {Rule{"\n\n", o.max_dup_para_frac, o.max_dup_para_char_frac,
                             "gopher_repetition.max_dup_para_frac", "gopher_repetition.max_dup_para_char_frac"},
                        Rule{"\n", o.max_dup_line_frac, o.max_dup_line_char_frac,
                             "gopher_repetition.max_dup_line_frac", "gopher_repetition.max_dup_line_char_frac"}}) {
    uint64_t elements, dup, dup_chars;
    dups(r.sep, elements, dup, dup_chars);
    if (!elements) continue;
    double f = static_cast<double>(dup) / static_cast<double>(elements);
    if (f > r.max_frac) return Rejection{r.frac_reason, f};
    double c = static_cast<double>(dup_chars) / chars;
    if (c > r.max_char_frac) return Rejection{r.char_reason, c};
  }
  WordSegmenter seg;
  std::vector<WordSpan> w;
  seg.segment_icu(text, w);
  if (w.size() < 2) return std::nullopt;
  const double top_max[] = {o.max_top_2gram_char_frac, o.max_top_3gram_char_frac, o.max_top_4gram_char_frac};
  const double dup_max[] = {o.max_dup_5gram_char_frac, o.max_dup_6gram_char_frac, o.max_dup_7gram_char_frac,
                            o.max_dup_8gram_char_frac, o.max_dup_9gram_char_frac, o.max_dup_10gram_char_frac};
  for (size_t n = 2; n <= 10 && n <= w.size(); ++n) {
    std::vector<std::string> grams;
    std::vector<uint64_t> gchars;
    for (size_t i = 0; i + n <= w.size(); ++i) {
      std::string g;
      uint64_t c = 0;
      for (size_t k = i; k < i + n; ++k) {
        g += text.substr(w[k].begin, w[k].size) + '\x1f';
        c += nlm::text::utf8_length(text.substr(w[k].begin, w[k].size));
      }
      grams.push_back(g);
      gchars.push_back(c);
    }
    if (n <= 4) {
      std::map<std::string, uint64_t> count;
      uint64_t best = 0;
      for (size_t i = 0; i < grams.size(); ++i) {
        uint64_t c = ++count[grams[i]];
        if (c > 1) best = std::max(best, c * gchars[i]);
      }
      double f = static_cast<double>(best) / chars;
      if (f > top_max[n - 2]) return Rejection{"gopher_repetition.max_top_" + std::to_string(n) + "gram_char_frac", f};
    } else {
      std::set<std::string> seen;
      uint64_t repeated = 0;
      for (size_t i = 0; i < grams.size();) {
        if (seen.count(grams[i])) {
          repeated += gchars[i];
          i += n;
        } else {
          seen.insert(grams[i]);
          ++i;
        }
      }
      double f = static_cast<double>(repeated) / chars;
      if (f > dup_max[n - 5]) return Rejection{"gopher_repetition.max_dup_" + std::to_string(n) + "gram_char_frac", f};
    }
  }
  return std::nullopt;
}

// Repetitive documents: a small vocabulary, repeated phrases, lines and paragraphs.
std::string repetitive_doc(std::mt19937_64& rng) {
  const std::vector<std::string> vocab = {"the", "cat", "sat", "on", "mat", "a", "dog", "ran",
                                          "caf\u00e9", "\u4e2d\u6587", "extraordinarily", "x1", "it's"};
  const std::vector<std::string> phrases = {"the cat sat on the mat", "a dog ran", "sat on the mat the cat"};
  std::string d;
  size_t n = 1 + rng() % 120;
  for (size_t i = 0; i < n; ++i) {
    int r = static_cast<int>(rng() % 20);
    if (r == 0) d += "\n";
    else if (r == 1) d += "\n\n";
    else if (r == 2) d += phrases[rng() % phrases.size()] + " ";
    else if (r == 3) d += ". ";
    else d += vocab[rng() % vocab.size()] + (rng() % 5 ? " " : ", ");
  }
  return d;
}

// Runs `fast` and `reference` over documents from `make_text` with each of `options`; every
// verdict and measured value must be equal. Returns how many rejections were compared.
template <class Fast, class Options, class Reference, class MakeText>
int compare_filters(Fast& fast, const std::vector<Options>& options, Reference reference, int docs,
                    MakeText make_text) {
  ProfileMap profiles = builtin_profiles();
  DocContext ctx(profiles);
  int rejected = 0;
  for (int k = 0; k < docs; ++k) {
    Document doc;
    doc.text = make_text(k);
    for (const auto& o : options) {
      ctx.reset(doc);
      auto got = fast.check(ctx, o);
      auto want = reference(doc.text, o);
      EXPECT_EQ(got.has_value(), want.has_value()) << doc.text;
      if (!got || !want) continue;
      ++rejected;
      EXPECT_EQ(got->reason, want->reason) << doc.text;
      EXPECT_EQ(got->value, want->value) << got->reason << " on: " << doc.text;
    }
    if (::testing::Test::HasFailure()) break;
  }
  return rejected;
}

TEST(CurateReference, GopherRepetitionMatchesStringNgrams) {
  GopherRepetition fast;
  std::mt19937_64 rng(3);
  // Per rule: all other thresholds out of reach and this one at -1, so the figure itself is
  // returned; plus the defaults.
  const char* names[] = {"max_dup_para_frac", "max_dup_para_char_frac", "max_dup_line_frac",
                         "max_dup_line_char_frac", "max_top_2gram_char_frac", "max_top_3gram_char_frac",
                         "max_top_4gram_char_frac", "max_dup_5gram_char_frac", "max_dup_6gram_char_frac",
                         "max_dup_7gram_char_frac", "max_dup_8gram_char_frac", "max_dup_9gram_char_frac",
                         "max_dup_10gram_char_frac"};
  std::vector<GopherRepetitionOptions> options(1);
  for (const char* name : names) {
    GopherRepetitionOptions o;
    double* fields[] = {&o.max_dup_para_frac, &o.max_dup_para_char_frac, &o.max_dup_line_frac,
                        &o.max_dup_line_char_frac, &o.max_top_2gram_char_frac, &o.max_top_3gram_char_frac,
                        &o.max_top_4gram_char_frac, &o.max_dup_5gram_char_frac, &o.max_dup_6gram_char_frac,
                        &o.max_dup_7gram_char_frac, &o.max_dup_8gram_char_frac, &o.max_dup_9gram_char_frac,
                        &o.max_dup_10gram_char_frac};
    for (size_t k = 0; k < 13; ++k) *fields[k] = std::string(names[k]) == name ? -1 : 10;
    options.push_back(o);
  }
  int rejected = compare_filters(fast, options, reference_repetition, 600, [&](int k) {
    return k % 3 ? repetitive_doc(rng) : random_text(rng, 1 + rng() % 200);
  });
  EXPECT_GT(rejected, 1000);
}

TEST(CurateReference, NgramOrderMatters) {
  // "a b" and "b a" are different 2-grams: a document of alternating pairs has no repeated 2-gram
  // beyond the real ones.
  ProfileMap profiles = builtin_profiles();
  DocContext ctx(profiles);
  GopherRepetition g;
  GopherRepetitionOptions o;
  for (double* f : {&o.max_dup_para_frac, &o.max_dup_para_char_frac, &o.max_dup_line_frac,
                    &o.max_dup_line_char_frac, &o.max_top_3gram_char_frac, &o.max_top_4gram_char_frac})
    *f = 10;
  o.max_top_2gram_char_frac = -1;
  Document doc;
  doc.text = "alpha beta beta alpha";  // 2-grams: "alpha beta", "beta beta", "beta alpha": none twice
  ctx.reset(doc);
  auto r = g.check(ctx, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "gopher_repetition.max_top_2gram_char_frac");
  EXPECT_EQ(r->value, 0);
}

// ---- FineWeb with strings ------------------------------------------------------------------

std::optional<Rejection> reference_fineweb(const std::string& text, const FineWebOptions& o) {
  uint64_t lines = 0, punct = 0, short_lines = 0, dup_chars = 0, newlines = 0;
  std::set<std::string> seen;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line = trim_ws(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    if (line.empty()) continue;
    ++lines;
    uint64_t c = nlm::text::utf8_length(line);
    for (const auto& m : o.terminal_punctuation)
      if (line.size() >= m.size() && line.substr(line.size() - m.size()) == m) {
        ++punct;
        break;
      }
    if (static_cast<int64_t>(c) <= o.short_line_length) ++short_lines;
    if (!seen.insert(std::string(line)).second) dup_chars += c;
  }
  for (char ch : text) newlines += ch == '\n';
  uint64_t chars = nlm::text::utf8_length(text) - newlines;
  if (lines == 0) return Rejection{"fineweb.empty", 0};
  double lp = static_cast<double>(punct) / static_cast<double>(lines);
  if (lp < o.min_line_punct_ratio && !(o.line_punct_exclude_zero && punct == 0))
    return Rejection{"fineweb.min_line_punct_ratio", lp};
  double sl = static_cast<double>(short_lines) / static_cast<double>(lines);
  if (sl > o.max_short_line_ratio) return Rejection{"fineweb.max_short_line_ratio", sl};
  double cd = chars ? static_cast<double>(dup_chars) / static_cast<double>(chars) : 0;
  if (cd > o.max_char_dup_ratio) return Rejection{"fineweb.max_char_dup_ratio", cd};
  WordSegmenter seg;
  std::vector<WordSpan> w;
  seg.segment_icu(text, w);
  double nl = w.empty() ? static_cast<double>(newlines) : static_cast<double>(newlines) / static_cast<double>(w.size());
  if (nl > o.max_newline_ratio) return Rejection{"fineweb.max_newline_ratio", nl};
  return std::nullopt;
}

TEST(CurateReference, FineWebMatchesStringLines) {
  FineWeb fast;
  std::vector<FineWebOptions> options(4);
  options[1].min_line_punct_ratio = -1;
  options[1].max_short_line_ratio = 2;
  options[1].max_char_dup_ratio = -1;  // reports the duplicate character share
  options[2].min_line_punct_ratio = 2;  // reports the punctuated share
  options[3].terminal_punctuation = {"", "x"};  // an empty mark matches every line
  std::mt19937_64 rng(9);
  int rejected = compare_filters(fast, options, reference_fineweb, 1500, [&](int k) {
    return k % 2 ? repetitive_doc(rng) : random_text(rng, 1 + rng() % 150);
  });
  EXPECT_GT(rejected, 1500);
}

// ---- Character clean-up, one character at a time -------------------------------------------

bool reference_clean(std::string& text, bool control, bool zero_width, bool whitespace) {
  auto zw = [](uint32_t cp) { return cp == 0x200B || cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD || cp == 0x180E; };
  auto uspace = [](uint32_t cp) {
    return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000 || cp == '\t' || cp == '\v' || cp == '\f';
  };
  std::string out;
  std::string_view s = text;
  size_t spaces = 0, newlines = 0;
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = nlm::text::utf8_next(s, i);
    if (whitespace) {
      if (cp == '\r') {
        if (i < s.size() && s[i] == '\n') ++i;
        cp = '\n';
      }
      if (cp == 0x2028 || cp == 0x2029) cp = '\n';
      if (cp == '\n') {
        ++newlines;
        spaces = 0;
        continue;
      }
      if (uspace(cp) || cp == ' ') {
        ++spaces;
        continue;
      }
    }
    bool ctl = (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
    if (control && ctl) continue;
    if (zero_width && zw(cp)) continue;
    if (whitespace) {
      if (!out.empty()) {
        if (newlines) out.append(std::min<size_t>(newlines, 2), '\n');
        else if (spaces) out.push_back(' ');
      }
      newlines = spaces = 0;
    }
    out.append(s.substr(start, i - start));
  }
  if (out == text) return false;
  text = out;
  return true;
}

TEST(CurateReference, CleanCharactersMatchesCharacterLoop) {
  std::mt19937_64 rng(21);
  for (int k = 0; k < 6000; ++k) {
    std::string text = random_text(rng, 1 + rng() % 60);
    bool c = rng() % 2, z = rng() % 2, w = rng() % 4 != 0;
    std::string a = text, b = text;
    bool ca = clean_characters(a, c, z, w), cb = reference_clean(b, c, z, w);
    ASSERT_EQ(ca, cb) << text;
    ASSERT_EQ(a, b) << text;
  }
}

}  // namespace

namespace {
TEST(CurateReference, HashCounterGrowsPastItsSize) {
  // Sized for 4 keys, given 5000: it grows and keeps every count (key 0 included).
  HashCounter t;
  t.reset(4);
  for (uint64_t k = 0; k < 5000; ++k) t[k * 0x9E3779B97F4A7C15ull] += static_cast<uint32_t>(k % 7 + 1);
  for (uint64_t k = 0; k < 5000; ++k) ASSERT_EQ(t[k * 0x9E3779B97F4A7C15ull], k % 7 + 1) << k;
  t.reset(3);
  EXPECT_TRUE(t.insert(42));
  EXPECT_FALSE(t.insert(42));
  EXPECT_TRUE(t.insert(0));
}
}  // namespace
