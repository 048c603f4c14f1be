// The command line and a pipeline file reach a stage's options through one declaration, so the
// same settings give the same options JSON both ways (`--print-options` on the command, and on
// `nativelm build`). Each stage lists cases here; errors name the option in each caller's terms.
#include <gtest/gtest.h>

#include "cli/options_equivalence.h"

using namespace nlm::testing;

namespace {

TEST(OptionsEquivalence, Dedup) {
  const std::vector<Case> cases = {
      {"dedup", "dedup in.txt -o out", "{}"},
      {"dedup", "dedup in.txt -o out --shingle char", "{shingle: char}"},
      {"dedup", "dedup in.txt -o out --memory 512M", "{memory: 512M}"},
      {"dedup", "dedup in.txt -o out --preset nemo --bands 10", "{preset: nemo, bands: 10}"},
      {"dedup", "dedup in.txt -o out --bands 10 --preset nemo", "{bands: 10, preset: nemo}"},
      {"dedup", "dedup in.txt -o out --no-exact --jaccard-check --jaccard-threshold 0.7 --keep field:score",
       "{exact: false, jaccard_check: true, jaccard_threshold: 0.7, keep: 'field:score'}"},
      {"dedup", "dedup in.txt -o out --max-bytes 64M --extension .jsonl.gz", "{max_bytes: 64M, extension: .jsonl.gz}"},
  };
  for (const auto& c : cases) expect_same(c);
}

TEST(OptionsEquivalence, DedupShingleAndMemoryMeanTheSameBothWays) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  auto a = cli_options({"dedup", "dedup in.txt -o out --shingle char --memory 1.5G", ""}, dir);
  auto b = pipeline_options({"dedup", "", "{shingle: char, memory: 1536M}"}, dir);
  EXPECT_EQ(a["ngram"], 24);  // a char shingle without an explicit length is NeMo's 24
  EXPECT_EQ(b["ngram"], 24);
  EXPECT_EQ(a["memory"], "1536M");
  EXPECT_EQ(b["memory"], "1536M");
  auto c = pipeline_options({"dedup", "", "{shingle: char, ngram: 7}"}, dir);
  EXPECT_EQ(c["ngram"], 7);
}

TEST(OptionsEquivalence, ErrorsNameTheOptionAsEachCallerSpellsIt) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  auto r = run_nativelm("dedup in.txt -o out --bands 0", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--bands must be between 1 and 1024, got 0"), std::string::npos) << r.err;
  r = run_nativelm("dedup in.txt -o out --memory lots", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--memory must be a size, got 'lots'"), std::string::npos) << r.err;

  write_text(dir.file("p.yaml"), "work_dir: w\ninputs: [in.txt]\nstages:\n  dedup:\n    shingle: word\n"
                                 "    bands: 0\n");
  r = run_nativelm("build " + dir.file("p.yaml"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("dedup.bands must be between 1 and 1024, got 0 (" + dir.file("p.yaml") + ":6)"),
            std::string::npos)
      << r.err;
  write_text(dir.file("p.yaml"), "work_dir: w\ninputs: [in.txt]\nstages:\n  dedup: {memory_mb: 1024}\n");
  r = run_nativelm("build " + dir.file("p.yaml"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown key 'dedup.memory_mb'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("memory"), std::string::npos) << r.err;
}

}  // namespace
