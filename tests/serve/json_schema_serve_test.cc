// response_format end to end: `nativelm serve` on the tiny random model answers json_schema and
// json_object requests (greedy, sampled, streamed, completions) with text that parses and
// validates against the schema; a short max_tokens ends with finish_reason "length"; hostile
// response_formats get 400 and the server keeps answering; and the official `openai` npm client
// does the same through tests/serve/openai_json_schema.mjs (skipped without node_modules/openai).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_paths.h"
#include "json_schema_validator.h"
#include "serve/json_constraint.h"
#include "serve_fixture.h"

namespace nlm::testing {
namespace {

// The text after leading JSON whitespace (a valid prefix may begin with some).
std::string after_ws(const std::string& t) {
  size_t i = t.find_first_not_of(" \t\r\n");
  return i == std::string::npos ? std::string() : t.substr(i);
}

using nlohmann::json;

const json kSchema = json::parse(R"({"type":"object","properties":{"name":{"type":"string","maxLength":20},
  "age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false})");

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The answer parses and holds exactly the two properties with their types.
void expect_person(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  ASSERT_TRUE(j.is_object()) << text;
  EXPECT_EQ(j.size(), 2u) << text;
  ASSERT_TRUE(j.contains("name") && j["name"].is_string()) << text;
  EXPECT_LE(code_points(j["name"].get<std::string>()), 20u) << text;
  ASSERT_TRUE(j.contains("age") && j["age"].is_number_integer()) << text;
}

class JsonSchemaServe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_tiny_model(dir_->file("model"));
    server_ = new ServerProcess(dir_->file("model"), dir_->path(), {"--max-tokens", "200", "--model-name", "tiny"});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(server_->up()) << server_->log(); }
  static httplib::Result post_raw(const std::string& path, const std::string& body) {
    httplib::Client c(server_->host(), server_->port());
    c.set_read_timeout(120, 0);
    return c.Post(path.c_str(), body, "application/json");
  }
  static json post(const std::string& path, const json& body) {
    auto r = post_raw(path, body.dump());
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body, nullptr, false);
  }
  static json chat(json extra) {
    json req = {{"messages", {{{"role", "user"}, {"content", "Who sat on the mat?"}}}}, {"max_tokens", 200}};
    req.update(extra);
    return req;
  }
  static TempDir* dir_;
  static ServerProcess* server_;
};
TempDir* JsonSchemaServe::dir_ = nullptr;
ServerProcess* JsonSchemaServe::server_ = nullptr;

json schema_format() { return {{"type", "json_schema"}, {"json_schema", {{"name", "person"}, {"schema", kSchema}, {"strict", true}}}}; }

TEST_F(JsonSchemaServe, GreedyAndSampledAnswersValidate) {
  auto g = post("/v1/chat/completions", chat({{"temperature", 0}, {"response_format", schema_format()}}));
  expect_person(g["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_EQ(g["choices"][0]["finish_reason"], "stop") << g;
  // Sampled, several choices and seeds, with top-k/top-p and penalties.
  auto s = post("/v1/chat/completions", chat({{"temperature", 1.2}, {"n", 3}, {"seed", 9}, {"top_p", 0.9},
                                              {"frequency_penalty", 0.5}, {"response_format", schema_format()}}));
  ASSERT_EQ(s["choices"].size(), 3u) << s;
  for (auto& c : s["choices"]) {
    expect_person(c["message"]["content"].get<std::string>());
    EXPECT_EQ(c["finish_reason"], "stop") << c;
  }
  auto k = post("/v1/chat/completions", chat({{"temperature", 0.7}, {"top_k", 5}, {"seed", 1},
                                              {"response_format", schema_format()}}));
  expect_person(k["choices"][0]["message"]["content"].get<std::string>());
}

// What real clients send, in schemas small enough for the tiny model's 256-token context: $defs
// with oneOf and allOf, number ranges and a nullable type, formats and a pattern, with Thai and
// Basque consts. Every answer finishes and validates. A recursive tree may not fit the context:
// its answers validate when they finish, and are valid prefixes when they run out.
const std::vector<json> kSmallSchemas = {
    json::parse(R"({"$defs": {"Kind": {"oneOf": [{"const": "ต้นไม้"}, {"const": "zuhaitza"}]}},
      "type": "object", "properties": {"kind": {"$ref": "#/$defs/Kind"},
        "meta": {"allOf": [{"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]},
                           {"properties": {"b": {"type": "integer", "exclusiveMaximum": 0}}, "required": ["b"]}]}},
      "required": ["kind", "meta"], "additionalProperties": false})"),
    json::parse(R"({"type": "object", "properties": {"adina": {"type": "integer", "minimum": 1, "maximum": 99},
        "neurria": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "oharra": {"type": ["string", "null"], "maxLength": 6}},
      "required": ["adina", "neurria", "oharra"], "additionalProperties": false})"),
    json::parse(R"({"type": "object", "properties": {"eguna": {"type": "string", "format": "date"},
        "kodea": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"}},
      "required": ["eguna", "kodea"], "additionalProperties": false})"),
    json::parse(R"({"type": "string", "format": "date-time"})"),
    json::parse(R"({"type": "string", "format": "uuid"})"),
};

TEST_F(JsonSchemaServe, RefsChoicesRangesAndFormatsValidate) {
  for (const json& schema : kSmallSchemas) {
    const json format = {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", schema}, {"strict", true}}}};
    SchemaValidator validator(schema);
    auto g = post("/v1/chat/completions", chat({{"temperature", 0}, {"response_format", format}}));
    auto s = post("/v1/chat/completions", chat({{"temperature", 1.0}, {"n", 3}, {"seed", 5}, {"response_format", format}}));
    std::vector<json> choices = {g["choices"][0]};
    for (auto& c : s["choices"]) choices.push_back(c);
    for (auto& c : choices) {
      const std::string text = c["message"]["content"].get<std::string>();
      EXPECT_EQ(c["finish_reason"], "stop") << schema.dump() << "\n" << text;
      json j = json::parse(text, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << text;
      EXPECT_EQ(validator.check(j), "") << text;
    }
  }
  // A recursive tree: bounded, and valid as far as it went.
  const json tree = json::parse(R"({"$defs": {"Node": {"type": "object", "properties": {
      "n": {"type": "string", "maxLength": 3}, "c": {"type": "array", "items": {"$ref": "#/$defs/Node"}, "maxItems": 1}},
      "required": ["c"], "additionalProperties": false}}, "$ref": "#/$defs/Node"})");
  const json format = {{"type", "json_schema"}, {"json_schema", {{"name", "tree"}, {"schema", tree}}}};
  auto compiled = serve::JsonSchema::compile(tree);
  SchemaValidator validator(tree);
  auto t = post("/v1/chat/completions", chat({{"temperature", 1.0}, {"n", 4}, {"seed", 3}, {"response_format", format}}));
  for (auto& c : t["choices"]) {
    const std::string text = c["message"]["content"].get<std::string>();
    if (c["finish_reason"] == "stop") {
      json j = json::parse(text, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << text;
      EXPECT_EQ(validator.check(j), "") << text;
    } else {
      serve::JsonConstraint check(compiled.get());
      EXPECT_TRUE(check.advance(text)) << text;
    }
  }
  // A ref cycle with no base case, and a contradiction, are 400s naming the problem.
  const json no_base = json::parse(R"({"$defs":{"N":{"type":"object","properties":{"c":{"$ref":"#/$defs/N"}},
                                      "required":["c"]}},"$ref":"#/$defs/N"})");
  for (const json& bad : {no_base, json::parse(R"({"type":"integer","minimum":9,"maximum":2})"),
                          json::parse(R"({"$ref":"#/$defs/Missing"})"), json::parse(R"({"type":"string","format":"uri"})")}) {
    auto r = post_raw("/v1/chat/completions",
                      chat({{"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", bad}}}}}}).dump());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_EQ(json::parse(r->body)["error"]["param"], "response_format") << r->body;
  }
}

TEST_F(JsonSchemaServe, JsonObjectStreamedAndCompletions) {
  auto o = post("/v1/completions", {{"prompt", "The cat"}, {"max_tokens", 200}, {"seed", 4},
                                    {"response_format", {{"type", "json_object"}}}});
  const std::string text = o["choices"][0]["text"].get<std::string>();
  if (o["choices"][0]["finish_reason"] == "stop") {
    EXPECT_TRUE(json::parse(text, nullptr, false).is_object()) << text;
  } else {  // a free object may run out of tokens; what came is still a valid prefix
    EXPECT_EQ(after_ws(text).substr(0, 1), "{") << text;
  }
  // A stream adds up to valid JSON too.
  auto r = post_raw("/v1/chat/completions",
                    chat({{"temperature", 0}, {"stream", true}, {"response_format", schema_format()}}).dump());
  ASSERT_TRUE(r);
  std::string content;
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("data: {", 0) != 0) continue;
    auto e = json::parse(line.substr(6));
    for (auto& c : e["choices"])
      if (c["delta"].contains("content")) content += c["delta"]["content"].get<std::string>();
  }
  expect_person(content);
}

TEST_F(JsonSchemaServe, ShortMaxTokensEndsWithLength) {
  auto g = post("/v1/chat/completions", chat({{"temperature", 0}, {"max_tokens", 3}, {"response_format", schema_format()}}));
  EXPECT_EQ(g["choices"][0]["finish_reason"], "length") << g;
  // Up to 8 whitespace bytes may come before the value (JSON allows them); then the object.
  const std::string rest = after_ws(g["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_TRUE(rest.empty() || rest[0] == '{') << g;
}

TEST_F(JsonSchemaServe, HostileResponseFormatsAre400) {
  std::string deep = "{}";
  for (int i = 0; i < 500; ++i) deep = R"({"type":"array","items":)" + deep + "}";
  json big_enum = json::array();
  for (int i = 0; i < 20000; ++i) big_enum.push_back("v" + std::to_string(i));
  const std::vector<json> bad = {
      {{"type", "xml"}},
      {{"type", "json_schema"}},
      {{"type", "json_schema"}, {"json_schema", "x"}},
      {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", "array"}, {"uniqueItems", true}}}}}},
      {{"type", "json_schema"}, {"json_schema", {{"schema", json::parse(deep)}}}},
      {{"type", "json_schema"}, {"json_schema", {{"schema", {{"enum", big_enum}}}}}},
      {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", 3}}}}}},
      {{"type", "json_schema"}, {"json_schema", {{"schema", 5}}}},
      {{"type", "json_schema"}, {"json_schema", {{"schema", kSchema}, {"strict", "yes"}}}},
      {{"type", "json_schema"}, {"json_schema", {{"schema", kSchema}, {"extra", 1}}}},
      {{"type", "json_object"}, {"schema", kSchema}},
      "json",
  };
  for (auto& f : bad) {
    auto r = post_raw("/v1/chat/completions", chat({{"response_format", f}}).dump());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << f.dump().substr(0, 120) << " -> " << r->body;
    auto j = json::parse(r->body, nullptr, false);
    EXPECT_EQ(j["error"]["param"], "response_format") << r->body;
  }
  auto r = post_raw("/v1/chat/completions",
                    chat({{"response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", {{"pattern", "(a)\\1"}}}}}}}}).dump());
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("backreferences"), std::string::npos) << r->body;
  // Plain text still works, and so does the server.
  auto t = post("/v1/chat/completions", chat({{"max_tokens", 3}, {"response_format", {{"type", "text"}}}}));
  EXPECT_EQ(t["choices"].size(), 1u) << t;
}

TEST(JsonSchemaOpenAiClient, StructuredOutputThroughTheClient) {
  const std::string root = NATIVELM_SOURCE_DIR;
  if (std::string why = openai_client_missing(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  write_tiny_model(dir.file("m"));
  ServerProcess s(dir.file("m"), dir.path(), {"--api-key", "sk-local", "--model-name", "tiny", "--max-tokens", "200"});
  ASSERT_TRUE(s.up()) << s.log();
  std::string cmd = "node " + root + "/tests/serve/openai_json_schema.mjs " + s.url() + "/v1 sk-local tiny >" +
                    dir.file("node.out") + " 2>" + dir.file("node.err");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_text(dir.file("node.err")) << s.log();
  auto j = json::parse(read_text(dir.file("node.out")));
  expect_person(j["schema"]["content"].get<std::string>());
  EXPECT_EQ(j["schema"]["finish"], "stop");
  if (j["object"]["finish"] == "stop") {
    EXPECT_TRUE(json::parse(j["object"]["content"].get<std::string>(), nullptr, false).is_object()) << j;
  }
  EXPECT_EQ(j["bad"]["status"], 400) << j;
}

}  // namespace
}  // namespace nlm::testing
