// BLEU against sacreBLEU's own published test values (test/test_bleu.py and
// test/test_sentence_bleu.py in mjpost/sacrebleu) and its signature format, plus the tokenizers'
// rules on cases where a naive reimplementation goes wrong.
#include <gtest/gtest.h>

#include <cstdio>

#include "core/error.h"
#include "core/options.h"
#include "eval/metrics/bleu.h"
#include "eval/metrics/pystr.h"
#include "eval/metrics/references.h"

namespace nlm::testing {
namespace {

using namespace eval::metrics;

// sacrebleu.raw_corpus_bleu(hyps, [refs], floor): floor smoothing, no tokenization, effective order.
double raw_corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs, double floor) {
  BleuOptions o;
  o.smooth = BleuSmooth::Floor;
  o.smooth_value = floor;
  o.tokenize = "none";
  o.effective_order = true;
  return Bleu(o).corpus_score(hyps, {refs}).score / 100;
}

const std::vector<std::string> kHyps = {"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."};
const std::vector<std::vector<std::string>> kRefs = {
    {"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
    {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}};

double corpus(const BleuOptions& o, const std::vector<std::string>& hyps = kHyps) {
  return Bleu(o).corpus_score(hyps, kRefs).score;
}

TEST(Bleu, CorpusMatchesSacrebleuTestValues) {
  BleuOptions o;
  EXPECT_NEAR(corpus(o), 48.530827, 1e-6);
  EXPECT_EQ(corpus(o, {"", "", ""}), 0.0);  // empty hypotheses are scored, not dropped
  o.tokenize = "none";
  EXPECT_NEAR(corpus(o), 49.1919566, 1e-6);
  o.tokenize = "intl";
  EXPECT_NEAR(corpus(o), 43.91623493, 1e-6);
  o.tokenize = "13a";
  o.smooth = BleuSmooth::None;
  EXPECT_NEAR(corpus(o), 48.530827, 1e-6);
}

TEST(Bleu, MaxNgramOrder) {
  const char* expected[] = {"77.65", "60.50", "53.93", "48.53", "46.14", "43.28"};
  for (int n = 1; n <= 6; ++n) {
    BleuOptions o;
    o.max_ngram_order = n;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", corpus(o));
    EXPECT_STREQ(buf, expected[n - 1]) << n;
  }
}

TEST(Bleu, RawCorpusBleuCases) {
  // sacreBLEU 2.x: no match at all gives 0 (its issue #141; 1.x gave 0.0038 here).
  EXPECT_EQ(raw_corpus_bleu({"this is a test", "another test"}, {"ref1", "ref2"}, .01), 0.0);
  EXPECT_NEAR(raw_corpus_bleu({"this is a test"}, {"this is a test"}, .01), 1.0, 1e-8);
  EXPECT_NEAR(raw_corpus_bleu({"this is a fest"}, {"this is a test"}, .01), 0.223606797749979, 1e-8);
  // Effective order.
  EXPECT_NEAR(raw_corpus_bleu({"test"}, {"a test"}, .01), 0.3678794411714425, 1e-8);
  EXPECT_NEAR(raw_corpus_bleu({"a test"}, {"a test"}, .01), 1.0, 1e-8);
  EXPECT_NEAR(raw_corpus_bleu({"a little test"}, {"a test"}, .01), 0.03218297948685433, 1e-8);
  // Offset: floor 0 leaves the zero 4-gram precision at 0; the default floor is 0.1.
  const std::string h = "am I am a character sequence", r = "I am a symbol string sequence a a";
  EXPECT_EQ(raw_corpus_bleu({h}, {r}, 0.0), 0.0);
  EXPECT_NEAR(raw_corpus_bleu({h}, {r}, -1), 0.1555722182, 1e-8);
}

TEST(Bleu, Statistics) {
  BleuOptions o;
  o.smooth = BleuSmooth::Floor;
  o.smooth_value = .01;
  o.tokenize = "none";
  o.effective_order = true;
  auto s = Bleu(o).corpus_score({"am I am a character sequence"}, {{"I am a symbol string sequence a a"}});
  EXPECT_EQ(s.counts, (std::vector<double>{4, 2, 1, 0}));
  EXPECT_EQ(s.totals, (std::vector<double>{6, 5, 4, 3}));
}

TEST(Bleu, ComputeFromStatistics) {
  EXPECT_NEAR(compute_bleu({9, 7, 5, 3}, {10, 8, 6, 4}, 11, 11, BleuSmooth::None, -1, false, 4).score / 100,
              0.8375922397, 1e-8);
  struct Case {
    std::vector<double> c, t;
    uint64_t sys, ref;
    double floor;
  };
  // sacreBLEU's degenerate statistics: all give exactly 0.
  for (const Case& k : {Case{{0, 0, 0, 0}, {4, 4, 2, 1}, 0, 1, 0.0}, Case{{0, 0, 0, 0}, {10, 11, 12, 0}, 14, 10, 0.0},
                        Case{{0, 0, 0, 0}, {0, 0, 0, 0}, 0, 0, 0.0}, Case{{6, 5, 4, 0}, {6, 5, 4, 3}, 6, 6, 0.0},
                        Case{{0, 0, 0, 0}, {0, 0, 0, 0}, 0, 0, 0.1}, Case{{0, 0, 0, 0}, {0, 0, 0, 0}, 1, 5, 0.01}})
    EXPECT_EQ(compute_bleu(k.c, k.t, k.sys, k.ref, BleuSmooth::Floor, k.floor, false, 4).score, 0.0);
}

// test_sentence_bleu.py: sacreBLEU issue #98, effective order on.
TEST(Bleu, SentenceBleuSmoothingTokenizersAndCase) {
  const std::string ref = "producţia de zahăr brut se exprimă în zahăr alb;";
  const std::string sys = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;";
  struct Case {
    BleuSmooth smooth;
    double value;
    bool lc;
    const char* tok;
    double expected;
  };
  const Case cases[] = {{BleuSmooth::Exp, -1, false, "13a", 8.493},     {BleuSmooth::None, -1, false, "13a", 0.0},
                        {BleuSmooth::Floor, -1, false, "13a", 4.51688}, {BleuSmooth::Floor, 0.1, false, "13a", 4.51688},
                        {BleuSmooth::Floor, 0.5, false, "13a", 10.10},  {BleuSmooth::AddK, -1, false, "13a", 14.882},
                        {BleuSmooth::AddK, 1, false, "13a", 14.882},    {BleuSmooth::AddK, 2, false, "13a", 21.389},
                        {BleuSmooth::Exp, -1, false, "none", 7.347},    {BleuSmooth::Exp, -1, false, "intl", 8.493},
                        {BleuSmooth::Exp, -1, false, "char", 40.8759},  {BleuSmooth::Exp, -1, true, "char", 42.0267}};
  for (const auto& c : cases) {
    BleuOptions o;
    o.smooth = c.smooth;
    o.smooth_value = c.value;
    o.lowercase = c.lc;
    o.tokenize = c.tok;
    o.effective_order = true;
    EXPECT_NEAR(Bleu(o).sentence_score(sys, {ref}).score, c.expected, 1e-3) << c.tok << " " << int(c.smooth);
    // No shared word at all (sacreBLEU #141): 0 under every smoothing.
    if (std::string(c.tok) == "13a") {
      EXPECT_EQ(Bleu(o).sentence_score("this is a cat", {"okay thanks"}).score, 0.0);
    }
  }
}

TEST(Bleu, SignatureAndFormat) {
  BleuOptions o;
  Bleu b(o);
  auto s = b.corpus_score(kHyps, kRefs);
  EXPECT_EQ(b.signature(), std::string("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:") + kSacrebleuVersion);
  EXPECT_EQ(b.format(s).substr(0, 5), "BLEU|");
  EXPECT_NE(b.format(s).find(" = 48.53 "), std::string::npos);
  EXPECT_NE(b.format(s).find("(BP = "), std::string::npos);
  o.smooth = BleuSmooth::Floor;
  o.lowercase = true;
  o.effective_order = true;
  o.tokenize = "intl";
  Bleu f(o);
  f.sentence_score("a", {"a"});
  EXPECT_EQ(f.signature(), std::string("nrefs:1|case:lc|eff:yes|tok:intl|smooth:floor[0.10]|version:") +
                               kSacrebleuVersion);
  o.smooth = BleuSmooth::AddK;
  o.smooth_value = 2;
  Bleu k(o);
  k.sentence_score("a", {"a"});
  EXPECT_NE(k.signature().find("|smooth:add-k[2.00]|"), std::string::npos);
  // A segment whose second reference is empty: the number of references varies.
  Bleu v(BleuOptions{});
  v.corpus_score({"a b", "c d"}, {{"a b", "c d"}, {"a b", ""}});
  EXPECT_EQ(v.signature().substr(0, 10), "nrefs:var|");
}

std::vector<std::string> toks(const std::string& s, BleuTokenize t) {
  std::vector<std::string> out;
  for (auto& u : bleu_tokenize(to_u32(s), t)) out.push_back(to_utf8(u));
  return out;
}
using V = std::vector<std::string>;

TEST(BleuTokenize, Rules13a) {
  EXPECT_EQ(toks("Hello, world. It costs $3.50-4,000!", BleuTokenize::T13a),
            (V{"Hello", ",", "world", ".", "It", "costs", "$", "3.50", "-", "4,000", "!"}));
  EXPECT_EQ(toks("&quot;a&quot; &amp; b<skipped>", BleuTokenize::T13a), (V{"\"", "a", "\"", "&", "b"}));
  // Non-overlapping matches: in "a.." the first rule takes "a." and then ".", so both dots split.
  EXPECT_EQ(toks("a..", BleuTokenize::T13a), (V{"a", ".", "."}));
  EXPECT_EQ(toks("don't", BleuTokenize::T13a), (V{"don't"}));
  EXPECT_EQ(toks("x\u00a0y\u3000z", BleuTokenize::None), (V{"x", "y", "z"}));  // Python's whitespace
}

TEST(BleuTokenize, IntlZhChar) {
  EXPECT_EQ(toks("«Bonjour», dit-il: 3,5 €.", BleuTokenize::Intl),
            (V{"«", "Bonjour", "»", ",", "dit", "-", "il", ":", "3,5", "€", "."}));
  EXPECT_EQ(toks("我们去 Hong Kong.", BleuTokenize::Zh), (V{"我", "们", "去", "Hong", "Kong", "."}));
  // sacreBLEU's range quirk: U+2001..U+2A6D count as Chinese (the quote marks split off), the CJK
  // Extension B ideograph U+20000 does not.
  EXPECT_TRUE(zh_is_chinese_char(U'“'));
  EXPECT_FALSE(zh_is_chinese_char(U'\U00020000'));
  EXPECT_FALSE(zh_is_chinese_char(U'\u2000'));
  EXPECT_EQ(toks("a“b”", BleuTokenize::Zh), (V{"a", "“", "b", "”"}));
  EXPECT_EQ(toks("ab c", BleuTokenize::Char), (V{"a", "b", "c"}));
}

TEST(BleuTokenize, UnsupportedAndUnknownNamesAreUsageErrors) {
  for (const char* name : {"flores200", "spm", "ja-mecab", "13b"}) {
    BleuOptions o;
    o.tokenize = name;
    EXPECT_THROW(Bleu{o}, opt::OptionError) << name;
  }
}

TEST(Bleu, BadReferencesAreUsageErrors) {
  Bleu b(BleuOptions{});
  EXPECT_THROW(b.corpus_score({"a", "b"}, {{"a"}}), Error);          // lengths differ
  EXPECT_THROW(b.corpus_score({"a"}, {{""}, {""}}), Error);          // only empty references
  EXPECT_THROW(b.corpus_score({"a"}, {}), Error);                    // no reference at all
}

TEST(PyStr, LowerAndSplitFollowPython) {
  EXPECT_EQ(to_utf8(py_lower(to_u32("\u039f\u0394\u039f\u03a3 \u0130"))), "\u03bf\u03b4\u03bf\u03c2 i\u0307");  // final sigma, dotted I
  EXPECT_EQ(py_split(U" a\u2003b\u0085c ").size(), 3u);
  EXPECT_EQ(to_utf8(to_u32("a\xff")), "a\xef\xbf\xbd");  // invalid UTF-8 repaired
}

}  // namespace
}  // namespace nlm::testing
