// The nativelm executable as users see it: help, version, the one-line error format, exit codes
// (0 ok, 2 usage, 1 runtime), corpus stats/shard end to end, and the flags of corpus and lid train
// coming from their options' declarations.
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
  // A --no-X flag's help says that it turns the setting off, not what the setting does when on.
  r = run_nativelm("serve --help", dir.path());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Turn off, on by default: put the tokenizer's BOS token"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Put the tokenizer's BOS token"), std::string::npos) << r.out;
  r = run_nativelm("version", dir.path());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("nativelm " NATIVELM_VERSION), std::string::npos);
  EXPECT_NE(r.out.find("blas:"), std::string::npos);
  EXPECT_NE(r.out.find("cuda:"), std::string::npos);
  EXPECT_NE(r.out.find("devices:   cpu"), std::string::npos);
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

// A hostile value (ESC sequences, newlines, 100 KB) still gives one short error line with no
// control characters, whether it comes from a flag or from a YAML block value (issue 11).
void expect_clean_short_line(const std::string& err) {
  expect_one_error_line(err);
  EXPECT_LT(err.size(), 300u) << err.substr(0, 400);
  for (size_t i = 0; i + 1 < err.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(err[i]);
    EXPECT_FALSE(c < 0x20 || c == 0x7F) << "control byte " << int(c) << " at " << i;
  }
}

TEST(Cli, HostileValuesGiveOneCleanLine) {
  TempDir dir;
  write_text(dir.file("in.jsonl"), "{\"text\":\"hello\"}\n");
  write_text(dir.file("value"), "\x1b[31m\x1b]0;title\x07" + std::string(100000, '9') + "\r");
  auto r = run_nativelm("tokenizer train -o " + dir.file("out") + " --vocab-size \"$(cat " + dir.file("value") +
                            ")\" " + dir.file("in.jsonl"),
                        dir.path());
  EXPECT_EQ(r.exit_code, 2);
  expect_clean_short_line(r.err);
  EXPECT_NE(r.err.find("--vocab-size must be a non-negative integer, got '\\x1b[31m\\x1b]0;title\\x0799"), std::string::npos)
      << r.err;
  // A flag CLI11 checks itself: its message echoes the value, which is capped all the same.
  r = run_nativelm("--threads \"$(cat " + dir.file("value") + ")\" version", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  expect_clean_short_line(r.err);

  std::string block = "html:\n  max_depth: |\n    12\n    \x1b[2J" + std::string(100000, 'z') + "\n    \r\n";
  write_text(dir.file("block.yaml"), block);
  r = run_nativelm("curate --config " + dir.file("block.yaml") + " -o " + dir.file("out") + " " + dir.file("in.jsonl"),
                   dir.path());
  EXPECT_EQ(r.exit_code, 2);
  expect_clean_short_line(r.err);
  EXPECT_NE(r.err.find("max_depth must be an integer, got '12\\n"), std::string::npos) << r.err;
  write_text(dir.file("quoted.yaml"), "html:\n  max_depth: \"1\\r\\e[31m\\nx\"\n");
  r = run_nativelm("curate --config " + dir.file("quoted.yaml") + " -o " + dir.file("out") + " " + dir.file("in.jsonl"),
                   dir.path());
  EXPECT_EQ(r.exit_code, 2);
  expect_clean_short_line(r.err);
  EXPECT_NE(r.err.find("'1\\r\\x1b[31m\\nx'"), std::string::npos) << r.err;
}

// Broken JSON files are reported in nativelm's words, not nlohmann::json's exception text.
TEST(Cli, BrokenJsonFilesAreReportedWithoutLibraryText) {
  TempDir dir;
  write_text(dir.file("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,}\n");
  auto r = run_nativelm("tokenizer encode -t " + dir.file("tokenizer.json") + " </dev/null", dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  expect_one_error_line(r.err);
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("invalid JSON: syntax error at line 1, column "), std::string::npos) << r.err;
  write_text(dir.file("model/config.json"), "{\"vocab_size\": 10, \"hidden_size\": }");
  r = run_nativelm("generate -m " + dir.file("model") + " hello", dir.path());
  EXPECT_NE(r.exit_code, 0);
  expect_one_error_line(r.err);
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("config.json is not valid JSON: syntax error at line 1, column "), std::string::npos)
      << r.err;
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

TEST(Cli, CorpusShardFlagsFromTheDeclaration) {
  TempDir dir;
  write_text(dir.file("in.jsonl"), "{\"body\":\"Kaixo mundua.\",\"key\":\"eu-1\"}\n{\"body\":\"Egun on.\",\"key\":\"eu-2\"}\n");
  const std::string shard = "corpus shard " + dir.file("in.jsonl") + " -o " + dir.file("out");
  auto r = run_nativelm(shard + " --max-bytes 1K --level 3 --extension .jsonl --print-options", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            nlohmann::json::parse(R"({"max_docs":0,"max_bytes":"1K","extension":".jsonl","level":3})"));
  // Written records keep the field names they were read with; the manifest records the options.
  r = run_nativelm(shard + " --text-field body --id-field key --extension .jsonl", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(nlm::testing::read_text(dir.file("out/part-00000.jsonl")).find("{\"key\":\"eu-1\",\"body\":\"Kaixo mundua.\"}"),
            std::string::npos);
  auto manifest = nlohmann::json::parse(nlm::testing::read_text(dir.file("out/manifest.json")));
  EXPECT_EQ(manifest["options"]["read"]["text_field"], "body");
  EXPECT_EQ(manifest["options"]["max_bytes"], "256M");
  for (auto [args, wanted] : std::vector<std::pair<std::string, std::string>>{
           {" --max-bytes lots", "--max-bytes must be a size, got 'lots'"},
           {" --level 40", "--level must be between -1 and 22, got 40"},
           {" --max-docs -1", "--max-docs must be a non-negative integer, got '-1'"},
           {" --format yaml", "--format must be one of auto|jsonl|text, got 'yaml'"}}) {
    r = run_nativelm(shard + args, dir.path());
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_NE(r.err.find(wanted), std::string::npos) << args << "\n" << r.err;
    expect_one_error_line(r.err);
  }
  r = run_nativelm("corpus stats --json --print-options " + dir.file("in.jsonl"), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // How to print and read are not options of the output; the language count is.
  EXPECT_EQ(nlohmann::json::parse(r.out),
            nlohmann::json::parse(R"({"languages":false,"lid_model":"","lid_max_bytes":4096})"));
}

TEST(Cli, LidTrainFlagsFromTheDeclaration) {
  TempDir dir;
  write_text(dir.file("l.jsonl"), "{\"text\":\"Dia duit\",\"lang\":\"ga\"}\n");
  const std::string train = "lid train " + dir.file("l.jsonl") + " -o " + dir.file("m.bin");
  auto r = run_nativelm(train + " --epoch 5 --train-threads 2 --seed 7 --print-options", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["epoch"], 5);
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["seed"], 7);
  EXPECT_EQ(j["label_field"], "lang");
  for (auto [args, wanted] : std::vector<std::pair<std::string, std::string>>{
           {" --epoch 0", "--epoch must be between 1 and 10000, got 0"},
           {" --minn 4 --maxn 2", "--maxn must be at least minn (4), got 2"},
           {" --lr fast", "--lr must be a number, got 'fast'"}}) {
    r = run_nativelm(train + args, dir.path());
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_NE(r.err.find(wanted), std::string::npos) << args << "\n" << r.err;
    expect_one_error_line(r.err);
  }
}

}  // namespace
