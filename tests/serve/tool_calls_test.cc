// Tool-call formats without a model: which format a template asks for, parsing each format
// (several calls, text around them, a missing closing tag, Thai and Cantonese arguments), malformed
// or undeclared calls staying plain content, the streaming hold-back giving back exactly the text
// when there is no call, the forced-call schemas, and the template view of tool-call history.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "serve/json_constraint.h"
#include "serve/tool_calls.h"

namespace nlm::testing {
namespace {

using nlohmann::json;
using serve::ToolCallFormat;

const std::vector<std::string> kNames = {"get_weather", "lookup-word"};

serve::ParsedAnswer parse(const std::string& t, ToolCallFormat f) { return serve::parse_tool_calls(t, f, kNames); }

TEST(ToolCalls, FormatComesFromTheTemplate) {
  EXPECT_EQ(serve::tool_call_format_of("{{- '<tool_call>\\n' }}{{ tool_call | tojson }}"), ToolCallFormat::Hermes);
  EXPECT_EQ(serve::tool_call_format_of("{{- '[TOOL_CALLS] [' }}"), ToolCallFormat::Mistral);
  EXPECT_EQ(serve::tool_call_format_of("{{- '<|python_tag|>' + tool_call.name }}"), ToolCallFormat::Llama3Json);
  EXPECT_EQ(serve::tool_call_format_of("{{- '{\"name\": \"' + t.name + '\", \"parameters\": ' }}"),
            ToolCallFormat::Llama3Json);
  EXPECT_EQ(serve::tool_call_format_of("<|im_start|>{{ m.role }}"), ToolCallFormat::Hermes);  // ChatML
  EXPECT_EQ(serve::tool_call_format_of(""), ToolCallFormat::Hermes);
}

TEST(ToolCalls, HermesCallsWithTextAroundThem) {
  auto p = parse("Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"กรุงเทพฯ\"}}\n"
                 "</tool_call>\n<tool_call>{\"name\": \"lookup-word\", \"arguments\": {\"word\": \"食咗飯未\"}}</tool_call>",
                 ToolCallFormat::Hermes);
  ASSERT_EQ(p.calls.size(), 2u);
  EXPECT_EQ(p.calls[0].name, "get_weather");
  EXPECT_EQ(json::parse(p.calls[0].arguments)["city"], "กรุงเทพฯ");
  EXPECT_NE(p.calls[0].arguments.find("กรุงเทพฯ"), std::string::npos);  // UTF-8 kept, not \u-escaped
  EXPECT_EQ(json::parse(p.calls[1].arguments)["word"], "食咗飯未");
  EXPECT_EQ(p.content, "Let me look.\n\n");
  // The answer ended inside the call (EOS before the closing tag); arguments given as JSON text;
  // "parameters" for "arguments"; no arguments at all.
  p = parse("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Baile Átha Cliath\\\"}\"}",
            ToolCallFormat::Hermes);
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(json::parse(p.calls[0].arguments)["city"], "Baile Átha Cliath");
  p = parse("<tool_call>{\"name\": \"get_weather\", \"parameters\": {\"a\": [1, {\"b\": null}]}}</tool_call>",
            ToolCallFormat::Hermes);
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(json::parse(p.calls[0].arguments), json::parse(R"({"a": [1, {"b": null}]})"));
  p = parse("<tool_call>{\"name\": \"lookup-word\"}</tool_call>", ToolCallFormat::Hermes);
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].arguments, "{}");
}

TEST(ToolCalls, MalformedOrUndeclaredCallsArePlainContent) {
  const std::vector<std::string> texts = {
      "",
      "Dia duit! Níl aon uirlis ag teastáil.",
      "<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": }</tool_call>",  // bad JSON
      "<tool_call>not json at all</tool_call>",
      "<tool_call></tool_call>",
      "<tool_call>",
      "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>",  // not declared
      "<tool_call>{\"arguments\": {}}</tool_call>",                        // no name
      "<tool_call>{\"name\": 7, \"arguments\": {}}</tool_call>",
      "<tool_call>{\"name\": \"get_weather\", \"arguments\": [1]}</tool_call>",
      "<tool_call>{\"name\": \"get_weather\", \"arguments\": \"{oops\"}</tool_call>",
      "<tool_call>{\"name\": \"get_weather\", \"arguments\": {}, \"parameters\": {}}</tool_call>",
      "<tool_call>{\"name\": \"get_weather\", \"arguments\": {}, \"extra\": 1}</tool_call>",
      "<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"x\": \"\xff\xfe\"}}</tool_call>",  // invalid UTF-8
      "<tool_call>{\"name\": \"get_weather\", \"arguments\": {}}</tool_call><tool_call>{bad</tool_call>",
      "<tool_call>[{\"name\": \"get_weather\"}]</tool_call>",
  };
  for (const auto& t : texts) {
    auto p = parse(t, ToolCallFormat::Hermes);
    EXPECT_TRUE(p.calls.empty()) << t;
    EXPECT_EQ(p.content, t);
  }
  for (const auto& t : texts) {  // the other formats take none of these either
    EXPECT_TRUE(parse(t, ToolCallFormat::Llama3Json).calls.empty()) << t;
    EXPECT_TRUE(parse(t, ToolCallFormat::Mistral).calls.empty()) << t;
  }
  for (const std::string t : {"{\"name\": \"get_weather\", \"parameters\": {}} and some words",
                              "The answer: {\"name\": \"get_weather\", \"parameters\": {}}", "{\"name\": \"get_weather\"",
                              "{\"city\": \"Cork\"}", "{}", "{\"name\": \"x\", \"parameters\": {}}", "[1, 2]"}) {
    EXPECT_TRUE(parse(t, ToolCallFormat::Llama3Json).calls.empty()) << t;
    EXPECT_EQ(parse(t, ToolCallFormat::Llama3Json).content, t);
  }
  for (const std::string t : {"[TOOL_CALLS][]", "[TOOL_CALLS]", "[TOOL_CALLS][{\"name\": \"get_weather\"", "[1, 2]",
                              "[TOOL_CALLS]{\"name\": \"get_weather\", \"arguments\": {}}", "Cá bhfuil an cat? [ ]"}) {
    EXPECT_TRUE(parse(t, ToolCallFormat::Mistral).calls.empty()) << t;
    EXPECT_EQ(parse(t, ToolCallFormat::Mistral).content, t);
  }
}

TEST(ToolCalls, Llama3JsonAnswers) {
  auto p = parse(" {\"name\": \"get_weather\", \"parameters\": {\"city\": \"香港\"}}\n", ToolCallFormat::Llama3Json);
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].name, "get_weather");
  EXPECT_EQ(json::parse(p.calls[0].arguments)["city"], "香港");
  EXPECT_EQ(p.content, "");
  p = parse("<|python_tag|>{\"type\": \"function\", \"name\": \"get_weather\", \"parameters\": {\"city\": \"a;b}\"}}; "
            "{\"name\": \"lookup-word\", \"arguments\": {\"word\": \"ขอบคุณ\"}}",
            ToolCallFormat::Llama3Json);
  ASSERT_EQ(p.calls.size(), 2u);
  EXPECT_EQ(json::parse(p.calls[0].arguments)["city"], "a;b}");  // brackets and ';' inside strings
  EXPECT_EQ(p.calls[1].name, "lookup-word");
}

TEST(ToolCalls, MistralLists) {
  auto p = parse("Seo é.[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Gaillimh\"}, \"id\": \"abc123def\"}, "
                 "{\"name\": \"lookup-word\", \"arguments\": {\"word\": \"唔該\"}}]",
                 ToolCallFormat::Mistral);
  ASSERT_EQ(p.calls.size(), 2u);
  EXPECT_EQ(p.content, "Seo é.");
  EXPECT_EQ(json::parse(p.calls[1].arguments)["word"], "唔該");
  // The decoder drops the special [TOOL_CALLS] token: a list at the start is a call too.
  p = parse("\n[{\"name\": \"get_weather\", \"arguments\": {}}]", ToolCallFormat::Mistral);
  ASSERT_EQ(p.calls.size(), 1u);
}

// Streams `text` in pieces of `step` bytes: what push() sends plus finish()'s content.
std::pair<std::string, serve::ParsedAnswer> streamed(const std::string& text, ToolCallFormat f, size_t step) {
  serve::ToolCallStream s(f, kNames);
  std::string sent;
  for (size_t i = 0; i < text.size(); i += step) sent += s.push(text.substr(i, step));
  auto rest = s.finish();
  return {sent, rest};
}

TEST(ToolCalls, StreamingHoldsBackOnlyWhatMayBeACall) {
  const std::string call = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"เชียงใหม่\"}}\n</tool_call>";
  for (size_t step : {1, 2, 3, 7, 100}) {
    auto [sent, rest] = streamed("Fan soicind. " + call + " ", ToolCallFormat::Hermes, step);
    EXPECT_EQ(sent, "Fan soicind. ") << step;  // the text before the call streamed as it came
    ASSERT_EQ(rest.calls.size(), 1u) << step;
    EXPECT_EQ(json::parse(rest.calls[0].arguments)["city"], "เชียงใหม่");
    EXPECT_EQ(rest.content, " ");
  }
  // No call (or a malformed one): every byte comes out once, in order.
  const std::vector<std::pair<std::string, ToolCallFormat>> plain = {
      {"Dia duit <tool and <tool_cal", ToolCallFormat::Hermes},
      {"<tool_call>{broken", ToolCallFormat::Hermes},
      {"Hello <tool_call>{\"name\": \"nope\"}</tool_call> bye", ToolCallFormat::Hermes},
      {"  我哋去飲茶 {\"name\": \"get_weather\", \"parameters\": {}}", ToolCallFormat::Llama3Json},
      {"  {\"name\": \"get_weather\", \"parameters\": {} trailing", ToolCallFormat::Llama3Json},
      {"  ", ToolCallFormat::Llama3Json},
      {"[not a call", ToolCallFormat::Mistral},
      {"Go raibh maith agat [TOOL_CA", ToolCallFormat::Mistral},
  };
  for (auto& [text, f] : plain)
    for (size_t step : {1, 4, 100}) {
      auto [sent, rest] = streamed(text, f, step);
      EXPECT_TRUE(rest.calls.empty()) << text;
      EXPECT_EQ(sent + rest.content, text) << step;
    }
  // A Llama 3 answer that starts as plain text streams at once.
  serve::ToolCallStream s(ToolCallFormat::Llama3Json, kNames);
  EXPECT_EQ(s.push(" Hi"), " Hi");
  EXPECT_EQ(s.push(" {"), " {");
  auto [sent, rest] = streamed("[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {}}]", ToolCallFormat::Mistral, 5);
  EXPECT_EQ(sent, "");
  EXPECT_EQ(rest.calls.size(), 1u);
}

// Streams `text` in pieces of `step` bytes and joins the call deltas: per call, its name (from
// its first delta) and its arguments. Checks that a call's name comes first and once.
struct Joined {
  std::vector<std::string> names, args;
  serve::ParsedAnswer rest;
  size_t streamed = 0;
};
Joined joined(const std::string& text, ToolCallFormat f, size_t step, bool parallel = true) {
  serve::ToolCallStream s(f, kNames, parallel);
  Joined j;
  for (size_t i = 0; i < text.size(); i += step) {
    s.push(text.substr(i, step));
    for (auto& d : s.take_deltas()) {
      if (d.index == j.names.size()) {
        EXPECT_FALSE(d.name.empty()) << "call " << d.index << " began without its name";
        j.names.push_back(d.name);
        j.args.emplace_back();
      } else {
        EXPECT_LT(d.index, j.names.size());
        EXPECT_TRUE(d.name.empty()) << "a second name for call " << d.index;
      }
      if (d.index < j.args.size()) j.args[d.index] += d.arguments;
    }
  }
  j.rest = s.finish();
  j.streamed = s.streamed();
  return j;
}

TEST(ToolCalls, StreamingSendsNamesThenArgumentsAsTheyGrow) {
  const std::string hermes =
      "Seo duit. <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Baile Átha Cliath\", "
      "\"days\": [1, 2], \"note\": \"a \\\"quoted\\\" } word\"}}\n</tool_call>\n<tool_call>{\"name\": "
      "\"lookup-word\", \"arguments\": {\"word\": \"ฝนตก\"}}</tool_call>";
  for (size_t step : {1, 2, 5, 13, 1000}) {
    Joined j = joined(hermes, ToolCallFormat::Hermes, step);
    ASSERT_EQ(j.rest.calls.size(), 2u) << step;
    ASSERT_EQ(j.names, (std::vector<std::string>{"get_weather", "lookup-word"})) << step;
    // The pieces join to the arguments the whole answer parses to (spaces between tokens gone,
    // those inside strings kept).
    for (size_t k = 0; k < 2; ++k) EXPECT_EQ(j.args[k], j.rest.calls[k].arguments) << step;
    EXPECT_EQ(j.args[0], R"({"city":"Baile Átha Cliath","days":[1,2],"note":"a \"quoted\" } word"})");
  }
  // The arguments arrive before the call closes.
  serve::ToolCallStream s(ToolCallFormat::Hermes, kNames);
  s.push("<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Cor");
  auto d = s.take_deltas();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].name, "get_weather");
  EXPECT_EQ(d[1].arguments, "{\"city\":\"Cor");
  s.push("k\"}}</tool_call>");
  d = s.take_deltas();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].arguments, "k\"}");
  // Mistral's list and Llama 3's ';'-separated objects.
  Joined m = joined("[TOOL_CALLS][{\"name\": \"lookup-word\", \"arguments\": {\"word\": \"x\"}}, {\"name\": "
                    "\"get_weather\", \"arguments\": {}}]",
                    ToolCallFormat::Mistral, 3);
  ASSERT_EQ(m.names, (std::vector<std::string>{"lookup-word", "get_weather"}));
  EXPECT_EQ(m.args, (std::vector<std::string>{"{\"word\":\"x\"}", "{}"}));
  Joined l = joined("<|python_tag|>{\"name\": \"lookup-word\", \"parameters\": {\"word\": \"y\"}}; {\"name\": "
                    "\"get_weather\", \"parameters\": {\"city\": \"Bilbo\"}}",
                    ToolCallFormat::Llama3Json, 4);
  ASSERT_EQ(l.names, (std::vector<std::string>{"lookup-word", "get_weather"}));
  EXPECT_EQ(l.args[1], "{\"city\":\"Bilbo\"}");
  // parallel_tool_calls false: only the first call streams.
  Joined one = joined(hermes, ToolCallFormat::Hermes, 7, false);
  EXPECT_EQ(one.names, (std::vector<std::string>{"get_weather"}));
  // What cannot stream goes out whole at the end: arguments as a JSON string (name only), the
  // arguments before the name, an undeclared name (not a call at all).
  Joined str = joined("<tool_call>{\"name\": \"lookup-word\", \"arguments\": \"{\\\"word\\\": 1}\"}</tool_call>",
                      ToolCallFormat::Hermes, 2);
  EXPECT_EQ(str.names, (std::vector<std::string>{"lookup-word"}));
  EXPECT_EQ(str.args, (std::vector<std::string>{""}));
  ASSERT_EQ(str.rest.calls.size(), 1u);
  EXPECT_EQ(str.rest.calls[0].arguments, "{\"word\": 1}");
  Joined late = joined("<tool_call>{\"arguments\": {\"word\": \"z\"}, \"name\": \"lookup-word\"}</tool_call>",
                       ToolCallFormat::Hermes, 3);
  EXPECT_EQ(late.streamed, 0u);
  EXPECT_EQ(late.rest.calls.size(), 1u);
  Joined other = joined("<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>", ToolCallFormat::Hermes, 1);
  EXPECT_EQ(other.streamed, 0u);
  EXPECT_TRUE(other.rest.calls.empty());
  // An answer cut off inside the arguments: what came streamed, and nothing parses.
  Joined cut = joined("<tool_call>{\"name\": \"lookup-word\", \"arguments\": {\"word\": \"half", ToolCallFormat::Hermes, 4);
  EXPECT_EQ(cut.args, (std::vector<std::string>{"{\"word\":\"half"}));
  EXPECT_TRUE(cut.rest.calls.empty());
}

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather now",
   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
  {"type": "function", "function": {"name": "lookup-word",
   "parameters": {"type": "object", "properties": {"n": {"type": "array", "uniqueItems": true}}}}},
  {"type": "function", "function": {"name": "count",
   "parameters": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}}}])");

bool accepts(const serve::ForcedToolCall& f, const std::string& text) {
  serve::JsonConstraint c(f.schema.get());
  return c.advance(text) && c.complete();
}

TEST(ToolCalls, ForcedCallSchemas) {
  auto any = serve::forced_tool_call(ToolCallFormat::Hermes, kTools, "");
  EXPECT_EQ(any.prefix, "<tool_call>\n");
  EXPECT_TRUE(accepts(any, R"({"name":"get_weather","arguments":{"city":"ฮ่องกง"}})"));
  EXPECT_FALSE(accepts(any, R"({"name":"get_weather","arguments":{}})"));  // city is required
  EXPECT_FALSE(accepts(any, R"({"name":"other","arguments":{}})"));
  // lookup-word's parameters use "uniqueItems" (outside the subset): any object as its arguments.
  EXPECT_TRUE(accepts(any, R"({"name":"lookup-word","arguments":{"n":1,"x":[true]}})"));
  // The name comes first (x-property-order), so that a forced call can stream.
  EXPECT_FALSE(accepts(any, R"({"arguments":{"n":1},"name":"lookup-word"})"));
  EXPECT_FALSE(accepts(any, R"({"arguments":{"city":"x"},"name":"get_weather"})"));
  // count's "minimum" is in the subset, so its arguments are held to it.
  EXPECT_TRUE(accepts(any, R"({"name":"count","arguments":{"n":7}})"));
  EXPECT_FALSE(accepts(any, R"({"name":"count","arguments":{"n":0}})"));
  auto named = serve::forced_tool_call(ToolCallFormat::Hermes, kTools, "lookup-word");
  EXPECT_FALSE(accepts(named, R"({"name":"get_weather","arguments":{"city":"x"}})"));
  EXPECT_TRUE(accepts(named, R"({"name":"lookup-word","arguments":{}})"));
  auto llama = serve::forced_tool_call(ToolCallFormat::Llama3Json, kTools, "get_weather");
  EXPECT_EQ(llama.prefix, "");
  EXPECT_TRUE(accepts(llama, R"({"name":"get_weather","parameters":{"city":"Bilbo"}})"));
  EXPECT_FALSE(accepts(llama, R"({"name":"get_weather","arguments":{"city":"Bilbo"}})"));
  auto mistral = serve::forced_tool_call(ToolCallFormat::Mistral, kTools, "");
  EXPECT_EQ(mistral.prefix, "[TOOL_CALLS]");
  EXPECT_TRUE(accepts(mistral, R"([{"name":"get_weather","arguments":{"city":"Donostia"}}])"));
  EXPECT_FALSE(accepts(mistral, R"([])"));
  // What the constraint lets through parses back as a call.
  auto p = serve::parse_tool_calls(mistral.prefix + R"([{"name":"get_weather","arguments":{"city":"Donostia"}}])",
                                   ToolCallFormat::Mistral, kNames);
  ASSERT_EQ(p.calls.size(), 1u);
  // More tools than anyOf takes: the name from the list, any object as arguments.
  json many = json::array();
  for (int i = 0; i < 40; ++i)
    many.push_back({{"type", "function"}, {"function", {{"name", "f" + std::to_string(i)}}}});
  auto big = serve::forced_tool_call(ToolCallFormat::Hermes, many, "");
  EXPECT_TRUE(accepts(big, R"({"name":"f39","arguments":{"q":1}})"));
  EXPECT_FALSE(accepts(big, R"({"name":"f40","arguments":{}})"));
}

TEST(ToolCalls, TemplatesSeeArgumentsAsObjects) {
  auto m = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "x"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Corcaigh\"}"}},
      {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "not json"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "12 C"}])");
  auto t = serve::messages_for_template(m);
  EXPECT_EQ(t[1]["tool_calls"][0]["function"]["arguments"]["city"], "Corcaigh");
  EXPECT_EQ(t[1]["tool_calls"][1]["function"]["arguments"], "not json");  // left as it came
  EXPECT_EQ(t[2], m[2]);
}

}  // namespace
}  // namespace nlm::testing
