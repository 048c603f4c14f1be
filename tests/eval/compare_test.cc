// `eval compare`: the leaderboard from lm-eval-shaped results.json files (one zero-shot run, one
// few-shot run of the same model, and a model missing a task), its aligned text table with
// Irish and Cantonese task names, the HTML page (table and one SVG chart per column), JSON, and
// clear errors for files that are not lm-eval results.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/compare/leaderboard.h"
#include "pipeline/compare_report.h"
#include "test_util.h"
#include "text/display_width.h"

namespace nlm::testing {
namespace {

struct Runs {
  TempDir dir;
  std::string zero, few, other;
  Runs() {
    zero = dir.file("zero");
    few = dir.file("few");
    other = dir.file("other/results.json");
    write_text(zero + "/results.json", R"({"results": {
      "ceist_ga": {"alias": "ceist_ga", "acc,none": 0.5, "acc_stderr,none": 0.05, "acc_norm,none": 0.625,
                   "acc_norm_stderr,none": 0.04},
      "粵語_mc": {"alias": "粵語_mc", "acc,none": 0.75, "acc_stderr,none": 0.02}},
      "n-shot": {"ceist_ga": 0, "粵語_mc": 0},
      "config": {"model": "nativelm", "model_args": "runs/gaeilge/model/"}})");
    write_text(few + "/results.json", R"({"results": {
      "ceist_ga": {"alias": "ceist_ga", "acc,none": 0.6, "acc_norm,none": 0.7, "acc_norm_stderr,none": 0.03}},
      "n-shot": {"ceist_ga": 5},
      "config": {"model": "nativelm", "model_args": "runs/gaeilge/model"}})");
    write_text(other, R"({"results": {
      "ceist_ga": {"alias": "ceist_ga", "acc,none": 0.25, "acc_norm,none": 0.3, "acc_norm_stderr,none": 0.01},
      "wikitext": {"word_perplexity,none": 31.5, "bits_per_byte,none": 0.9}},
      "n-shot": {"ceist_ga": 0, "wikitext": 0},
      "config": {"model": "hf", "model_args": "pretrained=EleutherAI/pythia-160m,dtype=float32"}})");
  }
};

TEST(EvalCompare, MainMetricPreference) {
  EXPECT_EQ(eval::main_metric(nlohmann::json::parse(R"({"alias":"x","acc,none":1,"acc_norm,none":2})")),
            "acc_norm,none");
  EXPECT_EQ(eval::main_metric(nlohmann::json::parse(R"({"exact_match,flex":1,"exact_match_stderr,flex":2})")),
            "exact_match,flex");
  EXPECT_EQ(eval::main_metric(nlohmann::json::parse(R"({"bits_per_byte,none":1,"word_perplexity,none":3})")),
            "word_perplexity,none");
  EXPECT_EQ(eval::main_metric(nlohmann::json::parse(R"({"x_stderr,none":1,"score,none":3})")), "score,none");
  EXPECT_EQ(eval::main_metric(nlohmann::json::parse(R"({"alias":"x"})")), "");
}

TEST(EvalCompare, LeaderboardMergesShotsAndSorts) {
  Runs r;
  auto b = eval::load_leaderboard({r.zero, r.other, r.few}, {});
  ASSERT_EQ(b.columns.size(), 4u);
  EXPECT_EQ(eval::column_title(b.columns[0]), "ceist_ga 0-shot");
  EXPECT_EQ(eval::column_title(b.columns[1]), "ceist_ga 5-shot");
  EXPECT_EQ(eval::column_title(b.columns[2]), "粵語_mc 0-shot");
  EXPECT_EQ(eval::column_title(b.columns[3]), "wikitext 0-shot");
  EXPECT_EQ(b.columns[2].metric, "acc,none");
  EXPECT_EQ(b.columns[3].metric, "word_perplexity,none");
  EXPECT_FALSE(b.columns[3].higher_is_better);
  EXPECT_EQ(b.averaged_columns, 3u);
  ASSERT_EQ(b.rows.size(), 2u);
  EXPECT_EQ(b.rows[0].model, "gaeilge");
  EXPECT_NEAR(b.rows[0].average, (0.625 + 0.7 + 0.75) / 3, 1e-12);
  EXPECT_EQ(b.rows[1].model, "pythia-160m");
  EXPECT_NEAR(b.rows[1].average, 0.3, 1e-12);
  EXPECT_EQ(b.rows[1].averaged, 1u);
  EXPECT_EQ(eval::cell_text(b.rows[1].cells[1]), "–");
  EXPECT_EQ(eval::cell_text(b.rows[0].cells[1]), "0.7000 ± 0.0300");

  const std::string text = eval::leaderboard_text(b);
  // Every line of the table has its columns at the same terminal positions.
  std::vector<std::string> lines;
  for (size_t p = 0, q; (q = text.find('\n', p)) != std::string::npos; p = q + 1) lines.push_back(text.substr(p, q - p));
  ASSERT_EQ(lines.size(), 6u) << text;
  // Widths by terminal columns: 粵語 takes four, "0.7500 ± 0.0200" fifteen.
  EXPECT_EQ(lines[0], "model        ceist_ga 0-shot  ceist_ga 5-shot  粵語_mc 0-shot   wikitext 0-shot    average");
  EXPECT_EQ(lines[1], "             acc_norm ↑       acc_norm ↑       acc ↑            word_perplexity ↓  ↑");
  EXPECT_EQ(lines[3], "gaeilge      0.6250 ± 0.0400  0.7000 ± 0.0300  0.7500 ± 0.0200                  –   0.6917");
  EXPECT_EQ(lines[4], "pythia-160m  0.3000 ± 0.0100                –                –            31.5000  0.3000*");
  EXPECT_EQ(lines[5], "* averaged over the columns this model has");
  EXPECT_EQ(text::display_width(lines[0]), text::display_width(lines[3]));
  EXPECT_EQ(text::display_width(lines[2]), text::display_width(lines[3]));

  auto j = eval::leaderboard_json(b);
  EXPECT_EQ(j["rows"][1]["cells"][1]["value"], nullptr);
  EXPECT_EQ(j["columns"][1]["n_shot"], 5);
}

TEST(EvalCompare, NamesOverrideAndLaterRunWins) {
  Runs r;
  auto b = eval::load_leaderboard({r.zero, r.few}, {"a", "b"});
  ASSERT_EQ(b.rows.size(), 2u);
  EXPECT_EQ(b.rows[0].model, "b");
  EXPECT_EQ(b.rows[1].model, "a");
  EXPECT_TRUE(std::isnan(b.rows[0].cells[0].value));
  EXPECT_THROW(eval::load_leaderboard({r.zero, r.few}, {"a"}), Error);
}

TEST(EvalCompare, HtmlHasTableAndCharts) {
  Runs r;
  auto b = eval::load_leaderboard({r.zero, r.few, r.other}, {});
  const std::string html = pipeline::leaderboard_html(b);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<th>粵語_mc 0-shot<br>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"n\">0.7000 ± 0.0300</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"n\">–</td>"), std::string::npos);
  size_t svgs = 0;
  for (size_t p = 0; (p = html.find("<svg", p)) != std::string::npos; ++p) ++svgs;
  EXPECT_EQ(svgs, 4u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(EvalCompare, NotLmEvalResultsNamesTheFile) {
  TempDir dir;
  write_text(dir.file("bad/results.json"), R"({"loss": 1})");
  write_text(dir.file("notjson.json"), "loss 1");
  write_text(dir.file("task.json"), R"({"results": {"t": 3}})");
  for (const std::string& run : {dir.file("bad"), dir.file("notjson.json"), dir.file("task.json"), dir.file("none")}) {
    try {
      eval::load_leaderboard({run}, {});
      ADD_FAILURE() << run;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(dir.path()), std::string::npos) << e.what();
      EXPECT_LE(std::string(e.what()).size(), 300u);
    }
  }
}

TEST(EvalCompare, CommandPrintsAndWrites) {
  Runs r;
  auto ok = run_nativelm("eval compare " + r.zero + " " + r.few + " " + r.other + " --html " + r.dir.file("b.html") +
                             " --json " + r.dir.file("b.json"),
                         r.dir.path());
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out.rfind("model        ceist_ga 0-shot", 0), 0u) << ok.out;
  EXPECT_NE(read_text(r.dir.file("b.html")).find("<svg"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(read_text(r.dir.file("b.json")))["rows"][0]["model"], "gaeilge");
  auto named = run_nativelm("eval compare " + r.zero + " " + r.few + " --names x --names y", r.dir.path());
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_NE(named.out.find("\ny "), std::string::npos) << named.out;
  write_text(r.dir.file("bad.json"), "[1]");
  auto bad = run_nativelm("eval compare " + r.zero + " " + r.dir.file("bad.json"), r.dir.path());
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("bad.json"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace nlm::testing
