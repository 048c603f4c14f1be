// The kill matrix's comparison itself: it ignores only the fields that measure a run, and it
// reports a left-behind temp file, a missing file and changed bytes.
#include <gtest/gtest.h>

#include "kill_matrix.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

TEST(KillMatrixCompare, JsonLosesOnlyRunMeasures) {
  TempDir dir;
  write_text(dir.file("manifest.json"),
             "{\"stage\":\"x\",\"seconds\":1.5,\"finished_at\":\"now\",\"stats\":{\"docs\":3,\"seconds\":{\"total\":2},"
             "\"count_seconds\":0.1,\"throughput_mb_s\":9,\"resumed_files\":2}}");
  EXPECT_EQ(normalized_content(dir.file("manifest.json")), "{\"stage\":\"x\",\"stats\":{\"docs\":3}}");
  write_text(dir.file("metrics.jsonl"), "{\"step\":1,\"loss\":2.5,\"tokens_per_s\":10.0,\"mfu\":0.1}\n");
  EXPECT_EQ(normalized_content(dir.file("metrics.jsonl")), "{\"step\":1,\"loss\":2.5}\n");
  // A torn line is compared as it is, and documents are never rewritten.
  write_text(dir.file("metrics.jsonl"), "{\"step\":1,\"loss\":2.5}\n{\"step\":1");
  EXPECT_EQ(normalized_content(dir.file("metrics.jsonl")), "{\"step\":1,\"loss\":2.5}\n{\"step\":1");
  write_text(dir.file("part-00000.jsonl"), "{\"text\":\"a\",\"seconds\":1}\n");
  EXPECT_EQ(normalized_content(dir.file("part-00000.jsonl")), "{\"text\":\"a\",\"seconds\":1}\n");
}

TEST(KillMatrixCompare, ReportsLeftoversMissingAndChangedFiles) {
  TempDir a, b;
  write_text(a.file("out/part-00000.jsonl"), "{\"text\":\"tá\"}\n");
  write_text(a.file("out/manifest.json"), "{\"seconds\":1}");
  write_text(a.file("out/report.html"), "<p>1 s</p>");
  write_text(b.file("out/part-00000.jsonl"), "{\"text\":\"tá\"}\n");
  write_text(b.file("out/manifest.json"), "{\"seconds\":2}");
  write_text(b.file("out/report.html"), "<p>2 s</p>");
  EXPECT_TRUE(snapshot_differences(snapshot(a.file("out")), snapshot(b.file("out"))).empty());

  write_text(b.file("out/.part-00001.jsonl.tmp.123.4"), "{\"text\":");
  std::filesystem::create_directories(b.file("out/.dedup-spill"));
  write_text(b.file("out/part-00000.jsonl"), "{\"text\":\"ta\"}\n");
  write_text(a.file("out/part-00001.jsonl"), "{\"text\":\"ภาษา\"}\n");
  auto d = snapshot_differences(snapshot(a.file("out")), snapshot(b.file("out")));
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0], "left behind: .dedup-spill/");
  EXPECT_EQ(d[1], "left behind: .part-00001.jsonl.tmp.123.4");
  EXPECT_EQ(d[2], "differs: part-00000.jsonl (first at byte 10 of 15 vs 14)");
  EXPECT_EQ(d[3], "missing: part-00001.jsonl");
}

}  // namespace
}  // namespace nlm::testing
