// chrF and chrF++ against sacreBLEU's published test values (test/test_chrf.py in
// mjpost/sacrebleu) and the HF `chrf` metric card's chrF++ examples (which run sacreBLEU), plus the
// signature format.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/options.h"
#include "eval/metrics/chrf.h"
#include "eval/metrics/references.h"

namespace nlm::testing {
namespace {

using namespace eval::metrics;

double corpus(const std::vector<std::string>& hyps, const std::vector<std::string>& refs, const ChrfOptions& o) {
  return Chrf(o).corpus_score(hyps, {refs}).score;
}

TEST(Chrf, EpsilonSmoothingBeta3) {
  ChrfOptions o;
  o.beta = 3;
  o.eps_smoothing = true;
  struct Case {
    std::vector<std::string> h, r;
    double expected;
  };
  const Case cases[] = {
      {{"abcdefg"}, {"hijklmnop"}, 0.0},
      {{"a"}, {"b"}, 0.0},
      {{""}, {"b"}, 0.0},
      {{""}, {"ref"}, 0.0},
      {{""}, {"reference"}, 0.0},
      {{"aa"}, {"ab"}, 8.3333},
      {{"a", "b"}, {"a", "c"}, 8.3333},
      {{"a"}, {"a"}, 16.6667},
      {{"a b c"}, {"a b c"}, 50.0},
      {{"a b c"}, {"abc"}, 50.0},
      {{" risk assessment must be made of those who are qualified and expertise in the sector - these are the "
        "scientists ."},
       {"risk assessment has to be undertaken by those who are qualified and expert in that area - that is the "
        "scientists ."},
       63.361730},
      {{" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "},
       {"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."},
       64.1302698},
      {{"Niemand hat die Absicht, eine Mauer zu errichten"}, {"Niemand hat die Absicht, eine Mauer zu errichten"}, 100.0},
  };
  for (const auto& c : cases) EXPECT_NEAR(corpus(c.h, c.r, o), c.expected, 1e-4) << c.h[0];
}

TEST(Chrf, EffectiveOrderBeta3) {
  ChrfOptions o;
  o.beta = 3;
  EXPECT_NEAR(corpus({"a"}, {"a"}, o), 100.0, 1e-4);
  EXPECT_NEAR(corpus({""}, {"reference"}, o), 0.0, 1e-4);
  EXPECT_NEAR(corpus({"a b c"}, {"a b c"}, o), 100.0, 1e-4);
  EXPECT_NEAR(corpus({"a b c"}, {"abc"}, o), 100.0, 1e-4);
  EXPECT_NEAR(corpus({""}, {"c"}, o), 0.0, 1e-4);
  EXPECT_NEAR(corpus({"a", "b"}, {"a", "c"}, o), 50.0, 1e-4);
  EXPECT_NEAR(corpus({"aa"}, {"ab"}, o), 25.0, 1e-4);
}

TEST(Chrf, KeepWhitespace) {
  ChrfOptions o;
  o.beta = 3;
  o.whitespace = true;
  EXPECT_NEAR(corpus({"Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich."},
                     {"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."}, o),
              67.3481606, 1e-4);
  EXPECT_NEAR(corpus({"risk assessment must be made of those who are qualified and expertise in the sector - these "
                      "are the scientists ."},
                     {"risk assessment has to be undertaken by those who are qualified and expert in that area - "
                      "that is the scientists ."},
                     o),
              65.2414427, 1e-4);
}

TEST(Chrf, SentenceLevelWithEpsilonSmoothing) {
  ChrfOptions o;
  o.eps_smoothing = true;
  Chrf c(o);
  EXPECT_NEAR(c.sentence_score("Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
                               {"Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře."})
                  .score,
              39.14078509, 1e-4);
  EXPECT_NEAR(c.sentence_score("Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
                               {"A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři."})
                  .score,
              31.22557079, 1e-4);
  EXPECT_NEAR(c.sentence_score("Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
                               {"Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli."})
                  .score,
              57.15704367, 1e-4);
}

TEST(Chrf, DefaultsAndChrfPlusPlusFromTheMetricCard) {
  ChrfOptions o;
  EXPECT_NEAR(corpus({"The relationship between Obama and Netanyahu is not exactly friendly."},
                     {"The ties between Obama and Netanyahu are not particularly friendly."}, o),
              61.576379378113785, 1e-9);
  const std::vector<std::string> hyps = {"The relationship between cats and dogs is not exactly friendly.",
                                         "a good bookshop is just a genteel black hole that knows how to read."};
  const std::vector<std::string> refs = {"The relationship between dogs and cats is not exactly friendly.",
                                         "A good bookshop is just a genteel Black Hole that knows how to read."};
  o.word_order = 2;
  Chrf pp(o);
  auto s = pp.corpus_score(hyps, {refs});
  EXPECT_NEAR(s.score, 82.87263732906315, 1e-9);
  EXPECT_EQ(s.name, "chrF2++");
  EXPECT_EQ(pp.signature(), std::string("nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:") + kSacrebleuVersion);
  EXPECT_EQ(pp.format(s).substr(0, 8), "chrF2++|");
  o.lowercase = true;
  EXPECT_NEAR(corpus(hyps, refs, o), 92.12853119829202, 1e-9);
}

TEST(Chrf, MultipleReferencesPickTheBestF) {
  ChrfOptions o;
  Chrf c(o);
  const double alone = c.sentence_score("the cat sat", {"the cat sat"}).score;
  const double with_bad = c.sentence_score("the cat sat", {"zzz", "the cat sat"}).score;
  EXPECT_DOUBLE_EQ(alone, with_bad);
  EXPECT_EQ(c.signature().substr(0, 8), "nrefs:2|");
  o.eps_smoothing = true;
  o.whitespace = true;
  o.lowercase = true;
  Chrf e(o);
  e.sentence_score("a", {"a"});
  EXPECT_EQ(e.signature().substr(0, 48), "nrefs:1|case:lc|eff:no|nc:6|nw:0|space:yes|versi");
}

TEST(Chrf, BadInput) {
  ChrfOptions o;
  o.char_order = 0;
  EXPECT_THROW(Chrf{o}, opt::OptionError);
  Chrf c(ChrfOptions{});
  EXPECT_THROW(c.corpus_score({"a", "b"}, {{"a"}}), Error);
}

}  // namespace
}  // namespace nlm::testing
