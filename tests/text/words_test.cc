// ICU word segmentation: unspaced Chinese splits into dictionary words, and the ASCII fast path
// agrees with ICU's rules on ASCII text.
#include <gtest/gtest.h>

#include "text/words.h"

namespace {
using nlm::text::WordKind;
using nlm::text::WordSegmenter;
using nlm::text::WordSpan;

std::vector<std::string> words_of(const std::string& s) {
  WordSegmenter seg;
  std::vector<WordSpan> w;
  seg.segment(s, nlm::text::AsciiWordRule::Uax29, w);
  std::vector<std::string> out;
  for (const auto& x : w) out.push_back(s.substr(x.begin, x.size));
  return out;
}

// The words of `text` by segment() must be those of ICU over the whole text (segment_icu).
std::vector<WordSpan> expect_icu_words(const std::string& text) {
  WordSegmenter seg;
  std::vector<WordSpan> fast, icu;
  seg.segment(text, nlm::text::AsciiWordRule::Uax29, fast);
  seg.segment_icu(text, icu);
  EXPECT_EQ(fast.size(), icu.size());
  for (size_t i = 0; i < std::min(fast.size(), icu.size()); ++i) {
    EXPECT_EQ(text.substr(fast[i].begin, fast[i].size), text.substr(icu[i].begin, icu[i].size)) << i;
    EXPECT_EQ(fast[i].begin, icu[i].begin) << i;
    EXPECT_EQ(fast[i].kind, icu[i].kind) << text.substr(icu[i].begin, icu[i].size);
    EXPECT_EQ(fast[i].chars, icu[i].chars) << i;
  }
  return fast;
}

TEST(CurateWords, ChineseUsesDictionary) {
  auto w = words_of("我哋今日去咗銀行");
  EXPECT_GE(w.size(), 4u);
  EXPECT_NE(std::find(w.begin(), w.end(), "銀行"), w.end());
}

TEST(CurateWords, SkipsPunctuationAndSpaces) {
  auto w = words_of("Hello, world!  Ça va? 3.14 don't");
  EXPECT_EQ(w, (std::vector<std::string>{"Hello", "world", "Ça", "va", "3.14", "don't"}));
}

TEST(CurateWords, AsciiFastPathMatchesIcu) {
  // The ASCII fast path must segment exactly as ICU over the whole text (segment_icu).
  std::string ascii =
      "It's 3.14 or 1,000 e.g. end.Next foo_bar -- x+y=z (a) [b] U.S.A. 12:30 can't, won't! "
      "http://example.com/a?b=c mail: a.b@c.de 2023-01-15 x@y @z w@ 1@2 a1b2 A'B 7'8 a:b 1:2 a;b "
      "3;4 2,5,6 x.1 1.x _a_ __ a__b ab.' 'ab' v1.2.3.4 a1 1_ _ x_1";
  expect_icu_words(ascii);
}

TEST(CurateWords, IslandsAroundNonAscii) {
  // Mostly ASCII with a few non-ASCII words: ICU only sees the stretches around them, and the
  // result is ICU's over the whole text, with lengths in code points.
  std::string s = "The caf\u00e9 on the corner \u2014 it\u2019s open. 12,5 km, na\u00efve "
                  "\u4e2d\u6587\u6587\u672c and then plain ASCII for a good while longer, with e.g. "
                  "abbreviations, don't and 3.14, before \U0001F600 an emoji.";
  auto mixed = expect_icu_words(s);
  auto at = [&](const std::string& w) {
    for (const auto& x : mixed)
      if (s.substr(x.begin, x.size) == w) return x;
    ADD_FAILURE() << "no word " << w;
    return WordSpan{};
  };
  EXPECT_EQ(at("caf\u00e9").chars, 4u);
  EXPECT_EQ(at("it\u2019s").chars, 4u);
  EXPECT_EQ(at("12,5").kind, WordKind::Number);
}

TEST(CurateWords, KindsAreReported) {
  WordSegmenter seg;
  std::vector<WordSpan> w;
  std::string s = "abc 123 中文";
  seg.segment(s, nlm::text::AsciiWordRule::Uax29, w);
  ASSERT_GE(w.size(), 3u);
  EXPECT_EQ(w[0].kind, WordKind::Letter);
  EXPECT_EQ(w[1].kind, WordKind::Number);
  EXPECT_EQ(w.back().kind, WordKind::Ideo);
}

}  // namespace
