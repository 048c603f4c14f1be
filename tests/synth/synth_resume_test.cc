// `synth translate` and `synth prefs` killed mid-run (SIGKILL, while a request of the third shard
// hangs) and run again: the finished shards are kept, the rest regenerated, and the output equals
// an uninterrupted run's byte for byte, with dedup across the shards of both runs.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "eval/judge_stub.h"
#include "synth/synth_test_util.h"
#include "test_util.h"

namespace nlm {
namespace {

using nlohmann::json;
using synth::testing_util::all_parts;
using testing::StubJudge;
using testing::StubReply;

// Runs `args` + "-o DIR/out", kills it once shard 1 is published and shard 2 hangs, clears `slow`,
// resumes, and compares with an uninterrupted run into DIR/ref.
void kill_and_resume(testing::TempDir& dir, const std::vector<std::string>& args, std::atomic<bool>& slow) {
  std::vector<std::string> argv = args;
  argv.insert(argv.end(), {"--concurrency", "2", "-o", dir.file("out")});
  const pid_t pid = testing::spawn_nativelm(argv, dir.file("run.out"), dir.file("run.err"));
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 600 && !std::filesystem::exists(dir.file("out/part-00001.jsonl")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(std::filesystem::exists(dir.file("out/part-00001.jsonl"))) << testing::read_text(dir.file("run.err"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it block in shard 2
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  slow = false;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/part-00002.jsonl")));

  std::string line;
  for (const auto& a : args) line += a + " ";
  auto r = testing::run_nativelm(line + "--concurrency 2 -o " + dir.file("out"), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(2 from an earlier run)"), std::string::npos) << r.out;
  r = testing::run_nativelm(line + "--concurrency 1 -o " + dir.file("ref"), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(all_parts(dir.file("out")), all_parts(dir.file("ref")));
  const auto a = json::parse(testing::read_text(dir.file("out/summary.json")));
  const auto b = json::parse(testing::read_text(dir.file("ref/summary.json")));
  EXPECT_EQ(a["funnel"], b["funnel"]);
  EXPECT_EQ(a["tokens"], b["tokens"]);
  EXPECT_GT(a["funnel"]["kept"].get<int>(), 0);
  EXPECT_EQ(a["funnel"]["duplicate"], 1);  // record 5 repeats record 1, across the two runs
  for (const auto& e : std::filesystem::directory_iterator(dir.file("out")))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

std::string nth(const std::string& text, const std::string& mark) {
  const size_t at = text.find(mark);
  return at == std::string::npos ? "" : text.substr(at + mark.size(), 1);
}

TEST(SynthResume, KilledTranslateRunResumesToTheSameBytes) {
  testing::TempDir dir;
  std::string in;
  for (int k = 0; k < 6; ++k)
    in += json{{"messages",
                {{{"role", "user"},
                  {"content", "Record number " + std::to_string(k) + ": explain how rivers reach the sea."}},
                 {{"role", "assistant"}, {"content", "Rivers flow downhill until they reach the sea."}}}}}
              .dump() +
          "\n";
  testing::write_text(dir.file("in.jsonl"), in);
  std::atomic<bool> slow{true};
  StubJudge stub([&](const std::string&, const std::string& user) {
    const std::string k = nth(user, "Record number ");
    while (slow && k == "4") std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (k.empty()) return StubReply{200, "Flüsse fließen bergab, bis sie das Meer erreichen."};
    return StubReply{
        200, "Datensatz Nummer " + (k == "5" ? std::string("1") : k) + ": erkläre, wie Flüsse das Meer erreichen."};
  });
  kill_and_resume(dir,
                  {"synth", "translate", dir.file("in.jsonl"), "--endpoint", stub.base_url(), "--lang", "de",
                   "--shard-chunks", "2"},
                  slow);
}

TEST(SynthResume, KilledPrefsRunResumesToTheSameBytes) {
  testing::TempDir dir;
  std::string in;
  for (int k = 0; k < 6; ++k)
    in += json{{"prompt", "Frage " + std::to_string(k == 5 ? 1 : k) + ": Wohin fließt der Rhein?"}}.dump() + "\n";
  testing::write_text(dir.file("in.jsonl"), in);
  const std::string good =
      "Der Rhein fließt von den Schweizer Alpen durch Deutschland und die Niederlande bis in die Nordsee.";
  const std::string bad = "Der Rhein ist ein Fluss, aber mehr weiß ich darüber leider nicht zu sagen.";
  std::atomic<bool> slow{true};
  StubJudge a([&](const std::string& system, const std::string& user) {
    if (!system.empty()) {  // the judge: the good answer wins in either order
      return StubReply{200, testing::first_answer(user) == good ? "[[A]]" : "[[B]]"};
    }
    while (slow && nth(user, "Frage ") == "4") std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return StubReply{200, good};
  });
  StubJudge b([&](const std::string&, const std::string&) { return StubReply{200, bad}; });
  kill_and_resume(dir,
                  {"synth", "prefs", dir.file("in.jsonl"), "--endpoint", a.base_url(), "--endpoint-b", b.base_url(),
                   "--lang", "de", "--shard-chunks", "2"},
                  slow);
}

}  // namespace
}  // namespace nlm
