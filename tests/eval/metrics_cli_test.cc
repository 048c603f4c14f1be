// `nativelm eval bleu|chrf|rouge` end to end: line-aligned files in, sacreBLEU's one-line format
// or JSON out, usage errors (exit 2) for misaligned files and unsupported options.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace nlm::testing {
namespace {

struct Files {
  TempDir dir;
  std::string hyp, ref1, ref2;
  Files() {
    hyp = dir.file("hyp.txt");
    ref1 = dir.file("ref1.txt");
    ref2 = dir.file("ref2.txt");
    write_text(hyp, "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n");
    write_text(ref1, "The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n");
    write_text(ref2, "The dog had bit the man.\r\nNo one was surprised.\r\nThe man had bitten the dog.\r\n");
  }
  std::string args() const { return "--hyp " + hyp + " --ref " + ref1 + " --ref " + ref2; }
};

TEST(EvalMetricsCli, BleuPrintsScoreAndSignature) {
  Files f;
  auto r = run_nativelm("eval bleu " + f.args(), f.dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" = 48.53 "), std::string::npos) << r.out;
  auto j = run_nativelm("eval bleu --json --tokenize intl " + f.args(), f.dir.path());
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto js = nlohmann::json::parse(j.out);
  EXPECT_NEAR(js["score"].get<double>(), 43.91623493, 1e-6);
  EXPECT_EQ(js["tok"], "intl");
  EXPECT_EQ(js["nrefs"], "2");
  auto s = run_nativelm("eval bleu --sentence-level --effective-order " + f.args(), f.dir.path());
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out.rfind("segment 1\t100.00\n", 0), 0u) << s.out;
}

TEST(EvalMetricsCli, ChrfAndRouge) {
  Files f;
  auto c = run_nativelm("eval chrf --word-order 2 " + f.args(), f.dir.path());
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out.rfind("chrF2++|nrefs:2|case:mixed|eff:yes|nc:6|nw:2|space:no|version:", 0), 0u) << c.out;
  auto r = run_nativelm("eval rouge --json " + f.args(), f.dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto js = nlohmann::json::parse(r.out);
  EXPECT_EQ(js["tokenizer"], "unicode");
  EXPECT_GT(js["rouge1"]["fmeasure"].get<double>(), 0.5);
  EXPECT_LE(js["rougeLsum"]["fmeasure"].get<double>(), 1.0);
  auto t = run_nativelm("eval rouge --types rouge1 --tokenizer rouge-score " + f.args(), f.dir.path());
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out.rfind("rouge1|tok:rouge-score = ", 0), 0u) << t.out;
  // Invalid UTF-8 is scored as U+FFFD, not refused.
  write_text(f.dir.file("bad-utf8.txt"), "The dog \xff bit\nx\ny\n");
  for (const char* metric : {"bleu", "chrf", "rouge"})
    EXPECT_EQ(run_nativelm(std::string("eval ") + metric + " --hyp " + f.dir.file("bad-utf8.txt") + " --ref " + f.ref1,
                           f.dir.path())
                  .exit_code,
              0)
        << metric;
}

TEST(EvalMetricsCli, BadInputIsAUsageError) {
  Files f;
  write_text(f.dir.file("short.txt"), "one line\n");
  auto r = run_nativelm("eval bleu --hyp " + f.hyp + " --ref " + f.dir.file("short.txt"), f.dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nativelm: error:"), std::string::npos) << r.err;
  EXPECT_EQ(run_nativelm("eval bleu --tokenize flores200 " + f.args(), f.dir.path()).exit_code, 2);
  EXPECT_EQ(run_nativelm("eval bleu --hyp " + f.hyp + " --ref " + f.dir.file("missing.txt"), f.dir.path()).exit_code, 2);
  auto st = run_nativelm("eval rouge --types rouge1,rouge3 " + f.args(), f.dir.path());
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_EQ(run_nativelm("eval rouge --tokenizer nltk " + f.args(), f.dir.path()).exit_code, 2);
  EXPECT_EQ(run_nativelm("eval rouge --types rouge0 " + f.args(), f.dir.path()).exit_code, 2);
  EXPECT_EQ(run_nativelm("eval chrf --hyp " + f.hyp, f.dir.path()).exit_code, 2);  // no --ref
}

}  // namespace
}  // namespace nlm::testing
