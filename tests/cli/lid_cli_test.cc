// `nativelm lid labels|predict|eval` and `curate --lang` with codes in any ISO 639 / BCP 47
// spelling, as users run them: outputs, tables, and the one-line usage error for a language the
// identifier cannot emit.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lid_samples.h"
#include "test_util.h"

using nlm::testing::run_nativelm;
using nlm::testing::TempDir;
using nlm::testing::write_text;

namespace {

std::string same(const std::string& code) { return code; }

size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(CliLid, LabelsListsWhatCld2CanEmit) {
  TempDir dir;
  auto r = run_nativelm("lid labels", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("eu\tBasque\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("he\tHebrew\n"), std::string::npos);
  EXPECT_NE(r.out.find("zh-Hant\tChinese (Hant)\n"), std::string::npos);
  EXPECT_EQ(r.out.find("yue"), std::string::npos);
  EXPECT_GT(lines(r.out), 60u);
}

TEST(CliLid, CurateLangTakesIso6393Codes) {
  TempDir dir;
  write_text(dir.file("in.jsonl"), nlm::testing::lid_samples_jsonl(same));
  auto r = run_nativelm("curate " + dir.file("in.jsonl") + " -o " + dir.file("out") +
                            " --steps lid --lang eus,gle --extension .jsonl -q",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string kept = nlm::testing::read_text(dir.file("out/part-00000.jsonl"));
  EXPECT_EQ(lines(kept), 6u) << kept;
  EXPECT_NE(kept.find("\"lang\":\"eu\""), std::string::npos);
  EXPECT_NE(kept.find("\"lang\":\"ga\""), std::string::npos);

  for (auto [code, wanted] : std::vector<std::pair<std::string, std::string>>{
           {"yue", "--lang has 'yue' (Cantonese), which CLD2 cannot identify"},
           {"basque", "did you mean eu?"}}) {
    r = run_nativelm("curate " + dir.file("in.jsonl") + " -o " + dir.file("out2") + " --lang " + code, dir.path());
    EXPECT_EQ(r.exit_code, 2) << code;
    EXPECT_EQ(r.err.rfind("nativelm: error: ", 0), 0u) << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(wanted), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("CLD2 cannot identify; "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(" codes: a"), std::string::npos) << r.err;  // lists what CLD2 can emit
    EXPECT_NE(r.err.find("(nativelm lid labels)"), std::string::npos) << r.err;
  }
}

TEST(CliLid, PredictWritesJsonlToStdout) {
  TempDir dir;
  write_text(dir.file("in.jsonl"), nlm::testing::lid_samples_jsonl([](const std::string&) { return ""; }));
  auto r = run_nativelm("lid predict " + dir.file("in.jsonl") + " --top-k 2", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out), 27u);
  auto first = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(first["lang"], "eu");
  EXPECT_TRUE(first["lang_top"].is_array());
  EXPECT_NE(r.err.find("labelled 27 documents"), std::string::npos) << r.err;

  r = run_nativelm("lid predict " + dir.file("in.jsonl") + " -o " + dir.file("p.jsonl.zst") + " -q", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = run_nativelm("lid predict " + dir.file("in.jsonl") + " --top-k 0", dir.path());
  EXPECT_EQ(r.exit_code, 2);
}

TEST(CliLid, EvalPrintsATableAndJson) {
  TempDir dir;
  write_text(dir.file("in.jsonl"),
             nlm::testing::lid_samples_jsonl([](const std::string& c) { return c == "eu" ? "eus" : c; }, "gold"));
  auto r = run_nativelm("lid eval " + dir.file("in.jsonl") + " --label-field gold --json " + dir.file("e.json"),
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy 1.0000 (27/27)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("precision"), std::string::npos);
  auto j = nlohmann::json::parse(nlm::testing::read_text(dir.file("e.json")));
  EXPECT_EQ(j["languages"]["eu"]["support"], 3);

  write_text(dir.file("empty.jsonl"), "");
  r = run_nativelm("lid eval " + dir.file("empty.jsonl"), dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("no document has a 'lang' label"), std::string::npos) << r.err;
}

}  // namespace
