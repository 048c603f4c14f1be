// The nativelm executable as users see it: help, version, the one-line error format, exit codes
// (0 ok, 2 usage, 1 runtime), and corpus stats/shard end to end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

using nlm::testing::run_nativelm;
using nlm::testing::TempDir;
using nlm::testing::write_text;

namespace {

// Every error is exactly one line: "nativelm: error: <what> (<where>); <fix>".
void expect_one_error_line(const std::string& err) {
  EXPECT_EQ(err.rfind("nativelm: error: ", 0), 0u) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST(Cli, HelpAndVersion) {
  TempDir dir;
  auto r = run_nativelm("--help", dir.path());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("corpus"), std::string::npos);
  EXPECT_NE(r.out.find("--threads"), std::string::npos);
  r = run_nativelm("corpus stats --help", dir.path());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--text-mode"), std::string::npos);
  r = run_nativelm("version", dir.path());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("nativelm " NATIVELM_VERSION), std::string::npos);
  EXPECT_NE(r.out.find("blas:"), std::string::npos);
  EXPECT_NE(r.out.find("cuda:"), std::string::npos);
  EXPECT_NE(r.out.find("cpu:"), std::string::npos);
}

TEST(Cli, UsageErrorsExitTwoWithOneLine) {
  TempDir dir;
  for (std::string args : {"", "frobnicate", "corpus", "corpus stats", "corpus stats --bogus x",
                           "--threads -3 version", "--threads abc version",
                           "corpus stats /definitely/not/here.jsonl",
                           "corpus stats --format yaml x.jsonl"}) {
    auto r = run_nativelm(args, dir.path());
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    expect_one_error_line(r.err);
  }
  auto r = run_nativelm("corpus stats /definitely/not/here.jsonl", dir.path());
  EXPECT_NE(r.err.find("/definitely/not/here.jsonl"), std::string::npos);
}

TEST(Cli, RuntimeErrorExitsOne) {
  TempDir dir;
  write_text(dir.file("bad.jsonl"), "{\"text\":\"ok\"}\n{broken\n");
  auto r = run_nativelm("corpus stats --strict " + dir.file("bad.jsonl"), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  expect_one_error_line(r.err);
  EXPECT_NE(r.err.find("bad.jsonl:2"), std::string::npos) << r.err;
}

TEST(Cli, MalformedInputIsReportedAndCounted) {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 8; ++i) content += "{bad " + std::to_string(i) + "\n";
  content += "{\"text\":\"fine\"}\n";
  write_text(dir.file("m.jsonl"), content);
  auto r = run_nativelm("corpus stats --json " + dir.file("m.jsonl"), dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["documents"], 1);
  EXPECT_EQ(j["input"]["malformed"]["bad_json"], 8);
  // The first five are reported with file:line, then one line says the rest are only counted.
  EXPECT_NE(r.err.find("m.jsonl:1"), std::string::npos);
  EXPECT_NE(r.err.find("m.jsonl:5"), std::string::npos);
  EXPECT_EQ(r.err.find("m.jsonl:6"), std::string::npos);
  EXPECT_NE(r.err.find("counted but not reported"), std::string::npos);
}

TEST(Cli, QuietStatsAndShard) {
  TempDir dir;
  write_text(dir.file("in/a.txt"), "Is maith liom tae.\n\nTá sé fuar inniu.\n");
  write_text(dir.file("in/b.jsonl"), "{\"id\":1,\"text\":\"Guten Tag\",\"lang\":\"de\"}\n");
  auto r = run_nativelm("-q corpus shard " + dir.file("in") + " -o " + dir.file("out") + " --max-docs 2",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("wrote 3 documents in 2 shards"), std::string::npos) << r.out;
  r = run_nativelm("corpus stats --threads 2 --json " + dir.file("out"), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["documents"], 3);
  EXPECT_EQ(j["input"]["files"], 2);
}

}  // namespace
