// ROUGE against rouge-score's published test values (rouge/rouge_scorer_test.py in
// google-research/google-research, whose ROUGE-1.5.5 ground truth uses its testdata lines), and
// the Unicode tokenizer against rouge-score's on Irish, Thai and Cantonese.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/options.h"
#include "eval/metrics/rouge.h"

namespace nlm::testing {
namespace {

using namespace eval::metrics;

// rouge/testdata/target.txt and prediction.txt, the first two lines (random letter soup).
const char* kTarget0 =
    "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr "
    "q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n";
const char* kTarget1 =
    "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer "
    "HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion "
    "gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n";
const char* kPrediction0 =
    "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n";
const char* kPrediction1 =
    "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed "
    "nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n";

RougeOptions rouge_score_options(std::vector<std::string> types) {
  RougeOptions o;
  o.types = std::move(types);
  o.tokenizer = RougeTokenizer::RougeScore;
  return o;
}

void expect_score(const RougeScore& s, double p, double r, double f, double tol) {
  EXPECT_NEAR(s.precision, p, tol);
  EXPECT_NEAR(s.recall, r, tol);
  EXPECT_NEAR(s.fmeasure, f, tol);
}

TEST(Rouge, SmallCasesFromRougeScore) {
  for (auto tok : {RougeTokenizer::RougeScore, RougeTokenizer::Unicode}) {
    RougeOptions o;
    o.types = {"rouge1", "rouge2", "rougeL", "rougeLsum"};
    o.tokenizer = tok;
    Rouge r(o);
    auto s = r.score("testing one two", "testing");
    expect_score(s["rouge1"], 1, 1.0 / 3, 0.5, 1e-9);
    s = r.score("testing one two", "testing one");
    expect_score(s["rouge2"], 1, 0.5, 2.0 / 3, 1e-9);
    expect_score(s["rouge1"], 1, 2.0 / 3, 0.8, 1e-9);
    expect_score(s["rougeL"], 1, 2.0 / 3, 0.8, 1e-9);
    expect_score(r.score("testing one two", "testing two")["rougeL"], 1, 2.0 / 3, 0.8, 1e-9);
    for (auto& [type, v] : r.score("testing one two", "")) expect_score(v, 0, 0, 0, 0) ;
    auto lsum = r.score("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5")["rougeLsum"];
    expect_score(lsum, 0.4, 0.8, 0.5333, 1e-3);
    expect_score(r.score("w1 w2 w3 w4 w5", "")["rougeLsum"], 0, 0, 0, 0);
    expect_score(r.score("", "w1")["rougeLsum"], 0, 0, 0, 0);
    expect_score(r.score("w1 w2 w3 w4 w5", "/")["rougeLsum"], 0, 0, 0, 0);  // no word at all
  }
}

TEST(Rouge, AgainstRouge155OnRougeScoreTestdata) {
  Rouge r(rouge_score_options({"rouge1", "rouge2", "rougeL"}));
  auto s0 = r.score(kTarget0, kPrediction0);
  expect_score(s0["rouge1"], 0.68750, 0.40741, 0.51163, 5e-6);
  expect_score(s0["rouge2"], 0.53333, 0.30769, 0.39024, 5e-6);
  expect_score(s0["rougeL"], 0.68750, 0.40741, 0.51163, 5e-6);
  auto s1 = r.score(kTarget1, kPrediction1);
  expect_score(s1["rouge1"], 0.65385, 0.40476, 0.50000, 5e-6);
  expect_score(s1["rouge2"], 0.48000, 0.29268, 0.36364, 5e-6);
  expect_score(s1["rougeL"], 0.65385, 0.40476, 0.50000, 5e-6);
  // On ASCII text the Unicode tokenizer gives the same tokens, so the same scores.
  RougeOptions u;
  u.types = {"rouge1", "rouge2", "rougeL"};
  Rouge ru(u);
  EXPECT_EQ(ru.tokenize(kTarget1), r.tokenize(kTarget1));
  expect_score(ru.score(kTarget0, kPrediction0)["rouge2"], 0.53333, 0.30769, 0.39024, 5e-6);
}

TEST(Rouge, AgainstRouge155WithStemming) {
  auto o = rouge_score_options({"rouge1", "rouge2"});
  o.use_stemmer = true;
  Rouge r(o);
  auto s0 = r.score(kTarget0, kPrediction0);
  expect_score(s0["rouge1"], 0.68750, 0.40741, 0.51163, 5e-6);
  expect_score(s0["rouge2"], 0.53333, 0.30769, 0.39024, 5e-6);
  auto s1 = r.score(kTarget1, kPrediction1);
  expect_score(s1["rouge1"], 0.69231, 0.42857, 0.52941, 5e-6);  // stemming adds matches here
  expect_score(s1["rouge2"], 0.48000, 0.29268, 0.36364, 5e-6);
  // Only words of more than 3 letters are stemmed; Unicode mode stems ASCII words only.
  EXPECT_EQ(r.tokenize("Running dogs ran"), (std::vector<std::string>{"run", "dog", "ran"}));
  RougeOptions u;
  u.use_stemmer = true;
  EXPECT_EQ(Rouge(u).tokenize("Generalizations bádóireacht"),
            (std::vector<std::string>{"gener", "bádóireacht"}));
}

TEST(Rouge, LcsBuildingBlocks) {
  using T = std::vector<std::string>;
  const T ref = {"1", "2", "3", "4", "5"};
  EXPECT_EQ(lcs_length(ref, {"2", "5", "3", "4"}), 3u);
  EXPECT_EQ(lcs_indices(ref, {"2", "5", "3", "4"}), (std::vector<size_t>{1, 2, 3}));
  EXPECT_TRUE(lcs_indices(ref, {"8", "9"}).empty());
  // Section 3.2 of Lin (2004): union LCS of two candidate sentences.
  auto s = summary_level_lcs({ref}, {{"1", "2", "6", "7", "8"}, {"1", "3", "8", "9", "5"}});
  EXPECT_DOUBLE_EQ(s.recall, 0.8);
  EXPECT_DOUBLE_EQ(s.precision, 0.4);
  EXPECT_NEAR(s.fmeasure, 0.5333, 1e-3);
  EXPECT_EQ(summary_level_lcs({{"reference"}}, {{}}).recall, 0.0);
}

TEST(Rouge, UnicodeTokenizerKeepsIrishThaiAndCantonese) {
  RougeOptions uo;
  uo.types = {"rouge1", "rougeL"};
  Rouge uni(uo);
  Rouge rs(rouge_score_options({"rouge1", "rougeL"}));
  // Irish: rouge-score deletes the fada, so "tá" (is) and "tí" (house) both become "t".
  EXPECT_EQ(rs.tokenize("Tá an bádóir"), (std::vector<std::string>{"t", "an", "b", "d", "ir"}));
  EXPECT_EQ(uni.tokenize("Tá an bádóir"), (std::vector<std::string>{"tá", "an", "bádóir"}));
  EXPECT_DOUBLE_EQ(rs.score("Tá sé fuar", "Tí sé fuar")["rouge1"].fmeasure, 1.0);  // a false full match
  EXPECT_NEAR(uni.score("Tá sé fuar", "Tí sé fuar")["rouge1"].fmeasure, 2.0 / 3, 1e-12);
  // Thai has no spaces and no ASCII letters: rouge-score sees nothing, not even in identical text.
  const char* thai = "ฉันชอบกินข้าวผัด";
  EXPECT_TRUE(rs.tokenize(thai).empty());
  EXPECT_EQ(rs.score(thai, thai)["rouge1"].fmeasure, 0.0);
  EXPECT_GE(uni.tokenize(thai).size(), 3u);  // ICU's dictionary words
  EXPECT_DOUBLE_EQ(uni.score(thai, thai)["rouge1"].fmeasure, 1.0);
  const double thai_partial = uni.score(thai, "ฉันชอบกินก๋วยเตี๋ยว")["rouge1"].fmeasure;
  EXPECT_GT(thai_partial, 0.0);
  EXPECT_LT(thai_partial, 1.0);
  // Cantonese (Traditional characters, Cantonese-only 哋/咗): the same for Han script.
  const char* yue_ref = "我哋今日去咗飲茶";
  const char* yue_hyp = "我哋今日去咗睇戲";
  EXPECT_EQ(rs.score(yue_ref, yue_hyp)["rouge1"].fmeasure, 0.0);
  const double yue = uni.score(yue_ref, yue_hyp)["rougeL"].fmeasure;
  EXPECT_GT(yue, 0.3);
  EXPECT_LT(yue, 1.0);
  // Case is folded in every script.
  EXPECT_EQ(uni.tokenize("ÉIRE Éire"), (std::vector<std::string>{"éire", "éire"}));
}

TEST(Rouge, MultipleReferencesAndCorpusMean) {
  RougeOptions o;
  o.types = {"rouge1"};
  Rouge r(o);
  auto best = r.score_multi({"zzz yyy", "testing one two"}, "testing one");
  EXPECT_NEAR(best["rouge1"].fmeasure, 0.8, 1e-12);
  auto c = r.corpus_score({"testing one", "testing"}, {{"testing one two", "testing one two"}});
  EXPECT_NEAR(c["rouge1"].fmeasure, (0.8 + 0.5) / 2, 1e-12);
  EXPECT_NEAR(c["rouge1"].precision, 1.0, 1e-12);
}

TEST(Rouge, BadOptions) {
  for (const char* bad : {"rougen", "rouge0", "rouge10", "rougeX"}) {
    RougeOptions o;
    o.types = {bad};
    EXPECT_THROW(Rouge{o}, opt::OptionError) << bad;
  }
  RougeOptions o;
  o.types = {};
  EXPECT_THROW(Rouge{o}, opt::OptionError);
  Rouge r(RougeOptions{});
  EXPECT_THROW(r.corpus_score({"a"}, {{""}}), Error);
}

}  // namespace
}  // namespace nlm::testing
