// `synth qa` / `synth rephrase` against a scripted OpenAI-compatible stub (eval/judge_stub.h):
// each quality filter catches its case, retries and timeouts are bounded, an unreachable endpoint
// is a clear error, concurrency does not change the output, and a run interrupted mid-way resumes
// to the same bytes as an uninterrupted one.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <csignal>
#include <sys/wait.h>
#include <thread>

#include "core/error.h"
#include "eval/judge_stub.h"
#include "synth/run_synth.h"
#include "synth/synth_test_util.h"
#include "test_util.h"

namespace nlm::synth {
namespace {

using nlohmann::json;
using testing::StubJudge;
using testing::StubReply;
using testing::read_jsonl;
using testing_util::all_parts;

SynthOptions options_for(const StubJudge& stub, const std::string& out) {
  SynthOptions o = testing_util::stub_options(SynthTask::Qa, stub.base_url(), out, "de");
  o.min_chunk_chars = 20;
  return o;
}

std::string doc(const std::string& id, const std::string& text) {
  return json{{"id", id}, {"text", text}}.dump() + "\n";
}

std::string pairs(const std::vector<std::pair<std::string, std::string>>& qa) {
  json a = json::array();
  for (const auto& [q, ans] : qa) a.push_back({{"question", q}, {"answer", ans}});
  return a.dump();
}

const std::string kBilbao =
    "Bilbao ist eine Stadt im Norden Spaniens. Die Stadt liegt am Fluss Nervión und ist bekannt für das "
    "Guggenheim-Museum, das im Jahr 1997 eröffnet wurde. Viele Touristen besuchen die Altstadt und den Hafen.";
const std::string kRhein =
    "Der Rhein ist ein Strom in Mitteleuropa. Er entspringt in den Schweizer Alpen und mündet in den "
    "Niederlanden in die Nordsee. An seinen Ufern liegen viele Burgen.";
const std::string kDonau =
    "Die Donau ist der zweitlängste Fluss Europas. Sie fließt durch zehn Länder, darunter Deutschland, "
    "Österreich und Ungarn, und mündet ins Schwarze Meer.";
const std::string kBodensee =
    "Der Bodensee liegt an der Grenze von Deutschland, Österreich und der Schweiz und ist ein beliebtes Ziel.";

const std::pair<std::string, std::string> kGood1 = {
    "Wofür ist die Stadt Bilbao bekannt?",
    "Die Stadt liegt am Fluss Nervión und ist bekannt für das Guggenheim-Museum, das im Jahr 1997 eröffnet wurde."};
const std::pair<std::string, std::string> kGood2 = {"Was besuchen viele Touristen in Bilbao?",
                                                    "Viele Touristen besuchen die Altstadt und den Hafen der Stadt."};

TEST(SynthStub, EveryFilterCatchesItsCaseAndTheFunnelAddsUp) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), doc("bilbao", kBilbao) + doc("bilbao-copy", kBilbao) +
                                                doc("rhein", kRhein) + doc("donau", kDonau) +
                                                doc("bodensee", kBodensee) + doc("tiny", "Kurz."));
  int donau_calls = 0, bilbao_calls = 0;
  StubJudge stub([&](const std::string&, const std::string& user) {
    if (user.find("Bilbao") != std::string::npos) {
      if (bilbao_calls++ > 0) return StubReply{200, pairs({kGood1})};  // the second copy: a duplicate
      return StubReply{
          200, "```json\n" +
                   pairs({kGood1,
                          kGood2,
                          {"What is Bilbao known for?",
                           "The city is known for the Guggenheim Museum, which opened in 1997 on the river."},
                          {"Was essen die Menschen in Hamburg gern?",
                           "In Hamburg essen die Menschen gern Fischbrötchen mit Zwiebeln und trinken dazu kaltes "
                           "Bier am Abend."},
                          {"Was?", "Bilbao liegt im Norden Spaniens."},
                          {"Was steht im Text über Bilbao?", kBilbao},
                          kGood1}) +
                   "\n```"};
    }
    if (user.find("Rhein") != std::string::npos) return StubReply{200, "Leider kann ich das nicht beantworten."};
    if (user.find("Donau") != std::string::npos) {
      if (donau_calls++ == 0) return StubReply{429, ""};
      return StubReply{200,
                       "Q1: Durch welche Länder fließt die Donau?\nA1: Die Donau fließt durch zehn Länder, darunter "
                       "Deutschland, Österreich und Ungarn."};
    }
    return StubReply{400, ""};
  });
  SynthOptions o = options_for(stub, dir.file("out"));
  o.price_prompt = 1;
  o.price_completion = 2;
  std::ostringstream printed;
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  const std::map<std::string, uint64_t> want = {
      {"chunks", 6},     {"chunks_too_short", 1}, {"requests", 5},       {"request_failed", 1},
      {"candidates", 10}, {"malformed", 1},       {"too_short", 1},      {"wrong_language", 1},
      {"ungrounded", 1}, {"copies_source", 1},    {"duplicate", 2},      {"kept", 3}};
  for (const auto& [k, v] : want) EXPECT_EQ(t.count(k), v) << k << "\n" << printed.str();
  EXPECT_EQ(stub.requests(), 6u);  // five chunks, one retry after the 429
  EXPECT_EQ(t.prompt_tokens, 400);
  EXPECT_EQ(t.completion_tokens, 28);
  EXPECT_NEAR(t.cost, 400e-6 + 56e-6, 1e-12);
  for (const auto& b : stub.bodies()) EXPECT_EQ(b["model"], "stub");

  auto kept = read_jsonl(dir.file("out/part-00000.jsonl"));
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0]["messages"][0]["role"], "user");
  EXPECT_EQ(kept[0]["messages"][0]["content"], kGood1.first);
  EXPECT_EQ(kept[0]["messages"][1]["role"], "assistant");
  EXPECT_EQ(kept[0]["messages"][1]["content"], kGood1.second);
  EXPECT_EQ(kept[0]["source_id"], "bilbao");
  EXPECT_EQ(kept[0]["chunk"], 0);
  EXPECT_EQ(kept[0]["lang"], "de");
  EXPECT_GT(kept[0]["grounding"].get<double>(), 0.9);
  EXPECT_EQ(kept[1]["messages"][0]["content"], kGood2.first);
  EXPECT_EQ(kept[2]["source_id"], "donau");
  EXPECT_EQ(kept[2]["messages"][0]["content"], "Durch welche Länder fließt die Donau?");

  auto s = json::parse(testing::read_text(dir.file("out/summary.json")));
  for (const auto& [k, v] : want) EXPECT_EQ(s["funnel"][k], v) << k;
  EXPECT_EQ(s["tokens"]["total"], 428);
  EXPECT_NE(printed.str().find("wrong_language: 1"), std::string::npos) << printed.str();
}

TEST(SynthStub, RephraseKeepsGroundedTextInTheLanguage) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), doc("b", kBilbao) + doc("r", kRhein) + doc("d", kDonau) +
                                                doc("s", kBodensee));
  StubJudge stub([](const std::string&, const std::string& user) {
    if (user.find("Bilbao") != std::string::npos)
      return StubReply{200, "Bilbao ist eine Stadt im Norden Spaniens am Fluss Nervión. Die Stadt ist bekannt für "
                            "das Guggenheim-Museum, das im Jahr 1997 eröffnet wurde.\n"};
    if (user.find("Rhein") != std::string::npos)
      return StubReply{200, "The Rhine is a river in central Europe that rises in the Swiss Alps and flows into "
                            "the North Sea in the Netherlands."};
    if (user.find("Donau") != std::string::npos) return StubReply{200, kDonau};
    return StubReply{200, "Heute ist das Wetter in Berlin sehr schön, und wir gehen am Nachmittag spazieren."};
  });
  SynthOptions o = options_for(stub, dir.file("out"));
  o.task = SynthTask::Rephrase;
  std::ostringstream printed;
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_EQ(t.count("candidates"), 4u);
  EXPECT_EQ(t.count("wrong_language"), 1u);
  EXPECT_EQ(t.count("copies_source"), 1u);
  EXPECT_EQ(t.count("ungrounded"), 1u);
  EXPECT_EQ(t.count("kept"), 1u);
  auto kept = read_jsonl(dir.file("out/part-00000.jsonl"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["id"], "b#0-wikipedia");
  EXPECT_EQ(kept[0]["source_id"], "b");
  EXPECT_EQ(kept[0]["text"].get<std::string>().back(), '.');  // trailing newline trimmed
  EXPECT_NE(stub.bodies()[0]["messages"][1]["content"].get<std::string>().find("German"), std::string::npos);
}

TEST(SynthStub, OutputsOverlappingAnEvalSetAreRejected) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), doc("b", kBilbao));
  testing::write_text(dir.file("bench.jsonl"),
                      "{\"id\": \"item-7\", \"question\": \"Wofür ist die Stadt Bilbao bekannt?\"}\n");
  StubJudge stub([](const std::string&, const std::string&) { return StubReply{200, pairs({kGood1, kGood2})}; });
  SynthOptions o = options_for(stub, dir.file("out"));
  o.benchmark = {dir.file("bench.jsonl")};
  o.decontam_ngram = 4;
  std::ostringstream printed;
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_EQ(t.count("contaminated"), 1u) << printed.str();
  EXPECT_EQ(t.count("kept"), 1u);
  auto kept = read_jsonl(dir.file("out/part-00000.jsonl"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["messages"][0]["content"], kGood2.first);
  o.benchmark = {dir.file("missing.jsonl")};
  EXPECT_THROW(run_synth({dir.file("in.jsonl")}, o, printed), Error);
}

TEST(SynthStub, RetriesAreBoundedOnServerErrors) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), doc("b", kBilbao));
  StubJudge stub([](const std::string&, const std::string&) { return StubReply{500, ""}; });
  SynthOptions o = options_for(stub, dir.file("out"));
  o.retries = 2;
  std::ostringstream printed;
  try {
    run_synth({dir.file("in.jsonl")}, o, printed);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("failed after 3 tries"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("generator"), std::string::npos) << e.what();
  }
  EXPECT_EQ(stub.requests(), 3u);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/part-00000.jsonl")));
}

TEST(SynthStub, SlowAnswersTimeOutAndAreRetriedABoundedNumberOfTimes) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), doc("b", kBilbao));
  StubJudge stub([](const std::string&, const std::string&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return StubReply{200, pairs({kGood1})};
  });
  SynthOptions o = options_for(stub, dir.file("out"));
  o.timeout = 0.3;
  o.retries = 1;
  std::ostringstream printed;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(run_synth({dir.file("in.jsonl")}, o, printed), Error);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.4);
  stub.stop();
  EXPECT_EQ(stub.requests(), 2u);
}

TEST(SynthStub, UnreachableEndpointIsAClearError) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), doc("b", kBilbao));
  int port = 0;
  {
    StubJudge stub([](const std::string&, const std::string&) { return StubReply{200, ""}; });
    port = stub.port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  auto r = testing::run_nativelm("synth qa " + dir.file("in.jsonl") + " --endpoint " + url +
                                     " --lang de --retries 0 --min-chunk-chars 10 -o " + dir.file("out"),
                                 dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
  // A missing required flag is a usage error.
  r = testing::run_nativelm("synth qa " + dir.file("in.jsonl") + " --endpoint " + url + " -o " + dir.file("o2"),
                            dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--lang"), std::string::npos) << r.err;
}

// Six documents; the reply of document 5 repeats document 1's, so dedup must see earlier shards.
std::string numbered_docs() {
  std::string s;
  for (int k = 0; k < 6; ++k)
    s += doc("d" + std::to_string(k), "Dokument Nummer " + std::to_string(k) +
                                          ". Die Stadt liegt am Fluss, und viele Touristen besuchen die Altstadt und "
                                          "den Hafen. Im Sommer gibt es dort ein großes Fest mit Musik.");
  return s;
}

StubReply numbered_reply(const std::string& user) {
  const size_t at = user.find("Dokument Nummer ");
  std::string k = user.substr(at + 16, 1);
  if (k == "5") k = "1";
  return StubReply{200, pairs({{"Was steht in Dokument Nummer " + k + " über die Stadt?",
                                "In Dokument Nummer " + k +
                                    " steht, dass die Stadt am Fluss liegt und viele Touristen die Altstadt besuchen."}})};
}

TEST(SynthStub, InterruptedRunResumesToTheSameBytes) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), numbered_docs());
  bool fail = true;
  StubJudge stub([&](const std::string&, const std::string& user) {
    if (fail && user.find("Dokument Nummer 4") != std::string::npos) return StubReply{500, ""};
    return numbered_reply(user);
  });
  SynthOptions o = options_for(stub, dir.file("out"));
  o.shard_chunks = 2;
  o.concurrency = 2;
  o.retries = 0;
  std::ostringstream printed;
  EXPECT_THROW(run_synth({dir.file("in.jsonl")}, o, printed), Error);
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/part-00001.jsonl")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/part-00002.jsonl")));
  const size_t before = stub.requests();

  fail = false;
  const SynthTotals resumed = run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_EQ(resumed.shards, 3u);
  EXPECT_EQ(resumed.shards_resumed, 2u);
  EXPECT_EQ(stub.requests() - before, 2u);  // only the last shard's chunks
  EXPECT_EQ(resumed.count("duplicate"), 1u);
  EXPECT_EQ(resumed.count("kept"), 5u);

  // The reference: one uninterrupted run, one request at a time.
  SynthOptions ref = o;
  ref.output = dir.file("ref");
  ref.concurrency = 1;
  const SynthTotals whole = run_synth({dir.file("in.jsonl")}, ref, printed);
  EXPECT_EQ(all_parts(dir.file("out")), all_parts(dir.file("ref")));
  EXPECT_EQ(whole.counts, resumed.counts);
  EXPECT_EQ(whole.prompt_tokens, resumed.prompt_tokens);
  auto ids = read_jsonl(dir.file("ref/part-00002.jsonl"));
  ASSERT_EQ(ids.size(), 1u);  // d5's pair duplicates d1's
  EXPECT_EQ(ids[0]["source_id"], "d4");

  // A third run does nothing; other options need --force.
  const size_t settled = stub.requests();
  EXPECT_EQ(run_synth({dir.file("in.jsonl")}, o, printed).shards_resumed, 3u);
  EXPECT_EQ(stub.requests(), settled);
  SynthOptions other = o;
  other.pairs = 5;
  EXPECT_THROW(run_synth({dir.file("in.jsonl")}, other, printed), Error);
  other.force = true;
  EXPECT_EQ(run_synth({dir.file("in.jsonl")}, other, printed).shards_resumed, 0u);
}

TEST(SynthStub, KilledRunResumesToTheSameBytes) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), numbered_docs());
  std::atomic<bool> slow{true};
  StubJudge stub([&](const std::string&, const std::string& user) {
    // Document 4 hangs while the first run is alive, so the kill lands mid-shard.
    while (slow && user.find("Dokument Nummer 4") != std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return numbered_reply(user);
  });
  std::vector<std::string> args = {"synth", "qa",          dir.file("in.jsonl"), "--endpoint", stub.base_url(),
                                   "--lang", "de",          "--min-chunk-chars",  "20",         "--shard-chunks",
                                   "2",      "--concurrency", "2",                "-o",         dir.file("out")};
  const pid_t pid = testing::spawn_nativelm(args, dir.file("run.out"), dir.file("run.err"));
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 600 && !std::filesystem::exists(dir.file("out/part-00001.jsonl")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(std::filesystem::exists(dir.file("out/part-00001.jsonl"))) << testing::read_text(dir.file("run.err"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it block on document 4
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  slow = false;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/part-00002.jsonl")));

  auto r = testing::run_nativelm("synth qa " + dir.file("in.jsonl") + " --endpoint " + stub.base_url() +
                                     " --lang de --min-chunk-chars 20 --shard-chunks 2 --concurrency 2 -o " +
                                     dir.file("out"),
                                 dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(2 from an earlier run)"), std::string::npos) << r.out;
  r = testing::run_nativelm("synth qa " + dir.file("in.jsonl") + " --endpoint " + stub.base_url() +
                                " --lang de --min-chunk-chars 20 --shard-chunks 2 --concurrency 1 -o " + dir.file("ref"),
                            dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(all_parts(dir.file("out")), all_parts(dir.file("ref")));
  EXPECT_EQ(json::parse(testing::read_text(dir.file("out/summary.json")))["funnel"],
            json::parse(testing::read_text(dir.file("ref/summary.json")))["funnel"]);
  for (const auto& e : std::filesystem::directory_iterator(dir.file("out")))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(SynthStub, RateLimitIsSharedByAllConcurrentRequests) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), numbered_docs());
  std::vector<double> arrivals;  // the script runs under the stub's lock
  const auto start = std::chrono::steady_clock::now();
  StubJudge stub([&](const std::string&, const std::string& user) {
    arrivals.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return numbered_reply(user);
  });
  SynthOptions o = options_for(stub, dir.file("out"));
  o.concurrency = 4;
  o.requests_per_minute = 240;  // one request every 0.25 s over all four workers
  std::ostringstream printed;
  run_synth({dir.file("in.jsonl")}, o, printed);
  ASSERT_EQ(arrivals.size(), 6u);
  std::sort(arrivals.begin(), arrivals.end());
  // Split per client (the old way) the four workers would start together.
  // (Generous bounds: a loaded machine delays some arrivals, never brings them forward.)
  for (size_t k = 1; k < arrivals.size(); ++k) EXPECT_GE(arrivals[k] - arrivals[k - 1], 0.1) << k;
  EXPECT_GE(arrivals.back() - arrivals.front(), 5 * 0.25 - 0.05);
}

TEST(SynthStub, TokenLimitCountsTheUsageOfEveryWorker) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), numbered_docs());
  // Every answer reports 250 tokens: half a second of a 30000-per-minute budget.
  StubJudge stub([](const std::string&, const std::string& user) {
    const std::string content = numbered_reply(user).content;
    return StubReply{200, "", json{{"choices", {{{"message", {{"role", "assistant"}, {"content", content}}},
                                                 {"finish_reason", "stop"}}}},
                                   {"usage", {{"prompt_tokens", 200}, {"completion_tokens", 50}}}}
                                  .dump()};
  });
  SynthOptions o = options_for(stub, dir.file("out"));
  o.concurrency = 4;
  o.max_tokens = 16;
  o.tokens_per_minute = 30000;
  std::ostringstream printed;
  auto start = std::chrono::steady_clock::now();
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  const double limited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(t.prompt_tokens, 6 * 200);
  EXPECT_EQ(t.completion_tokens, 6 * 50);
  EXPECT_EQ(t.count("kept"), 5u);
  // Six requests reserve about 6 × 200 tokens (bytes/4 + max_tokens) at 500 a second, less the
  // 500 the bucket holds at the start: at least a second, whatever the order of the answers.
  EXPECT_GE(limited, 1.0) << printed.str();
  EXPECT_LT(limited, 8.0);
  o.tokens_per_minute = 0;
  o.output = dir.file("free");
  start = std::chrono::steady_clock::now();
  run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), limited / 2);
}

}  // namespace
}  // namespace nlm::synth
