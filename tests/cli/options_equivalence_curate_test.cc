// `nativelm curate` (flags and a --config file) and a pipeline's curate stage reach the same
// options through one declaration (curate::declare and each step's declare, read by
// curate/config.h), so the same settings give the same options JSON both ways; errors name the
// flag or the config file's line on the command line, and `curate.key (file:line)` in a pipeline.
#include <gtest/gtest.h>

#include "cli/options_equivalence.h"

using namespace nlm::testing;

namespace {

// The CLI with `flags` and, when `config` is not empty, a --config file holding it; the pipeline's
// curate stage with the mapping `stage` (flow style).
void expect_same_curate(const std::string& flags, const std::string& config, const std::string& stage) {
  TempDir dir;
  write_text(dir.file("in.txt"), "Tá an aimsir go deas inniu.\n");
  std::string cli = "curate " + dir.file("in.txt") + " -o " + dir.file("out") + " " + flags;
  if (!config.empty()) {
    write_text(dir.file("c.yaml"), config);
    cli += " --config " + dir.file("c.yaml");
  }
  auto a = cli_options({"curate", cli, ""}, dir);
  auto b = pipeline_options({"curate", "", stage}, dir);
  ASSERT_TRUE(a.is_object()) << cli;
  ASSERT_TRUE(a.contains("chain")) << a.dump();
  EXPECT_EQ(a, b) << "CLI: " << cli << " [config " << config << "]\n  " << a.dump() << "\npipeline: " << stage
                  << "\n  " << b.dump();
}

TEST(OptionsEquivalenceCurate, SameSettingsSameJson) {
  // Defaults; a pipeline keeps rejects unless told not to.
  expect_same_curate("--rejects r", "", "{}");
  expect_same_curate("", "", "{rejects: false}");
  // Steps with options, through a config file and through the stage mapping.
  const std::string steps =
      "{steps: [normalize, {lid: {languages: [ga, eu], min_score: 0.25}}, {gopher_quality: {min_words: 10}}, c4, pii]}";
  expect_same_curate("--rejects r", steps, steps);
  // Profiles with a base and per-step thresholds.
  const std::string profiles =
      "{profiles: {ga: {base: en, gopher_quality: {stop_words: [an, agus, na], min_stop_words: 1}}, "
      "yue: {base: zh, fineweb: {short_line_length: 8}}}}";
  expect_same_curate("--rejects r", profiles, profiles);
  // HTML extraction and the plain options, which a config file now takes too.
  const std::string html = "{html: {length_low: 30, max_depth: 50}, extension: .jsonl.gz, level: 5, max_doc_bytes: 1M}";
  expect_same_curate("--rejects r", html, html);
  // The command line's shortcuts are the chain's options.
  expect_same_curate("--rejects r --steps normalize,lid,pii --lang yue,zh --min-lang-score 0.4 --opencc s2hk "
                     "--extension .jsonl --max-doc-bytes 2M --level 3",
                     "",
                     "{steps: [{normalize: {opencc: s2hk}}, {lid: {languages: [yue, zh], min_score: 0.4}}, pii], "
                     "extension: .jsonl, max_doc_bytes: 2M, level: 3}");
  expect_same_curate("--rejects r --lid-model m.bin", "",
                     "{steps: [normalize, {lid: {backend: fasttext, model: m.bin}}, gopher_quality, "
                     "gopher_repetition, fineweb, pii]}");
  // Flags override the config file.
  expect_same_curate("--rejects r --lang ga --max-doc-bytes 4K", "{steps: [{lid: {languages: [en]}}], max_doc_bytes: 1K}",
                     "{steps: [{lid: {languages: [ga]}}], max_doc_bytes: 4K}");
}

TEST(OptionsEquivalenceCurate, TheJsonHoldsEveryStepOption) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  auto j = pipeline_options({"curate", "", "{steps: [normalize, {nemo: {max_url_ratio: 0.5}}], max_doc_bytes: 8388608}"}, dir);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["max_doc_bytes"], "8M");  // sizes read and print one way
  EXPECT_EQ(j["chain"]["steps"], nlohmann::json::parse(R"(["normalize","nemo"])"));
  EXPECT_EQ(j["chain"]["normalize"]["unicode_form"], "NFC");
  EXPECT_EQ(j["chain"]["profiles"]["zh"]["nemo"]["max_url_ratio"], 0.5);
  EXPECT_EQ(j["chain"]["html"]["length_low"], 70);
  EXPECT_FALSE(j["chain"].contains("lid"));  // only the steps in use
}

TEST(OptionsEquivalenceCurate, ErrorsNameTheOptionAsEachCallerSpellsIt) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  auto expect_error = [&](const std::string& args, const std::string& wanted) {
    auto r = run_nativelm(args, dir.path());
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_NE(r.err.find(wanted), std::string::npos) << args << "\n" << r.err;
  };
  const std::string curate = "curate " + dir.file("in.txt") + " -o " + dir.file("out");
  expect_error(curate + " --min-lang-score 2", "--min-lang-score must be between 0 and 1, got 2");
  expect_error(curate + " --max-doc-bytes lots", "--max-doc-bytes must be a size, got 'lots'");
  expect_error(curate + " --level x", "--level must be an integer, got 'x'");
  expect_error(curate + " --steps normalize,bogus", "--steps has unknown curate step 'bogus'");
  expect_error("curate " + dir.file("in.txt"), "--output is required");

  const std::string config = dir.file("c.yaml");
  write_text(config, "steps:\n  - normalize\n  - lid: {min_score: 2}\n");
  expect_error(curate + " --config " + config, "steps.lid.min_score must be between 0 and 1, got 2 (" + config + ":3)");
  write_text(config, "html: {length_lo: 3}\n");
  expect_error(curate + " --config " + config, "unknown key 'html.length_lo' (" + config + ":1)");

  const std::string p = dir.file("p.yaml");
  const std::string head = "work_dir: w\ninputs: [" + dir.file("in.txt") + "]\nstages:\n  curate:\n";
  write_text(p, head + "    steps:\n      - normalize\n      - lid: {min_score: 2}\n");
  expect_error("build " + p, "curate.steps.lid.min_score must be between 0 and 1, got 2 (" + p + ":7)");
  write_text(p, head + "    html: {length_lo: 3}\n");
  expect_error("build " + p, "unknown key 'curate.html.length_lo' (" + p + ":5)");
  write_text(p, head + "    extension: .jsonl\n    max_doc_bytes: lots\n");
  expect_error("build " + p, "curate.max_doc_bytes must be a size, got 'lots' (" + p + ":6)");
  write_text(p, head + "    profiles: {yue: {base: nope}}\n");
  expect_error("build " + p, "curate.profiles.yue.base names unknown profile 'nope' (" + p + ":5)");
  write_text(p, head + "    lang: ga\n");  // a command-line shortcut only
  expect_error("build " + p, "unknown key 'curate.lang' (" + p + ":5)");
}

}  // namespace
