// The skip-if-done mechanism every stage uses: a published run is found finished by a rerun of
// the same plan, and not when forced, when an input or the options change, when an output is
// gone, or after the manifest is retracted.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/stage_output.h"
#include "test_util.h"

namespace nlm {
namespace {

using nlm::testing::TempDir;
using nlm::testing::write_text;

TEST(StageOutput, RerunOfTheSamePlanIsFinished) {
  TempDir dir;
  const std::string in = dir.file("in.txt"), out = dir.file("out");
  write_text(in, "hello\n");
  make_dirs(out);
  EXPECT_FALSE(finished_stage(out, plan_stage("s", "{\"k\":1}", {in}), false));

  Manifest m = plan_stage("s", "{\"k\":1}", {in});
  write_text(out + "/part.txt", "world\n");
  m.outputs.push_back(describe_file(out + "/part.txt", "part.txt"));
  publish_stage(out, m, 1.5, "{\"docs\":1}", "{\"report\":true}\n");
  EXPECT_EQ(nlm::testing::read_text(out + "/report.json"), "{\"report\":true}\n");

  auto done = finished_stage(out, plan_stage("s", "{\"k\":1}", {in}), false);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->stats_json, "{\"docs\":1}");
  EXPECT_EQ(done->seconds, 1.5);
  EXPECT_FALSE(finished_stage(out, plan_stage("s", "{\"k\":1}", {in}), true));   // --force
  EXPECT_FALSE(finished_stage(out, plan_stage("s", "{\"k\":2}", {in}), false));  // other options
  EXPECT_FALSE(finished_stage(out, plan_stage("t", "{\"k\":1}", {in}), false));  // other stage
  write_text(in, "hello again\n");
  EXPECT_FALSE(finished_stage(out, plan_stage("s", "{\"k\":1}", {in}), false));  // changed input
  write_text(in, "hello\n");
  std::filesystem::remove(out + "/part.txt");
  EXPECT_FALSE(finished_stage(out, plan_stage("s", "{\"k\":1}", {in}), false));  // lost output
}

TEST(StageOutput, AFinishedRunIsSweptOfDeadRunsTemps) {
  // Found by the kill matrix (decontam): one run killed mid-write leaves a temp; the rerun is
  // killed after its manifest but before publish_stage's sweep; the next rerun finds the stage
  // finished and skips it, and must still sweep the temp.
  TempDir dir;
  const std::string out = dir.file("out");
  make_dirs(out);
  publish_stage(out, plan_stage("s", "{}", std::vector<FileEntry>{}), 0, "{}");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);  // a pid that is gone, as a killed writer's is
  const std::string dead = out + "/.part-00002.jsonl.zst.tmp." + std::to_string(child) + ".2";
  const std::string live = out + "/.part-00003.jsonl.zst.tmp." + std::to_string(getpid()) + ".9";
  write_text(dead, "half a shard");
  write_text(live, "this process is still writing it");
  EXPECT_TRUE(finished_stage(out, plan_stage("s", "{}", std::vector<FileEntry>{}), false));
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(live));
}

TEST(StageOutput, RetractRemovesTheClaimOfBeingFinished) {
  TempDir dir;
  const std::string out = dir.file("out");
  make_dirs(out);
  publish_stage(out, plan_stage("s", "{}", std::vector<FileEntry>{}), 0, "{}");
  EXPECT_TRUE(finished_stage(out, plan_stage("s", "{}", std::vector<FileEntry>{}), false));
  EXPECT_FALSE(std::filesystem::exists(out + "/report.json"));  // no report given, none written
  retract_stage(out);
  EXPECT_FALSE(std::filesystem::exists(out + "/manifest.json"));
  EXPECT_FALSE(finished_stage(out, plan_stage("s", "{}", std::vector<FileEntry>{}), false));
  retract_stage(out);  // nothing to retract is fine
}

}  // namespace
}  // namespace nlm
