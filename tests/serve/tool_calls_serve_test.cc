// Tool calling through the API layer on the tiny random model: tools and tool-call history render
// through the model's own template; tool_choice "required" and a named function give parsed
// tool_calls (finish_reason "tool_calls") in the Hermes, Llama 3 and Mistral formats, plain and
// streamed (a first delta with the call's id and name, then its arguments piece by piece), with
// n > 1; "none" keeps the tools out of the prompt;
// bad tools, tool_choice and tool-call history are 400.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_paths.h"
#include "api_fixture.h"

namespace nlm::testing {
namespace {

using nlohmann::json;

// A Qwen-style (Hermes) template, kept short so prompts fit the tiny model's context: tools by
// name, calls as <tool_call> JSON, tool results as <tool_response>.
const char* kHermes =
    "{%- if tools %}<|im_start|>system\ntools:{% for t in tools %} {{ t.function.name }}{% endfor %}<|im_end|>\n"
    "{% endif %}"
    "{%- for m in messages %}"
    "{%- if m.role == 'assistant' and m.tool_calls %}<|im_start|>assistant"
    "{%- for tc in m.tool_calls %}\n<tool_call>\n{\"name\": \"{{ tc.function.name }}\", \"arguments\": "
    "{{ tc.function.arguments | tojson }}{{ '}' }}\n</tool_call>{% endfor %}<|im_end|>\n"
    "{%- elif m.role == 'tool' %}<|im_start|>user\n<tool_response>\n{{ m.content }}\n</tool_response><|im_end|>\n"
    "{%- else %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}"
    "{%- endfor %}{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

// Llama 3.1 and Mistral in miniature: only the markers the format is picked by.
const char* kLlama3 =
    "{%- if tools %}Call with {\"name\": name, \"parameters\": dict} or <|python_tag|>.{% endif %}"
    "{%- for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:";
const char* kMistral =
    "{%- if tools %}[AVAILABLE_TOOLS]{% for t in tools %}{{ t.function.name }}{% endfor %}[/AVAILABLE_TOOLS]"
    "{% endif %}{%- for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}"
    "{%- if false %}[TOOL_CALLS]{% endif %}";

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
   "parameters": {"type": "object", "properties": {"city": {"type": "string", "enum": ["Cork", "香港", "กรุงเทพ"]}},
                  "required": ["city"], "additionalProperties": false}}},
  {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}])");

struct ToolServer : TinyServer {
  explicit ToolServer(const char* tmpl) : TinyServer(4, 0, tmpl) {
    api = std::make_unique<serve::Api>(*engine, serve::RequestLimits{200, 16, 4});
  }
};

json ask(json extra) {
  json r = {{"messages", {{{"role", "user"}, {"content", "Aimsir?"}}}}, {"max_tokens", 150}, {"temperature", 0},
            {"tools", kTools}};
  r.update(extra);
  return r;
}

// The one call of a choice's message, checked against the declared tools.
void expect_call(const json& choice, const std::string& name) {
  ASSERT_EQ(choice["finish_reason"], "tool_calls") << choice;
  const json& m = choice["message"];
  ASSERT_EQ(m["tool_calls"].size(), 1u) << choice;
  const json& c = m["tool_calls"][0];
  EXPECT_EQ(c["type"], "function");
  EXPECT_EQ(c["id"].get<std::string>().rfind("call_", 0), 0u) << c;
  EXPECT_EQ(c["function"]["name"], name);
  json args = json::parse(c["function"]["arguments"].get<std::string>(), nullptr, false);
  ASSERT_TRUE(args.is_object()) << c;
  if (name == "get_weather") {
    ASSERT_TRUE(args.contains("city")) << args;
    EXPECT_TRUE(args["city"] == "Cork" || args["city"] == "香港" || args["city"] == "กรุงเทพ") << args;
  } else {
    EXPECT_EQ(args, json::object());
  }
}

TEST(ToolCallsServe, ToolsAndToolHistoryRenderThroughTheTemplate) {
  ToolServer s(kHermes);
  EXPECT_EQ(s.engine->tool_format(), serve::ToolCallFormat::Hermes);
  auto history = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "Aimsir i gCorcaigh?"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
     "function": {"name": "get_weather", "arguments": "{\"city\": \"香港\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "ฝนตก 24°C"}])");
  const std::string text = s.engine->render_chat(history, nlohmann::ordered_json::parse(kTools.dump()));
  EXPECT_NE(text.find("tools: get_weather lookup"), std::string::npos) << text;
  EXPECT_NE(text.find("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"香港\"}}\n</tool_call>"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("<tool_response>\nฝนตก 24°C\n</tool_response>"), std::string::npos) << text;
  // The same history through the endpoint answers, and "none" leaves the tools out of the prompt.
  json req = ask({{"max_tokens", 4}});
  req["messages"] = json::parse(history.dump());
  auto with = s.call(req, true);
  req["tool_choice"] = "none";
  auto without = s.call(req, true);
  EXPECT_GT(with["usage"]["prompt_tokens"].get<int>(), without["usage"]["prompt_tokens"].get<int>());
  EXPECT_FALSE(without["choices"][0]["message"].contains("tool_calls"));
}

TEST(ToolCallsServe, RequiredAndNamedCallsInEachFormat) {
  for (const char* tmpl : {kHermes, kLlama3, kMistral}) {
    ToolServer s(tmpl);
    SCOPED_TRACE(serve::tool_call_format_name(s.engine->tool_format()));
    auto r = s.call(ask({{"tool_choice", "required"}}), true);
    const std::string name = r["choices"][0]["message"]["tool_calls"][0]["function"]["name"];
    expect_call(r["choices"][0], name);
    EXPECT_TRUE(r["choices"][0]["message"]["content"].is_null()) << r;
    auto named = s.call(ask({{"tool_choice", {{"type", "function"}, {"function", {{"name", "get_weather"}}}}}}), true);
    expect_call(named["choices"][0], "get_weather");
    // n = 2, sampled: each choice calls.
    auto two = s.call(ask({{"tool_choice", {{"type", "function"}, {"function", {{"name", "lookup"}}}}},
                           {"n", 2}, {"temperature", 1}, {"seed", 3}}),
                      true);
    ASSERT_EQ(two["choices"].size(), 2u);
    for (auto& c : two["choices"]) expect_call(c, "lookup");
  }
  EXPECT_EQ(ToolServer(kLlama3).engine->tool_format(), serve::ToolCallFormat::Llama3Json);
  EXPECT_EQ(ToolServer(kMistral).engine->tool_format(), serve::ToolCallFormat::Mistral);
}

TEST(ToolCallsServe, StreamedCallComesAsItIsWritten) {
  ToolServer s(kHermes);
  json req = ask({{"tool_choice", {{"type", "function"}, {"function", {{"name", "get_weather"}}}}}});
  auto plain = s.call(req, true);
  expect_call(plain["choices"][0], "get_weather");
  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  auto events = s.stream(req, true);
  json first;
  std::string content, finish, arguments;
  int deltas = 0, argument_pieces = 0;
  for (auto& e : events)
    for (auto& c : e["choices"]) {
      if (c["delta"].contains("content")) content += c["delta"]["content"].get<std::string>();
      if (c["delta"].contains("tool_calls")) {
        ASSERT_EQ(c["delta"]["tool_calls"].size(), 1u);
        const json& d = c["delta"]["tool_calls"][0];
        EXPECT_EQ(d["index"], 0);
        if (deltas++ == 0) {
          first = d;  // id, type and name first
        } else {
          EXPECT_FALSE(d.contains("id")) << d;
          EXPECT_FALSE(d["function"].contains("name")) << d;
        }
        const std::string piece = d["function"]["arguments"];
        arguments += piece;
        argument_pieces += !piece.empty();
      }
      if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
    }
  EXPECT_EQ(content, "");
  EXPECT_EQ(finish, "tool_calls");
  EXPECT_EQ(first["type"], "function");
  EXPECT_EQ(first["function"]["name"], "get_weather");
  EXPECT_EQ(first["id"].get<std::string>().rfind("call_", 0), 0u);
  EXPECT_GT(argument_pieces, 2) << "the arguments came in " << argument_pieces << " pieces: " << json(events).dump();
  EXPECT_EQ(arguments, plain["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]);
  EXPECT_EQ(events.back()["usage"]["completion_tokens"], plain["usage"]["completion_tokens"]);
}

TEST(ToolCallsServe, AutoLetsTheModelAnswerInText) {
  ToolServer s(kHermes);
  // The random model writes no <tool_call>: a plain answer, streamed the same as not.
  auto r = s.call(ask({{"max_tokens", 12}}), true);
  EXPECT_TRUE(r["choices"][0]["message"]["content"].is_string()) << r;
  EXPECT_NE(r["choices"][0]["finish_reason"], "tool_calls");
  std::string streamed;
  for (auto& e : s.stream(ask({{"max_tokens", 12}, {"stream", true}}), true))
    for (auto& c : e["choices"])
      if (c["delta"].contains("content")) streamed += c["delta"]["content"].get<std::string>();
  EXPECT_EQ(streamed, r["choices"][0]["message"]["content"]);
}

TEST(ToolCallsServe, BadToolsAndHistoryAre400) {
  ToolServer s(kHermes);
  auto fn = [](json f) { return json::array({{{"type", "function"}, {"function", f}}}); };
  const std::vector<std::pair<json, std::string>> bad = {
      {{{"tools", "get_weather"}}, "tools"},
      {{{"tools", {{{"type", "code_interpreter"}}}}}, "tools"},
      {{{"tools", fn({{"description", "no name"}})}}, "tools"},
      {{{"tools", fn({{"name", "has space"}})}}, "tools"},
      {{{"tools", fn({{"name", std::string(65, 'a')}})}}, "tools"},
      {{{"tools", fn({{"name", "天气"}})}}, "tools"},
      {{{"tools", fn({{"name", "f"}, {"parameters", "object"}})}}, "tools"},
      {{{"tools", fn({{"name", "f"}, {"bogus", 1}})}}, "tools"},
      {{{"tools", json::array({kTools[0], kTools[0]})}}, "tools"},
      {{{"tool_choice", "always"}}, "tool_choice"},
      {{{"tool_choice", {{"type", "function"}, {"function", {{"name", "nope"}}}}}}, "tool_choice"},
      {{{"tool_choice", {{"type", "function"}}}}, "tool_choice"},
      {{{"tool_choice", "required"}, {"response_format", {{"type", "json_object"}}}}, "tool_choice"},
      {{{"parallel_tool_calls", "yes"}}, "parallel_tool_calls"},
      {{{"messages", {{{"role", "assistant"}, {"tool_calls", "x"}}}}}, "messages"},
      {{{"messages", {{{"role", "assistant"}, {"tool_calls", {{{"function", {{"arguments", "{}"}}}}}}}}}}, "messages"},
  };
  for (auto& [extra, param] : bad) {
    auto e = s.error_of(ask(extra), true);
    EXPECT_EQ(e.status, 400) << extra.dump();
    EXPECT_EQ(e.param, param) << extra.dump() << " " << e.what();
  }
  json no_tools = ask({{"tool_choice", "required"}});
  no_tools.erase("tools");
  EXPECT_EQ(s.error_of(no_tools, true).param, "tool_choice");
  // Not on /v1/completions.
  auto e = s.error_of({{"prompt", "x"}, {"tools", kTools}});
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "tools");
  // Off values are fine everywhere.
  EXPECT_EQ(s.status_of(R"({"prompt": "x", "max_tokens": 1, "tools": null, "tool_choice": null})"), 200);
  EXPECT_EQ(s.status_of(ask({{"max_tokens", 1}, {"tools", json::array()}, {"tool_choice", "auto"}}).dump(), true), 200);
}

TEST(ToolCallsServe, OpenAiClientCallsAToolAndSendsTheResultBack) {
  const std::string root = NATIVELM_SOURCE_DIR;
  if (std::string why = openai_client_missing(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  write_tiny_model(dir.file("m"));
  write_text(dir.file("m/chat_template.jinja"), kHermes);
  ServerProcess s(dir.file("m"), dir.path(), {"--api-key", "sk-local", "--model-name", "tiny", "--max-tokens", "200"});
  ASSERT_TRUE(s.up()) << s.log();
  std::string cmd = "node " + root + "/tests/serve/openai_tools.mjs " + s.url() + "/v1 sk-local tiny >" +
                    dir.file("node.out") + " 2>" + dir.file("node.err");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_text(dir.file("node.err")) << s.log();
  auto j = json::parse(read_text(dir.file("node.out")));
  json choice = {{"finish_reason", j["call"]["finish"]}, {"message", j["call"]["message"]}};
  expect_call(choice, "get_weather");
  EXPECT_EQ(j["stream"]["finish"], "tool_calls") << j;
  EXPECT_EQ(j["stream"]["content"], "");
  ASSERT_EQ(j["stream"]["calls"].size(), 1u) << j;
  EXPECT_EQ(j["stream"]["calls"][0]["name"], "get_weather");
  EXPECT_EQ(j["stream"]["calls"][0]["arguments"], j["call"]["message"]["tool_calls"][0]["function"]["arguments"]);
  EXPECT_EQ(j["stream"]["calls"][0]["id"].get<std::string>().rfind("call_", 0), 0u);
  EXPECT_TRUE(j["follow"]["finish"] == "stop" || j["follow"]["finish"] == "length") << j;
  EXPECT_TRUE(j["follow"]["content"].is_string()) << j;
  EXPECT_EQ(j["bad"]["status"], 400) << j;
  EXPECT_EQ(j["bad"]["param"], "tool_choice") << j;
}

}  // namespace
}  // namespace nlm::testing
