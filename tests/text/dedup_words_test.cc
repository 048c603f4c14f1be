// DedupWordSplitter: ASCII chunks split at non-alphanumerics; non-ASCII chunks give exactly the
// word-like segments of ICU's word break iterator run over that chunk (the plain reference below).
#include <gtest/gtest.h>
#include <unicode/brkiter.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>

#include <memory>

#include "text/dedup_words.h"

using nlm::text::DedupWordSplitter;

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

std::vector<std::string> split(DedupWordSplitter& s, std::string_view text) {
  std::vector<std::string_view> v;
  s.split(text, v);
  return {v.begin(), v.end()};
}

TEST(DedupWords, NonAsciiChunksMatchIcuWordBreak) {
  DedupWordSplitter s;
  for (std::string chunk : {"我哋今日去咗銀行。", "café-au-lait,3.14€", "ภาษาไทยง่ายนิดเดียว", "naïve'd_x1", "日本語のテキスト",
                            "Übersetzung:«Straße»", "𠀋𠀌abc漢字123", "e\xCC\x81t\xC3\xA9—x"}) {
    SCOPED_TRACE(chunk);
    EXPECT_EQ(split(s, chunk), icu_words(chunk));
  }
}

TEST(DedupWords, AsciiSplitsAtNonAlphanumericsAndSpacesSeparateChunks) {
  DedupWordSplitter s;
  EXPECT_EQ(split(s, "don't stop--3.14 now"), (std::vector<std::string>{"don", "t", "stop", "3", "14", "now"}));
  EXPECT_EQ(split(s, "  Straße  x "), (std::vector<std::string>{"Straße", "x"}));
  EXPECT_TRUE(split(s, " \t\n").empty());
}

}  // namespace
