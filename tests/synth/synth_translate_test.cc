// `synth translate` against a scripted OpenAI-compatible stub (eval/judge_stub.h): records keep
// their structure, code never reaches the model and comes back byte for byte, each filter catches
// its case (lost placeholder, changed code marker, wrong language, length ratio, truncation, empty
// answer, duplicate, bad input), and real-looking English instructions go to Basque and Irish.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "eval/judge_stub.h"
#include "synth/run_synth.h"
#include "synth/synth_test_util.h"
#include "test_util.h"

namespace nlm::synth {
namespace {

using nlohmann::json;
using testing::read_jsonl;
using testing::StubJudge;
using testing::StubReply;

SynthOptions translate_options(const StubJudge& stub, const std::string& out, const std::string& lang) {
  return testing_util::stub_options(SynthTask::Translate, stub.base_url(), out, lang);
}

json msg(const std::string& role, const std::string& content) { return {{"role", role}, {"content", content}}; }
std::string chat(const std::vector<json>& ms, const std::string& id = "") {
  json r = {{"messages", ms}};
  if (!id.empty()) r["id"] = id;
  return r.dump() + "\n";
}

// The text a translate request carries (after "TEXT:\n").
std::string sent_text(const std::string& user) {
  const size_t at = user.find("TEXT:\n");
  return at == std::string::npos ? "" : user.substr(at + 6);
}

// A stub that translates by table; unknown texts get an answer no check accepts.
StubJudge::Script by_table(const std::map<std::string, std::string>& table) {
  return [table](const std::string&, const std::string& user) {
    auto it = table.find(sent_text(user));
    return it == table.end() ? StubReply{200, "<<" + sent_text(user) + ">>"} : StubReply{200, it->second};
  };
}

const std::string kSystem = "You are a helpful assistant who answers questions about programming.";
const std::string kSystemEu = "Programazioari buruzko galderak erantzuten dituen laguntzaile lagungarria zara.";
const std::string kAsk = "Write a Python function that returns the square of a number, and explain how it works.";
const std::string kAskEu =
    "Idatzi zenbaki baten karratua itzultzen duen Python funtzio bat, eta azaldu nola funtzionatzen duen.";
const std::string kCode = "```python\ndef square(x):\n    return x * x  # {x} stays as it is\n```";
const std::string kAnswer = "Here is the function you asked for:\n\n" + kCode +
                            "\n\nIt multiplies `x` by itself and returns the result to the caller.";
const std::string kAnswerMasked =
    "Here is the function you asked for:\n\n[[CODE_1]]\n\nIt multiplies [[CODE_2]] by itself and returns the result "
    "to the caller.";
const std::string kAnswerEu =
    "Hona hemen eskatu duzun funtzioa:\n\n[[CODE_1]]\n\nFuntzioak [[CODE_2]] bere buruarekin biderkatzen du eta "
    "emaitza deitzaileari itzultzen dio.";

TEST(SynthTranslate, EveryFilterCatchesItsCaseAndKeptRecordsKeepTheirShape) {
  testing::TempDir dir;
  const std::string greet = "Write a short greeting for {name} that mentions the meeting on {date} at %s.";
  const std::string greet_lost = "Idatzi agur labur bat {name}-rentzat, bileraren data eta ordua aipatuz %s orduan.";
  const std::string fix =
      "Explain why the code below fails and how to fix the error:\n\n```c\nint *p = 0; *p = 1;\n```";
  const std::string fix_masked = "Explain why the code below fails and how to fix the error:\n\n[[CODE_1]]";
  const std::string english = "Tell me about the history of the city of Bilbao and its famous museum in a few lines.";
  const std::string longer = "Describe the water cycle in simple words, for a child who is eight years old.";
  const std::string cut = "Summarise the plot of a well known novel in three sentences for a school class.";
  const std::string empty = "List three ways to save energy at home during the cold winter months of the year.";
  const std::string refused = "Write a poem about the sea that rhymes and has four short verses in it.";
  std::string in = chat({msg("system", kSystem), msg("user", kAsk), msg("assistant", kAnswer)}, "good") +
                   chat({msg("user", greet), msg("assistant", "ok")}, "lost-placeholder") +
                   chat({msg("user", fix)}, "changed-code") + chat({msg("user", english)}, "english") +
                   chat({msg("user", longer)}, "too-short") + chat({msg("user", cut)}, "truncated") +
                   chat({msg("user", empty)}, "empty") +
                   chat({msg("system", kSystem), msg("user", kAsk), msg("assistant", kAnswer)}, "good-again") +
                   json{{"text", "a document, not an instruction"}}.dump() + "\n" + "{not json\n" +
                   chat({msg("user", kAsk), json{{"role", "assistant"}, {"content", json::array()}}}) +
                   chat({msg("user", kAsk), msg("assistant", kCode)}, "code-only-answer") +
                   "{\"messages\": [{\"role\": \"user\", \"content\": \"caf\xff\"}]}\n" +  // invalid UTF-8
                   chat({msg("user", refused)}, "refused");
  testing::write_text(dir.file("in.jsonl"), in);
  std::map<std::string, std::string> table = {
      {kSystem, kSystemEu},
      {kAsk, kAskEu},
      {kAnswerMasked, kAnswerEu},
      {greet, greet_lost},  // {date} lost
      {"ok", "ados"},
      {fix_masked,  // the marker "translated"
       "Azaldu zergatik huts egiten duen beheko kodeak eta nola konpondu errorea:\n\n[[KODEA_1]]"},
      {english, "Tell me about the history of the city of Bilbao and its famous museum in a few lines, please."},
      {longer, "Ura."},
      {empty, "   \n"},
  };
  StubJudge stub([&](const std::string& system, const std::string& user) {
    if (sent_text(user) == refused) return StubReply{400, ""};  // counted, the run goes on
    if (sent_text(user) == cut)
      return StubReply{
          200, "",
          json{{"choices",
                {{{"message", {{"role", "assistant"}, {"content", "Eleberri"}}}, {"finish_reason", "length"}}}},
               {"usage", {{"prompt_tokens", 50}, {"completion_tokens", 1}}}}
              .dump()};
    return by_table(table)(system, user);
  });
  SynthOptions o = translate_options(stub, dir.file("out"), "eu");
  std::ostringstream printed;
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_EQ(t.count("records"), 14u) << printed.str();
  EXPECT_EQ(t.count("bad_input"), 4u);
  EXPECT_EQ(t.count("request_failed"), 1u);
  EXPECT_EQ(t.count("placeholder_mismatch"), 1u) << printed.str();
  EXPECT_EQ(t.count("code_mismatch"), 1u);
  EXPECT_EQ(t.count("wrong_language"), 1u);
  EXPECT_EQ(t.count("bad_length_ratio"), 1u);
  EXPECT_EQ(t.count("truncated"), 1u);
  EXPECT_EQ(t.count("malformed"), 1u);
  EXPECT_EQ(t.count("duplicate"), 1u);
  EXPECT_EQ(t.count("kept"), 2u);
  // Each sent record lands in exactly one step.
  uint64_t steps = 0;
  for (const char* k : {"request_failed", "truncated", "malformed", "code_mismatch", "placeholder_mismatch",
                        "bad_length_ratio", "wrong_language", "contaminated", "duplicate", "kept"})
    steps += t.count(k);
  EXPECT_EQ(steps + t.count("bad_input"), t.count("records"));
  EXPECT_EQ(t.count("messages_verbatim"), 1u);  // the code-only answer
  // No request carried code: the blocks and inline code stayed here.
  for (const auto& b : stub.bodies()) {
    const std::string sent = b["messages"][1]["content"].get<std::string>();
    EXPECT_EQ(sent.find("def square"), std::string::npos) << sent;
    EXPECT_EQ(sent.find("int *p"), std::string::npos) << sent;
    EXPECT_NE(sent.find("English"), std::string::npos);
    EXPECT_NE(sent.find("Basque"), std::string::npos);
  }
  auto kept = read_jsonl(dir.file("out/part-00000.jsonl"));
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0]["id"], "good");
  ASSERT_EQ(kept[0]["messages"].size(), 3u);
  EXPECT_EQ(kept[0]["messages"][0]["role"], "system");
  EXPECT_EQ(kept[0]["messages"][0]["content"], kSystemEu);
  EXPECT_EQ(kept[0]["messages"][1]["content"], kAskEu);
  const std::string answer = kept[0]["messages"][2]["content"];
  EXPECT_NE(answer.find(kCode), std::string::npos) << answer;  // the block, byte for byte
  EXPECT_NE(answer.find("`x` bere buruarekin"), std::string::npos) << answer;
  EXPECT_EQ(kept[0]["lang"], "eu");
  EXPECT_EQ(kept[0]["source_lang"], "en");
  EXPECT_EQ(kept[1]["id"], "code-only-answer");
  EXPECT_EQ(kept[1]["messages"][1]["content"], kCode);
  const auto summary = json::parse(testing::read_text(dir.file("out/summary.json")));
  EXPECT_EQ(summary["task"], "translate");
  EXPECT_EQ(summary["funnel"]["kept"], 2);
  EXPECT_GT(summary["tokens"]["prompt"].get<int64_t>(), 0);
}

TEST(SynthTranslate, SystemMessagesCanStayAndPromptCompletionRecordsKeepTheirShape) {
  testing::TempDir dir;
  const std::string tool = R"({"temperature": 21})";
  testing::write_text(dir.file("in.jsonl"),
                      chat({msg("system", kSystem), msg("user", kAsk), msg("tool", tool),
                            json{{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array()}}}) +
                          json{{"prompt", kAsk}, {"completion", kAnswer}, {"id", 7}}.dump() + "\n");
  StubJudge stub(by_table({{kAsk, kAskEu}, {kAnswerMasked, kAnswerEu}}));
  SynthOptions o = translate_options(stub, dir.file("out"), "eu");
  o.translate_system = false;
  std::ostringstream printed;
  const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
  EXPECT_EQ(t.count("kept"), 2u) << printed.str();
  EXPECT_EQ(t.count("messages_verbatim"), 3u);  // system, tool, tool call
  EXPECT_EQ(stub.requests(), 3u);
  auto kept = read_jsonl(dir.file("out/part-00000.jsonl"));
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0]["messages"][0]["content"], kSystem);
  EXPECT_EQ(kept[0]["messages"][1]["content"], kAskEu);
  EXPECT_EQ(kept[0]["messages"][2]["content"], tool);
  EXPECT_TRUE(kept[0]["messages"][3]["content"].is_null());
  EXPECT_TRUE(kept[0]["messages"][3].contains("tool_calls"));
  EXPECT_EQ(kept[1]["prompt"], kAskEu);
  EXPECT_NE(kept[1]["completion"].get<std::string>().find(kCode), std::string::npos);
  EXPECT_EQ(kept[1]["id"], 7);
  EXPECT_FALSE(kept[1].contains("messages"));
}

TEST(SynthTranslate, RealEnglishInstructionsToIrishAndBasque) {
  // Instructions as they come in English chat sets: a gettext string, a Jinja template, a shell
  // one-liner. The stub answers as a careful translator would; the markers and placeholders of
  // the real prompt must reach it and come back.
  const std::string po =
      "Translate the message \"%d files were deleted from %s\" for a program's interface. Keep %d and %s "
      "where the numbers and the folder name go, and explain the plural rule you used.";
  const std::string jinja =
      "Write an email template that greets {{ user.first_name }} and links to https://example.org/account so "
      "they can check their order {order_id}.";
  const std::string shell = "What does `find . -name '*.po' | xargs msgfmt --check` do? Answer in two sentences.";
  const std::string shell_masked = "What does [[CODE_1]] do? Answer in two sentences.";
  const std::map<std::string, std::map<std::string, std::string>> by_lang = {
      {"ga",
       {{po,
         "Aistrigh an teachtaireacht \"%d files were deleted from %s\" do chomhéadan an ríomhchláir. Coinnigh %d agus "
         "%s san áit a dtéann na huimhreacha agus ainm an fhillteáin, agus mínigh an riail iolra a d'úsáid tú."},
        {jinja,
         "Scríobh teimpléad ríomhphoist a chuireann fáilte roimh {{ user.first_name }} agus a thugann nasc chuig "
         "https://example.org/account ionas gur féidir leo a n-ordú {order_id} a sheiceáil."},
        {shell_masked, "Cad a dhéanann [[CODE_1]]? Freagair in dhá abairt, le do thoil, go soiléir."}}},
      {"eu",
       {{po,
         "Itzuli \"%d files were deleted from %s\" mezua programa baten interfazerako. Mantendu %d eta %s zenbakiak "
         "eta karpetaren izena doazen lekuan, eta azaldu erabili duzun plural araua."},
        {jinja,
         "Idatzi {{ user.first_name }} agurtzen duen eta https://example.org/account helbidera esteka egiten duen "
         "posta elektronikoko txantiloi bat, {order_id} eskaera egiaztatu ahal izan dezaten."},
        {shell_masked, "Zer egiten du [[CODE_1]] komandoak? Erantzun bi esalditan, mesedez, argi eta garbi."}}}};
  for (const auto& [lang, table] : by_lang) {
    testing::TempDir dir;
    testing::write_text(dir.file("in.jsonl"),
                        chat({msg("user", po)}) + chat({msg("user", jinja)}) + chat({msg("user", shell)}));
    StubJudge stub(by_table(table));
    SynthOptions o = translate_options(stub, dir.file("out"), lang);
    std::ostringstream printed;
    const SynthTotals t = run_synth({dir.file("in.jsonl")}, o, printed);
    EXPECT_EQ(t.count("kept"), 3u) << lang << "\n" << printed.str();
    auto kept = read_jsonl(dir.file("out/part-00000.jsonl"));
    ASSERT_EQ(kept.size(), 3u) << lang;
    EXPECT_NE(kept[2]["messages"][0]["content"].get<std::string>().find("`find . -name '*.po' | xargs msgfmt --check`"),
              std::string::npos);
    // The real prompt names both languages and shows the marker, never the command.
    const std::string user = stub.bodies()[2]["messages"][1]["content"];
    EXPECT_NE(user.find("[[CODE_1]]"), std::string::npos) << user;
    EXPECT_EQ(user.find("xargs"), std::string::npos);
    EXPECT_NE(user.find(lang == "ga" ? "Irish" : "Basque"), std::string::npos) << user;
    EXPECT_NE(user.find("{name}, {{var}}, %s, %1$d"), std::string::npos) << user;  // the rule, braces rendered
  }
}

TEST(SynthTranslate, BadOptionsAndPromptsAreUsageErrors) {
  testing::TempDir dir;
  testing::write_text(dir.file("in.jsonl"), chat({msg("user", kAsk)}));
  testing::write_text(dir.file("prompt.txt"), "Translate into {language}: {text} ({n})");
  StubJudge stub(by_table({}));
  SynthOptions o = translate_options(stub, dir.file("out"), "eu");
  o.prompt_file = dir.file("prompt.txt");
  std::ostringstream printed;
  try {
    run_synth({dir.file("in.jsonl")}, o, printed);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("{n}"), std::string::npos) << e.what();
  }
  o.prompt_file.clear();
  o.prompt = "wikipedia";
  EXPECT_THROW(run_synth({dir.file("in.jsonl")}, o, printed), Error);
  EXPECT_EQ(stub.requests(), 0u);
  // An empty input file is an empty run, not an error.
  testing::write_text(dir.file("empty.jsonl"), "");
  o.prompt.clear();
  o.output = dir.file("out2");
  const SynthTotals t = run_synth({dir.file("empty.jsonl")}, o, printed);
  EXPECT_EQ(t.count("records"), 0u);
  EXPECT_EQ(t.shards, 0u);
}

}  // namespace
}  // namespace nlm::synth
