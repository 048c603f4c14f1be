// `synth prefs` against a scripted stub that is both the generator and the judge: clear wins
// become DPO records `nativelm dpo` reads, and ties (including position bias, which judging both
// orders turns into a tie), unclear wins, judge failures, unparsed verdicts, answers failing
// their checks and duplicates are counted rejections; a second endpoint/model supplies every
// second sample.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "eval/judge_stub.h"
#include "synth/run_synth.h"
#include "synth/synth_test_util.h"
#include "test_util.h"
#include "train/dpo_data.h"

namespace nlm::synth {
namespace {

using nlohmann::json;
using testing::read_jsonl;
using testing::StubJudge;
using testing::StubReply;

SynthOptions prefs_options(const std::string& url, const std::string& out) {
  return testing_util::stub_options(SynthTask::Prefs, url, out, "de");
}

std::string prompt_line(const std::string& p) { return json{{"prompt", p}}.dump() + "\n"; }

const std::string kGood =
    "Der Rhein entspringt in den Schweizer Alpen und fließt durch mehrere Länder, bevor er in den Niederlanden "
    "in die Nordsee mündet.";
const std::string kBad = "Der Rhein ist ein Fluss, aber mehr weiß ich darüber leider nicht zu sagen.";
const std::string kOther = "Die Donau fließt durch zehn Länder und mündet in das Schwarze Meer im Osten Europas.";

// The answer a generator request gets: sample k of a prompt is `answers[prompt][k]`.
struct Script {
  std::map<std::string, std::vector<std::string>> answers;
  std::map<std::string, int> asked;
  // The judge's reply for (question, answer shown first).
  std::function<StubReply(const std::string& question, const std::string& first)> judge;
  StubReply operator()(const std::string& system, const std::string& user) {
    const std::string qmark = "[User Question]\n";
    const size_t q = user.find(qmark);
    if (!system.empty() && q != std::string::npos) {
      const size_t e = user.find("\n\n", q);
      return judge(user.substr(q + qmark.size(), e - q - qmark.size()), testing::first_answer(user));
    }
    const auto& list = answers.at(user);
    return StubReply{200, list[size_t(asked[user]++) % list.size()]};
  }
};

// A judge that prefers `better` wherever it is shown.
StubReply prefer(const std::string& first, const std::string& better) {
  return StubReply{200, first == better ? "A is better. [[A]]" : "B is better. [[B]]"};
}

TEST(SynthPrefs, ClearWinsAreKeptAndEveryOtherOutcomeIsCounted) {
  testing::TempDir dir;
  Script s;
  s.answers = {
      {"Wohin fließt der Rhein?", {kBad, kGood}},
      {"Erzähl mir vom Rhein.", {kGood, kBad}},
      {"Position?", {kGood, kBad}},
      {"Fehler?", {kGood, kBad}},
      {"Unlesbar?", {kGood, kBad}},
      {"Englisch?", {kGood, "The Rhine flows from the Swiss Alps to the North Sea through several countries."}},
      {"Gleich?", {kGood, kGood}}};
  s.judge = [](const std::string& q, const std::string& first) {
    if (q == "Position?") return StubReply{200, "[[A]]"};           // always the first shown: position bias
    if (q == "Fehler?") return StubReply{400, ""};                  // the judge refuses
    if (q == "Unlesbar?") return StubReply{200, "Both are fine."};  // no verdict
    if (q == "Erzähl mir vom Rhein.") return StubReply{200, "[[C]]"};
    return prefer(first, kGood);
  };
  StubJudge stub([&](const std::string& sys, const std::string& user) { return s(sys, user); });
  std::string in;
  for (const char* p : {"Wohin fließt der Rhein?", "Erzähl mir vom Rhein.", "Position?", "Fehler?", "Unlesbar?",
                        "Englisch?", "Gleich?"})
    in += prompt_line(p);
  in += prompt_line("Wohin fließt der Rhein?");  // the same prompt again
  in +=
      "{\"question\": \"no prompt\"}\n" + json{{"messages", {{{"role", "assistant"}, {"content", "x"}}}}}.dump() + "\n";
  testing::write_text(dir.file("in.jsonl"), in);
  SynthOptions o = prefs_options(stub.base_url(), dir.file("out"));
  o.concurrency = 1;  // the script hands out each prompt's answers in request order
  std::ostringstream printed;
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_EQ(t.count("prompts"), 10u) << printed.str();
  EXPECT_EQ(t.count("bad_input"), 2u);
  EXPECT_EQ(t.count("answers"), 16u);
  EXPECT_EQ(t.count("answer_wrong_language"), 1u);
  EXPECT_EQ(t.count("answer_duplicate"), 1u);
  EXPECT_EQ(t.count("too_few_answers"), 2u);
  EXPECT_EQ(t.count("tie"), 2u);  // [[C]] both times, and [[A]] both times (position bias)
  EXPECT_EQ(t.count("judge_failed"), 1u);
  EXPECT_EQ(t.count("judge_unparsed"), 1u);
  EXPECT_EQ(t.count("duplicate"), 1u);
  EXPECT_EQ(t.count("kept"), 1u);
  EXPECT_EQ(t.count("judge_requests"), 2u * 6);  // both orders for every prompt with two answers
  uint64_t steps = 0;
  for (const char* k : {"bad_input", "too_few_answers", "judge_failed", "judge_unparsed", "tie", "unclear",
                        "contaminated", "duplicate", "kept"})
    steps += t.count(k);
  EXPECT_EQ(steps, t.count("prompts"));
  auto kept = read_jsonl(dir.file("out/part-00000.jsonl"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["prompt"], json::parse(R"([{"role": "user", "content": "Wohin fließt der Rhein?"}])"));
  EXPECT_EQ(kept[0]["chosen"][0]["content"], kGood);
  EXPECT_EQ(kept[0]["rejected"][0]["content"], kBad);
  EXPECT_EQ(kept[0]["judge"]["mode"], "pairwise");
  EXPECT_EQ(kept[0]["judge"]["prompt"], "pair-v2");
  // The record is one `nativelm dpo` takes.
  nlohmann::ordered_json chosen, rejected;
  std::string error;
  ASSERT_TRUE(train::dpo_sides(nlohmann::ordered_json::parse(kept[0].dump()), "x", chosen, rejected, error)) << error;
  EXPECT_EQ(chosen["messages"].size(), 2u);
  EXPECT_EQ(chosen["messages"][1]["content"], kGood);
}

TEST(SynthPrefs, ThreeSamplesWithoutAClearWinnerAreUnclear) {
  testing::TempDir dir;
  Script s;
  s.answers = {{"Welcher Fluss?", {kGood, kBad, kOther}}};
  // good vs bad: tie; good vs other: good wins; bad vs other: other wins. Points 1.5, 0.5, 1: the
  // best (good) did not beat the worst (bad) in both orders.
  StubJudge stub([&](const std::string& sys, const std::string& user) {
    if (!sys.empty()) {
      const std::string a = testing::first_answer(user);
      const bool has_good = user.find(kGood) != std::string::npos, has_bad = user.find(kBad) != std::string::npos,
                 has_other = user.find(kOther) != std::string::npos;
      if (has_good && has_bad) return StubReply{200, "[[C]]"};
      if (has_good && has_other) return prefer(a, kGood);
      return prefer(a, kOther);
    }
    return s(sys, user);
  });
  testing::write_text(dir.file("in.jsonl"), prompt_line("Welcher Fluss?"));
  SynthOptions o = prefs_options(stub.base_url(), dir.file("out"));
  o.samples = 3;
  std::ostringstream printed;
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_EQ(t.count("judge_requests"), 6u) << printed.str();
  EXPECT_EQ(t.count("unclear"), 1u);
  EXPECT_EQ(t.count("kept"), 0u);
}

TEST(SynthPrefs, SingleRatingsNeedTheMarginAndASecondModelSuppliesOddSamples) {
  testing::TempDir dir;
  std::map<std::string, double> rating = {{kGood, 9}, {kBad, 3}, {kOther, 8}};
  std::vector<std::string> models;
  StubJudge stub([&](const std::string& sys, const std::string& user) {
    if (user.find("[Question]\n") != std::string::npos) {
      for (const auto& [answer, r] : rating)
        if (user.find("[The Start of Assistant's Answer]\n" + answer + "\n") != std::string::npos)
          return StubReply{200, "Rating: [[" + std::to_string(int(r)) + "]]"};
      return StubReply{200, "no rating"};
    }
    (void)sys;
    return StubReply{200, user == "Klar?" ? kGood : kOther};
  });
  // Model b answers every second sample: kBad for "Klar?" (9 vs 3, kept) and kGood for "Knapp?" (8 vs 9: under the
  // margin).
  StubJudge stub_b([&](const std::string&, const std::string& user) {
    return StubReply{200, user == "Klar?" ? kBad : kGood};
  });
  testing::write_text(dir.file("in.jsonl"), prompt_line("Klar?") + prompt_line("Knapp?"));
  SynthOptions o = prefs_options(stub.base_url(), dir.file("out"));
  o.endpoint_b = stub_b.base_url();
  o.model_b = "other";
  o.judge_mode = eval::judge::JudgeMode::Single;
  o.margin = 2;
  std::ostringstream printed;
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_EQ(t.count("kept"), 1u) << printed.str();
  EXPECT_EQ(t.count("unclear"), 1u);
  EXPECT_EQ(t.count("judge_requests"), 4u);
  EXPECT_EQ(stub_b.requests(), 2u);
  for (const auto& b : stub_b.bodies()) EXPECT_EQ(b["model"], "other");
  auto kept = read_jsonl(dir.file("out/part-00000.jsonl"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["chosen"][0]["content"], kGood);
  EXPECT_EQ(kept[0]["judge"]["ratings"], json::parse("[9.0, 3.0]"));
  EXPECT_EQ(kept[0]["synth"]["model_chosen"], "stub");
  EXPECT_EQ(kept[0]["synth"]["model_rejected"], "other");
  // A pairwise prompt in single mode, or a prompt needing a reference, is a usage error.
  o.output = dir.file("o2");
  o.judge_prompt = "pair-v2";
  EXPECT_THROW(run_synth({dir.file("in.jsonl")}, o, printed), Error);
  o.judge_prompt = "single-math-v1";
  EXPECT_THROW(run_synth({dir.file("in.jsonl")}, o, printed), Error);
  o.judge_prompt.clear();
  o.prompt = "qa";
  EXPECT_THROW(run_synth({dir.file("in.jsonl")}, o, printed), Error);
}

TEST(SynthPrefs, ConversationsAreSentWholeAndTheJudgeSeesTheTranscript) {
  testing::TempDir dir;
  const json conv = json::parse(R"([{"role": "system", "content": "Antworte kurz."},
      {"role": "user", "content": "Was ist der Rhein?"}, {"role": "assistant", "content": "Ein Fluss."},
      {"role": "user", "content": "Wohin fließt er?"}])");
  std::vector<json> bodies;
  std::string judged;
  StubJudge stub([&](const std::string& sys, const std::string& user) {
    if (user.find("[User Question]") != std::string::npos) {
      judged = user;
      return prefer(testing::first_answer(user), kGood);
    }
    (void)sys;
    return StubReply{200, kGood};
  });
  StubJudge stub_b([](const std::string&, const std::string&) { return StubReply{200, kBad}; });
  testing::write_text(dir.file("in.jsonl"), json{{"messages", conv}, {"id", "c1"}}.dump() + "\n");
  SynthOptions o = prefs_options(stub.base_url(), dir.file("out"));
  o.endpoint_b = stub_b.base_url();
  std::ostringstream printed;
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_EQ(t.count("kept"), 1u) << printed.str();
  // The generator got the four messages as they are.
  const auto sent = stub_b.bodies().at(0)["messages"];
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0]["role"], "system");
  EXPECT_EQ(sent[3]["content"], "Wohin fließt er?");
  EXPECT_NE(judged.find("User: Was ist der Rhein?\n\nAssistant: Ein Fluss.\n\nUser: Wohin fließt er?"),
            std::string::npos)
      << judged;
  auto kept = read_jsonl(dir.file("out/part-00000.jsonl"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["prompt"], conv);
  EXPECT_EQ(kept[0]["id"], "c1");
  EXPECT_EQ(kept[0]["rejected"][0]["content"], kBad);
}

}  // namespace
}  // namespace nlm::synth
