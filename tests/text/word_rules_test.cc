// The two ASCII word rules of text::WordSegmenter. AlnumRuns (dedup): ASCII chunks split at
// non-alphanumerics; non-ASCII chunks give exactly the word-like segments of ICU's word break
// iterator run over that chunk (the plain reference below). Uax29 (curation) keeps ICU's joins on
// ASCII, so the two differ on apostrophes, decimal points and underscores.
#include <gtest/gtest.h>
#include <unicode/brkiter.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>

#include <memory>

#include "text/words.h"

using nlm::text::AsciiWordRule;
using nlm::text::WordSegmenter;
using nlm::text::WordSpan;

namespace {

std::vector<std::string> icu_words(std::string_view chunk) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> brk(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
  UText* ut = utext_openUTF8(nullptr, chunk.data(), static_cast<int64_t>(chunk.size()), &status);
  brk->setText(ut, status);
  std::vector<std::string> out;
  int32_t start = brk->first();
  for (int32_t stop = brk->next(); stop != icu::BreakIterator::DONE; start = stop, stop = brk->next())
    if (brk->getRuleStatus() >= UBRK_WORD_NONE_LIMIT) out.emplace_back(chunk.substr(start, stop - start));
  utext_close(ut);
  return out;
}

std::vector<std::string> split(WordSegmenter& s, std::string_view text, AsciiWordRule rule = AsciiWordRule::AlnumRuns) {
  std::vector<std::string_view> v;
  s.segment(text, rule, v);
  std::vector<WordSpan> spans;  // the span form gives the same words
  s.segment(text, rule, spans);
  EXPECT_EQ(spans.size(), v.size());
  for (size_t i = 0; i < std::min(spans.size(), v.size()); ++i)
    EXPECT_EQ(text.substr(spans[i].begin, spans[i].size), v[i]) << i;
  return {v.begin(), v.end()};
}

TEST(AlnumRunsWords, NonAsciiChunksMatchIcuWordBreak) {
  WordSegmenter s;
  for (std::string chunk : {"我哋今日去咗銀行。", "café-au-lait,3.14€", "ภาษาไทยง่ายนิดเดียว", "naïve'd_x1", "日本語のテキスト",
                            "Übersetzung:«Straße»", "𠀋𠀌abc漢字123", "e\xCC\x81t\xC3\xA9—x"}) {
    SCOPED_TRACE(chunk);
    EXPECT_EQ(split(s, chunk), icu_words(chunk));
  }
}

TEST(AlnumRunsWords, AsciiSplitsAtNonAlphanumericsAndSpacesSeparateChunks) {
  WordSegmenter s;
  EXPECT_EQ(split(s, "don't stop--3.14 now"), (std::vector<std::string>{"don", "t", "stop", "3", "14", "now"}));
  EXPECT_EQ(split(s, "  Straße  x "), (std::vector<std::string>{"Straße", "x"}));
  EXPECT_TRUE(split(s, " \t\n").empty());
}

// The input where the stages need different answers: curation counts "don't", "3.14" and
// "snake_case" as one word each, as ICU does; dedup splits them so shingles match across
// punctuation variants. Text with non-ASCII characters is the same under both.
TEST(AsciiWordRule, TheTwoRulesDifferOnAsciiJoinersOnly) {
  WordSegmenter s;
  const std::string ascii = "don't pay 3.14 for snake_case e.g. now";
  EXPECT_EQ(split(s, ascii, AsciiWordRule::Uax29),
            (std::vector<std::string>{"don't", "pay", "3.14", "for", "snake_case", "e.g", "now"}));
  EXPECT_EQ(split(s, ascii, AsciiWordRule::AlnumRuns),
            (std::vector<std::string>{"don", "t", "pay", "3", "14", "for", "snake", "case", "e", "g", "now"}));
  const std::string mixed = "我们今天去银行 café";
  EXPECT_EQ(split(s, mixed, AsciiWordRule::Uax29), split(s, mixed, AsciiWordRule::AlnumRuns));
}

}  // namespace
