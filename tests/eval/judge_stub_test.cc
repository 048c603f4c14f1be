// `eval judge` against a scripted OpenAI-compatible stub (judge_stub.h): parsed scores, the
// both-orders rule, retries, garbage answers, an endpoint that is down, the rate limit and
// resume, all asserted exactly.
#include "judge_stub.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "eval/judge/run_judge.h"
#include "test_util.h"

namespace nlm::eval::judge {
namespace {

using nlohmann::json;
using testing::StubJudge;
using testing::StubReply;
using testing::read_jsonl;

JudgeOptions options_for(const StubJudge& stub, const std::string& out) {
  JudgeOptions o;
  o.endpoint = stub.base_url();
  o.judge_model = "stub-judge";
  o.output = out;
  o.retry_wait = 0.01;
  o.timeout = 10;
  return o;
}

TEST(JudgeStub, SingleGradingScoresSkipsAndTokens) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"),
                      "{\"id\": \"a\", \"question\": \"q1\", \"answer\": \"x\"}\n"
                      "{\"id\": \"b\", \"question\": \"q2\", \"answer\": \"x\", \"reference\": \"r\"}\n"
                      "{\"question\": \"q3\", \"answer\": \"x\"}\n"
                      "not json\n"
                      "{\"question\": \"q5\"}\n"
                      "\n"
                      "{\"id\": 7, \"question\": \"q7\", \"answer\": \"x\"}\n");
  StubJudge stub([](const std::string&, const std::string& user) {
    const std::string q = testing::question_of(user);
    if (q == "q1") return StubReply{200, "Clear and correct. Rating: [[8]]"};
    if (q == "q2") return StubReply{200, "Close to the reference. Rating: [[7.5]]"};
    if (q == "q3") return StubReply{200, "I cannot decide."};
    return StubReply{200, "Rating: [6]"};
  });
  JudgeOptions o = options_for(stub, dir.file("out"));
  o.api_key = "sekret";
  o.max_tokens = 333;
  std::ostringstream printed;
  const JudgeTotals t = run_judge(dir.file("in.jsonl"), o, printed);
  EXPECT_EQ(t.records, 4u);
  EXPECT_EQ(t.parsed, 3u);
  EXPECT_EQ(t.unparsed, 1u);
  EXPECT_EQ(t.failed, 0u);
  EXPECT_EQ(t.skipped, 2u);
  EXPECT_DOUBLE_EQ(t.mean_score, (8 + 7.5 + 6) / 3);

  ASSERT_EQ(stub.requests(), 4u);
  for (const auto& b : stub.bodies()) {
    EXPECT_EQ(b["model"], "stub-judge");
    EXPECT_EQ(b["temperature"], 0);
    EXPECT_EQ(b["max_tokens"], 333);
    EXPECT_EQ(b["messages"][0]["content"], "You are a helpful assistant.");
  }
  for (const auto& a : stub.authorization()) EXPECT_EQ(a, "Bearer sekret");
  // The record with a reference got the reference-guided prompt.
  EXPECT_NE(stub.bodies()[1]["messages"][1]["content"].get<std::string>().find(
                "[The Start of Reference Answer]\nr\n[The End of Reference Answer]"),
            std::string::npos);

  auto lines = read_jsonl(dir.file("out/judgments.jsonl"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["id"], "a");
  EXPECT_EQ(lines[0]["prompt"], "single-v1");
  EXPECT_EQ(lines[0]["score"], 8);
  EXPECT_EQ(lines[0]["judgments"][0]["output"], "Clear and correct. Rating: [[8]]");
  EXPECT_EQ(lines[0]["judgments"][0]["user"], stub.bodies()[0]["messages"][1]["content"]);
  EXPECT_EQ(lines[1]["prompt"], "single-math-v1");
  EXPECT_EQ(lines[1]["score"], 7.5);
  EXPECT_EQ(lines[2]["id"], nullptr);
  EXPECT_EQ(lines[2]["line"], 3);
  EXPECT_EQ(lines[2]["status"], "unparsed");
  EXPECT_EQ(lines[2]["score"], nullptr);
  EXPECT_EQ(lines[2]["judgments"][0]["output"], "I cannot decide.");
  EXPECT_EQ(lines[3]["id"], 7);
  EXPECT_EQ(lines[3]["tokens"], (json{{"prompt", 100}, {"completion", 7}}));

  auto s = json::parse(testing::read_text(dir.file("out/summary.json")));
  EXPECT_EQ(s["records"], 4);
  EXPECT_EQ(s["unparsed"], 1);
  EXPECT_EQ(s["skipped"], 2);
  EXPECT_NE(s["skipped_examples"][0].get<std::string>().find("in.jsonl:4: not JSON"), std::string::npos);
  EXPECT_NE(s["skipped_examples"][1].get<std::string>().find("in.jsonl:5: no \"answer\""), std::string::npos);
  EXPECT_EQ(s["histogram"]["8"], 1);
  EXPECT_EQ(s["histogram"]["7"], 1);
  EXPECT_EQ(s["histogram"]["6"], 1);
  EXPECT_EQ(s["histogram"]["10"], 0);
  EXPECT_EQ(s["tokens"], (json{{"prompt", 400}, {"completion", 28}, {"total", 428}}));
  EXPECT_NE(printed.str().find("mean score 7.167 over 3 ratings"), std::string::npos) << printed.str();
}

TEST(JudgeStub, PairwiseBothOrdersDisagreementIsATie) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"),
                      "{\"question\": \"q\", \"answer_a\": \"good\", \"answer_b\": \"bad\", \"model_a\": \"ours\", "
                      "\"model_b\": \"base\"}\n"
                      "{\"question\": \"q\", \"answer_a\": \"bad\", \"answer_b\": \"good\"}\n"
                      "{\"question\": \"q\", \"answer_a\": \"same1\", \"answer_b\": \"same2\"}\n"
                      "{\"question\": \"q\", \"answer_a\": \"biasA\", \"answer_b\": \"other\"}\n"
                      "{\"question\": \"q\", \"answer_a\": \"garble1\", \"answer_b\": \"garble2\"}\n"
                      "{\"question\": \"q\", \"answer\": \"single-shaped\"}\n");
  StubJudge stub([](const std::string&, const std::string& user) {
    const std::string first = testing::first_answer(user);
    if (first == "good") return StubReply{200, "A is right. [[A]]"};
    if (first == "bad") return StubReply{200, "B is right. [[B]]"};
    if (first == "same1" || first == "same2") return StubReply{200, "Equal. [[C]]"};
    if (first == "garble2") return StubReply{200, "hmm"};
    return StubReply{200, "[[A]]"};  // position-biased
  });
  JudgeOptions o = options_for(stub, dir.file("out"));
  o.mode = JudgeMode::Pairwise;
  std::ostringstream printed;
  const JudgeTotals t = run_judge(dir.file("in.jsonl"), o, printed);
  EXPECT_EQ(stub.requests(), 10u);
  EXPECT_EQ(t.wins, 1u);
  EXPECT_EQ(t.losses, 1u);
  EXPECT_EQ(t.ties, 2u);
  EXPECT_EQ(t.inconsistent, 1u);
  EXPECT_EQ(t.unparsed, 1u);
  EXPECT_EQ(t.skipped, 1u);
  auto b = stub.bodies();
  EXPECT_EQ(testing::first_answer(b[0]["messages"][1]["content"]), "good");
  EXPECT_EQ(testing::first_answer(b[1]["messages"][1]["content"]), "bad");  // swapped
  EXPECT_EQ(b[0]["messages"][0]["content"].get<std::string>().substr(0, 40),
            "Please act as an impartial judge and eva");

  auto lines = read_jsonl(dir.file("out/judgments.jsonl"));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["prompt"], "pair-v2");
  EXPECT_EQ(lines[0]["verdicts"], (json{"A", "B"}));
  EXPECT_EQ(lines[0]["winner"], "A");
  EXPECT_EQ(lines[0]["consistent"], true);
  EXPECT_EQ(lines[1]["winner"], "B");
  EXPECT_EQ(lines[2]["winner"], "tie");
  EXPECT_EQ(lines[2]["consistent"], true);
  EXPECT_EQ(lines[3]["verdicts"], (json{"A", "A"}));
  EXPECT_EQ(lines[3]["winner"], "tie");
  EXPECT_EQ(lines[3]["consistent"], false);
  EXPECT_EQ(lines[4]["status"], "unparsed");
  EXPECT_EQ(lines[4]["verdicts"], (json{"A", nullptr}));
  EXPECT_EQ(lines[4]["judgments"][1]["output"], "hmm");
  EXPECT_EQ(lines[4]["tokens"]["prompt"], 200);

  auto s = json::parse(testing::read_text(dir.file("out/summary.json")));
  EXPECT_EQ(s["model_a"], "ours");
  EXPECT_EQ(s["model_b"], "base");
  EXPECT_DOUBLE_EQ(s["win_rate"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(s["win_rate_adjusted"].get<double>(), 0.5);
  EXPECT_EQ(s["tokens"]["total"], 1070);
  EXPECT_NE(printed.str().find("ours vs base: 1 wins, 1 losses, 2 ties (1 inconsistent)"), std::string::npos)
      << printed.str();
}

TEST(JudgeStub, RetriesA500AndCountsGarbageAsFailed) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"),
                      "{\"question\": \"q1\", \"answer\": \"x\"}\n{\"question\": \"q2\", \"answer\": \"x\"}\n"
                      "{\"question\": \"q3\", \"answer\": \"x\"}\n{\"question\": \"q4\", \"answer\": \"x\"}\n");
  int calls = 0;
  StubJudge stub([&calls](const std::string&, const std::string& user) {
    ++calls;
    const std::string q = testing::question_of(user);
    if (q == "q1" && calls == 1) return StubReply{500, ""};
    if (q == "q2") return StubReply{200, "", "this is not json"};
    if (q == "q3") return StubReply{200, "", "{\"choices\": []}"};
    if (q == "q4") return StubReply{400, ""};
    return StubReply{200, "[[9]]"};
  });
  JudgeOptions o = options_for(stub, dir.file("out"));
  o.retries = 2;
  std::ostringstream printed;
  const JudgeTotals t = run_judge(dir.file("in.jsonl"), o, printed);
  EXPECT_EQ(stub.requests(), 5u);
  EXPECT_EQ(t.parsed, 1u);
  EXPECT_EQ(t.failed, 3u);
  auto lines = read_jsonl(dir.file("out/judgments.jsonl"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["score"], 9);
  EXPECT_EQ(lines[0]["judgments"][0]["attempts"], 2);
  EXPECT_EQ(lines[1]["status"], "failed");
  EXPECT_NE(lines[1]["error"].get<std::string>().find("not JSON"), std::string::npos);
  EXPECT_NE(lines[2]["error"].get<std::string>().find("choices[0].message.content"), std::string::npos);
  EXPECT_NE(lines[3]["error"].get<std::string>().find("HTTP 400: scripted failure"), std::string::npos);
  EXPECT_EQ(lines[3]["judgments"][0]["output"], nullptr);
}

TEST(JudgeStub, PersistentServerErrorStopsTheRunNamingTheUrl) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), "{\"question\": \"q\", \"answer\": \"x\"}\n");
  StubJudge stub([](const std::string&, const std::string&) { return StubReply{503, ""}; });
  JudgeOptions o = options_for(stub, dir.file("out"));
  o.retries = 2;
  std::ostringstream printed;
  try {
    run_judge(dir.file("in.jsonl"), o, printed);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(stub.port()) + "/v1/chat/completions"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("HTTP 503"), std::string::npos) << e.what();
  }
  EXPECT_EQ(stub.requests(), 3u);
}

TEST(JudgeStub, EndpointDownIsAClearError) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), "{\"question\": \"q\", \"answer\": \"x\"}\n");
  std::string url;
  int port = 0;
  {
    StubJudge stub([](const std::string&, const std::string&) { return StubReply{200, "[[1]]"}; });
    url = stub.base_url();
    port = stub.port();
  }
  auto r = testing::run_nativelm("eval judge " + dir.file("in.jsonl") + " --endpoint " + url + " -o " +
                                     dir.file("out") + " --retries 1 --retry-wait 10ms",
                                 dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("nativelm: error: the judge endpoint failed after 2 tries (cannot connect"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port) + "/v1/chat/completions"), std::string::npos) << r.err;
  // Nothing was judged, so a rerun needs neither --resume nor --force.
  EXPECT_EQ(testing::read_text(dir.file("out/judgments.jsonl")), "");
}

TEST(JudgeStub, ResumeSkipsFinishedRecordsAndEqualsAnUninterruptedRun) {
  testing::TempDir dir;
  std::string records;
  for (int i = 1; i <= 6; ++i)
    records +=
        "{\"id\": \"r" + std::to_string(i) + "\", \"question\": \"q" + std::to_string(i) + "\", \"answer\": \"x\"}\n";
  testing::write_text(dir.file("in.jsonl"), records);
  auto script = [](const std::string&, const std::string& user) {
    const std::string q = testing::question_of(user);
    return StubReply{200, "Rating: [[" + q.substr(1) + "]]"};
  };
  std::ostringstream printed;
  {
    StubJudge stub(script);
    run_judge(dir.file("in.jsonl"), options_for(stub, dir.file("whole")), printed);
  }
  // The interrupted run: the endpoint dies after three answers.
  {
    int served = 0;
    StubJudge stub([&](const std::string& s, const std::string& u) {
      return ++served <= 3 ? script(s, u) : StubReply{503, ""};
    });
    JudgeOptions o = options_for(stub, dir.file("part"));
    o.retries = 0;
    EXPECT_THROW(run_judge(dir.file("in.jsonl"), o, printed), Error);
  }
  ASSERT_EQ(read_jsonl(dir.file("part/judgments.jsonl")).size(), 3u);
  // A line torn by a kill is dropped on resume.
  {
    std::ofstream torn(dir.file("part/judgments.jsonl"), std::ios::app);
    torn << "{\"id\": \"r4\", \"line\": 4, \"status\": \"pars";
  }
  StubJudge stub(script);
  JudgeOptions o = options_for(stub, dir.file("part"));
  try {
    run_judge(dir.file("in.jsonl"), o, printed);
    FAIL() << "an existing judgments.jsonl was overwritten without --resume";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  o.resume = true;
  const JudgeTotals t = run_judge(dir.file("in.jsonl"), o, printed);
  EXPECT_EQ(stub.requests(), 3u);  // r4, r5, r6 only
  EXPECT_EQ(t.resumed, 3u);
  EXPECT_EQ(t.records, 6u);
  EXPECT_EQ(testing::read_text(dir.file("part/judgments.jsonl")),
            testing::read_text(dir.file("whole/judgments.jsonl")));
  EXPECT_EQ(testing::read_text(dir.file("part/summary.json")), testing::read_text(dir.file("whole/summary.json")));
  // Resuming a finished run judges nothing.
  run_judge(dir.file("in.jsonl"), o, printed);
  EXPECT_EQ(stub.requests(), 3u);
  // Lines edited by hand so that they lack what the summary reads (tokens, a score) are judged
  // again rather than crashing the summary; the result equals the uninterrupted run's.
  {
    auto edited = read_jsonl(dir.file("part/judgments.jsonl"));
    ASSERT_EQ(edited.size(), 6u);
    ASSERT_TRUE(edited[1].contains("score"));
    edited[0].erase("tokens");
    edited[1].erase("score");
    std::string text;
    for (const auto& j : edited) text += j.dump() + "\n";
    testing::write_text(dir.file("part/judgments.jsonl"), text);
  }
  run_judge(dir.file("in.jsonl"), o, printed);
  EXPECT_EQ(stub.requests(), 5u);
  EXPECT_EQ(testing::read_text(dir.file("part/summary.json")), testing::read_text(dir.file("whole/summary.json")));
  // Another judge model is not a resumption.
  o.judge_model = "other";
  try {
    run_judge(dir.file("in.jsonl"), o, printed);
    FAIL() << "resumed with another judge model";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("--judge-model differs"), std::string::npos) << e.what();
  }
}

TEST(JudgeStub, KeyFromTheEnvironmentAndRefusedKeys) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), "{\"question\": \"q\", \"answer\": \"x\"}\n");
  StubJudge stub([](const std::string&, const std::string&) { return StubReply{200, "[[3]]"}; });
  ::setenv("OPENAI_API_KEY", "from-env", 1);
  std::ostringstream printed;
  run_judge(dir.file("in.jsonl"), options_for(stub, dir.file("env")), printed);
  ::unsetenv("OPENAI_API_KEY");
  ASSERT_EQ(stub.authorization().size(), 1u);
  EXPECT_EQ(stub.authorization()[0], "Bearer from-env");

  StubJudge refusing([](const std::string&, const std::string&) { return StubReply{401, ""}; });
  JudgeOptions o = options_for(refusing, dir.file("refused"));
  o.api_key = "wrong";
  try {
    run_judge(dir.file("in.jsonl"), o, printed);
    FAIL() << "a refused key did not stop the run";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("HTTP 401"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--api-key"), std::string::npos) << e.what();
  }
  EXPECT_EQ(refusing.requests(), 1u);  // not retried
}

TEST(JudgeStub, PairwiseWithReferenceAndAFailedSecondGame) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"),
                      "{\"id\": \"m1\", \"question\": \"2+2?\", \"answer_a\": \"4\", \"answer_b\": \"5\", "
                      "\"reference\": \"4\"}\n"
                      "{\"id\": \"m2\", \"question\": \"3+3?\", \"answer_a\": \"6\", \"answer_b\": \"broken\"}\n");
  StubJudge stub([](const std::string&, const std::string& user) {
    if (testing::first_answer(user) == "broken") return StubReply{200, "", "<html>oops</html>"};
    return StubReply{200, testing::first_answer(user) == "4" || testing::first_answer(user) == "6" ? "[[A]]" : "[[B]]"};
  });
  JudgeOptions o = options_for(stub, dir.file("out"));
  o.mode = JudgeMode::Pairwise;
  std::ostringstream printed;
  const JudgeTotals t = run_judge(dir.file("in.jsonl"), o, printed);
  EXPECT_EQ(t.wins, 1u);
  EXPECT_EQ(t.failed, 1u);
  auto lines = read_jsonl(dir.file("out/judgments.jsonl"));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["prompt"], "pair-math-v1");
  EXPECT_NE(lines[0]["judgments"][0]["user"].get<std::string>().find("[The Start of Reference Answer]\n4\n"),
            std::string::npos);
  EXPECT_EQ(lines[1]["prompt"], "pair-v2");
  EXPECT_EQ(lines[1]["status"], "failed");
  EXPECT_EQ(lines[1]["judgments"].size(), 2u);
  EXPECT_EQ(lines[1]["judgments"][0]["output"], "[[A]]");  // the first game's output is kept
  EXPECT_NE(lines[1]["error"].get<std::string>().find("not JSON"), std::string::npos);
  EXPECT_EQ(lines[1].count("winner"), 0u);
}

TEST(JudgeStub, RateLimitSpacesRequests) {
  testing::TempDir dir;
  std::string records;
  for (int i = 0; i < 4; ++i) records += "{\"question\": \"q\", \"answer\": \"x\"}\n";
  testing::write_text(dir.file("in.jsonl"), records);
  StubJudge stub([](const std::string&, const std::string&) { return StubReply{200, "[[5]]"}; });
  JudgeOptions o = options_for(stub, dir.file("out"));
  o.requests_per_minute = 600;  // one per 100 ms
  std::ostringstream printed;
  const auto start = std::chrono::steady_clock::now();
  run_judge(dir.file("in.jsonl"), o, printed);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(secs, 0.3);
  EXPECT_EQ(stub.requests(), 4u);
}

TEST(JudgeStub, PromptFileAndUsageErrors) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), "{\"question\": \"Cé thú?\", \"answer\": \"Bot.\"}\n");
  testing::write_text(dir.file("p.jsonl"),
                      "{\"name\": \"ga\", \"type\": \"single\", \"system_prompt\": \"Breitheamh.\", "
                      "\"prompt_template\": \"Ceist: {question}\\nFreagra: {answer}\"}\n");
  StubJudge stub([](const std::string&, const std::string&) { return StubReply{200, "[[4]]"}; });
  auto r = testing::run_nativelm("eval judge " + dir.file("in.jsonl") + " --endpoint " + stub.base_url() + " -o " +
                                     dir.file("out") + " --prompt-file " + dir.file("p.jsonl") + " --prompt ga",
                                 dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(stub.requests(), 1u);
  EXPECT_EQ(stub.bodies()[0]["messages"][0]["content"], "Breitheamh.");
  EXPECT_EQ(stub.bodies()[0]["messages"][1]["content"], "Ceist: Cé thú?\nFreagra: Bot.");
  EXPECT_NE(r.out.find("mean score 4.000 over 1 ratings"), std::string::npos) << r.out;

  auto bad = [&](const std::string& args, const std::string& expect) {
    auto res =
        testing::run_nativelm("eval judge " + dir.file("in.jsonl") + " -o " + dir.file("o2") + " " + args, dir.path());
    EXPECT_EQ(res.exit_code, 2) << args << ": " << res.err;
    EXPECT_NE(res.err.find(expect), std::string::npos) << args << ": " << res.err;
  };
  bad("--endpoint " + stub.base_url() + " --mode triple", "--mode");
  bad("", "--endpoint");
  bad("--endpoint ftp://x/v1", "--endpoint");
  bad("--endpoint " + stub.base_url() + " --prompt nope", "--prompt");
  bad("--endpoint " + stub.base_url() + " --mode pairwise --prompt single-v1", "pairwise");
  EXPECT_EQ(stub.requests(), 1u);
}

}  // namespace
}  // namespace nlm::eval::judge
