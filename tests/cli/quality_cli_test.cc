// `nativelm quality train|eval` and `curate --quality-model` as users run them: the summary line,
// the eval table and its --json form, and one-line usage errors for unusable data or models.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

using nlm::testing::run_nativelm;
using nlm::testing::TempDir;
using nlm::testing::write_text;

namespace {

// Prose sentences against menu and keyword junk, a few of each, repeated with variations.
std::string labelled() {
  const char* prose[] = {"The committee met on Tuesday to discuss the new library budget.",
                         "She walked along the river and watched the boats come in.",
                         "Farmers in the valley plant barley in the spring and harvest it in August.",
                         "The museum reopened after two years of careful restoration work."};
  const char* junk[] = {"Home | About | Contact | Login | Cart (0)", "best cheap free download, buy now, best price",
                        "Share | Tweet | Pin | Email | Print", "#@$% qz7 xk!! ~~ >>> [] {} lorem"};
  std::string s;
  for (int i = 0; i < 40; ++i) {
    s += nlohmann::json{{"text", std::string(prose[i % 4]) + " " + prose[(i + 1) % 4]}, {"quality", "hq"}}.dump() + "\n";
    s += nlohmann::json{{"text", std::string(junk[i % 4]) + "\n" + junk[(i + 1) % 4]}, {"quality", "lq"}}.dump() + "\n";
  }
  return s;
}

TEST(CliQuality, TrainEvalAndCurate) {
  TempDir dir;
  write_text(dir.file("l.jsonl"), labelled());
  auto r = run_nativelm("quality train " + dir.file("l.jsonl") + " -o " + dir.file("q.bin") + " --bucket 10000",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trained on 80 documents (hq: 40, lq: 40)"), std::string::npos) << r.out;

  r = run_nativelm("quality eval " + dir.file("l.jsonl") + " --model " + dir.file("q.bin"), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("AUC 1.0000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("histogram"), std::string::npos) << r.out;
  r = run_nativelm("quality eval " + dir.file("l.jsonl") + " --model " + dir.file("q.bin") + " --json", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["positives"], 40);
  EXPECT_DOUBLE_EQ(j["auc"].get<double>(), 1.0);

  r = run_nativelm("curate " + dir.file("l.jsonl") + " -o " + dir.file("out") + " --steps quality --quality-model " +
                       dir.file("q.bin") + " --extension .jsonl -q",
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string kept = nlm::testing::read_text(dir.file("out/part-00000.jsonl"));
  EXPECT_EQ(std::count(kept.begin(), kept.end(), '\n'), 40) << kept;
  EXPECT_NE(kept.find("\"quality_score\":"), std::string::npos);
}

TEST(CliQuality, UsageErrors) {
  TempDir dir;
  write_text(dir.file("one.jsonl"), "{\"text\": \"a b c\", \"quality\": \"hq\"}\n");
  auto r = run_nativelm("quality train " + dir.file("one.jsonl") + " -o " + dir.file("q.bin"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nativelm: error: only one label ('hq') in the training data"), std::string::npos) << r.err;
  r = run_nativelm("quality eval " + dir.file("one.jsonl") + " --model " + dir.file("missing.bin"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nativelm: error: cannot load fastText model"), std::string::npos) << r.err;
  r = run_nativelm("quality eval " + dir.file("one.jsonl"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("model"), std::string::npos) << r.err;
  r = run_nativelm("curate " + dir.file("one.jsonl") + " -o " + dir.file("out") + " --steps quality", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("needs a model"), std::string::npos) << r.err;
}

}  // namespace
