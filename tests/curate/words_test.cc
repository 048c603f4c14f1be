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
  seg.segment(s, w);
  std::vector<std::string> out;
  for (const auto& x : w) out.push_back(s.substr(x.begin, x.size));
  return out;
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
  // Appending one non-ASCII word forces the ICU path; the ASCII prefix must segment the same.
  std::string ascii =
      "It's 3.14 or 1,000 e.g. end.Next foo_bar -- x+y=z (a) [b] U.S.A. 12:30 can't, won't! "
      "http://example.com/a?b=c mail: a.b@c.de 2023-01-15 x@y @z w@ 1@2 a1b2 A'B 7'8 a:b 1:2 a;b "
      "3;4 2,5,6 x.1 1.x _a_ __ a__b ab.' 'ab'";
  auto fast = words_of(ascii);
  auto icu = words_of(ascii + " é");
  ASSERT_FALSE(icu.empty());
  icu.pop_back();
  EXPECT_EQ(fast.size(), icu.size());
  for (size_t i = 0; i < std::min(fast.size(), icu.size()); ++i) EXPECT_EQ(fast[i], icu[i]) << i;
  for (size_t i = 0; i < fast.size(); ++i) EXPECT_EQ(fast[i], icu[i]) << i;
}

TEST(CurateWords, KindsAreReported) {
  WordSegmenter seg;
  std::vector<WordSpan> w;
  std::string s = "abc 123 中文";
  seg.segment(s, w);
  ASSERT_GE(w.size(), 3u);
  EXPECT_EQ(w[0].kind, WordKind::Letter);
  EXPECT_EQ(w[1].kind, WordKind::Number);
  EXPECT_EQ(w.back().kind, WordKind::Ideo);
}

}  // namespace
