// The schema keywords that real clients (the openai SDK's zod and pydantic helpers) emit beyond
// the basic subset: $ref/$defs (recursive ones too), oneOf, allOf, number ranges, nullable and
// string formats. For each: the schema compiles, hostile or contradictory ones are a 400, the
// recogniser takes valid text and refuses invalid text, and random generation through the
// constraint (a random "model" over a small vocabulary with Thai and Basque pieces) always ends in
// JSON that an independent validator (json_schema_validator.h) accepts.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "json_schema_validator.h"
#include "json_constraint_util.h"
#include "serve/api_error.h"
#include "serve/request.h"
#include "test_util.h"
#include "serve/json_constraint.h"

namespace nlm::testing {
namespace {

using nlohmann::json;
using serve::JsonConstraint;
using serve::JsonSchema;

// The 400's message, or "" when the schema compiles.
std::string refusal(const std::string& text) {
  try {
    schema(text);
    return "";
  } catch (const serve::ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.param, "response_format");
    return e.what();
  }
}

// A vocabulary: every byte, JSON pieces, digits, and Thai and Basque words; the last id is the end.
const std::vector<std::string>& vocabulary() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> b;
    for (int i = 0; i < 256; ++i) b.push_back(std::string(1, char(i)));
    for (const char* p : {"{\"", "\":", "\",", "\"}", "true", "false", "null", "[]", "{}", "12", "-3", "0.", "e5",
                          "ต้นไม้", "ชื่อ", "ไม่", "กิ่ง", "zuhaitza", "izena", "Kaixo", "ñ", "adarra", "2024-", "02-29",
                          "T12:", "00:00Z", "+05:30", "name", "children", "next", "value", "kind", "-4", "9999"})
      b.push_back(p);
    b.push_back("");  // the end
    return b;
  }();
  return v;
}

// Samples one answer: at each step a random token among those the constraint allows (structural
// bytes and the end weighted up, so answers finish), as the server's masked sampler does.
// Returns false when it did not finish within `steps` tokens.
bool sample(const JsonSchema& s, std::mt19937& rng, std::string& text, int steps = 600) {
  const auto& vocab = vocabulary();
  JsonConstraint c(&s), scratch(&s);
  text.clear();
  std::vector<size_t> ok;
  std::vector<double> weight;
  for (int step = 0; step < steps; ++step) {
    if (c.complete()) return true;
    ok.clear();
    weight.clear();
    for (size_t id = 0; id < vocab.size(); ++id) {
      const std::string& t = vocab[id];
      const bool allowed = t.empty() ? c.can_end() : c.accepts(t, scratch);
      if (!allowed) continue;
      ok.push_back(id);
      const bool structural = t.size() == 1 && std::string("\"}],").find(t[0]) != std::string::npos;
      weight.push_back(t.empty() ? 50 : structural ? 8 : t.size() > 1 ? 2 : 1);
    }
    if (ok.empty()) {
      ADD_FAILURE() << "no token is allowed after: " << text;  // a dead end
      return false;
    }
    const size_t id = ok[std::discrete_distribution<size_t>(weight.begin(), weight.end())(rng)];
    if (vocab[id].empty()) return true;
    EXPECT_TRUE(c.advance(vocab[id]));
    text += vocab[id];
  }
  return false;
}

// `n` random answers all finish and validate; returns them.
std::vector<json> generate_valid(const std::string& schema_text, int n = 40, uint32_t seed = 1) {
  auto s = schema(schema_text);
  const json doc = json::parse(schema_text);
  SchemaValidator validator(doc);
  std::mt19937 rng(seed);
  std::vector<json> out;
  int finished = 0;
  for (int i = 0; i < n; ++i) {
    std::string text;
    if (!sample(*s, rng, text)) continue;
    ++finished;
    json v = json::parse(text, nullptr, false);
    EXPECT_FALSE(v.is_discarded()) << text;
    if (v.is_discarded()) continue;
    EXPECT_EQ(validator.check(v), "") << text;
    out.push_back(v);
  }
  EXPECT_GE(finished, n * 3 / 4) << schema_text;
  return out;
}

// The schemas that random generation is checked on (also by Python's jsonschema, below).
const char* kRefs = R"({"$defs":{"Izena":{"enum":["ชื่อ","izena","Miren Etxeberria"]}},
    "definitions":{"Count":{"type":"integer"}},
    "type":"object","properties":{"a":{"$ref":"#/$defs/Izena","description":"pydantic puts annotations beside"},
    "b":{"$ref":"#/definitions/Count"},"c":{"$ref":"#/properties/b"},"d":{"$ref":"#/$defs/Izena"}},
    "required":["a","b"],"additionalProperties":false})";

const char* kList = R"({"type":"object","properties":{"value":{"enum":["bat","bi","หนึ่ง"]},
    "next":{"$ref":"#"}},"required":["value"],"additionalProperties":false})";

const char* kOptional = R"({"$defs":{"N":{"type":"object","properties":{"v":{"type":"integer"},
    "child":{"anyOf":[{"$ref":"#/$defs/N"},{"type":"null"}]}},"required":["v","child"]}},"$ref":"#/$defs/N"})";

const char* kOneOf = R"({"oneOf":[{"const":"ต้นไม้"},{"const":"zuhaitza"},{"type":"integer"},
    {"type":"object","properties":{"kind":{"const":"adar"}},"required":["kind"],"additionalProperties":false}]})";

const char* kAllOf = R"({"allOf":[
    {"type":"object","properties":{"izena":{"type":"string","maxLength":10}},"required":["izena"]},
    {"properties":{"adina":{"type":"integer"},"izena":{"minLength":2}},"required":["adina"]}]})";

const char* kWrapped = R"({"$defs":{"P":{"type":"object","properties":{"x":{"type":"boolean"},
    "y":{"const":"ไม่"}}}},"type":"object","properties":{"p":{"allOf":[{"$ref":"#/$defs/P"}],"description":"d"},
    "q":{"$ref":"#/$defs/P","required":["y"]}},"required":["p","q"],"additionalProperties":false})";

const char* kBeside = R"({"type":"object","properties":{"k":{"type":"string","maxLength":4}},
    "anyOf":[{"required":["k"]},{"properties":{"j":{"type":"null"}},"required":["j"]}]})";

const char* kNumbers = R"({"type":"object","properties":{
    "adina":{"type":"integer","minimum":18,"maximum":120},
    "t":{"type":"number","exclusiveMinimum":-1.5,"maximum":2},
    "n":{"type":"integer","exclusiveMaximum":-7},
    "p":{"type":"number","minimum":0.1,"maximum":0.1},
    "q":{"type":"number","minimum":1000,"nullable":true},
    "izena":{"type":["string","null"],"maxLength":6}},
    "required":["adina","t","n","p","q","izena"],"additionalProperties":false})";

const char* kFormats = R"({"type":"object","properties":{"eguna":{"type":"string","format":"date"},
    "ordua":{"type":"string","format":"time"},"noiz":{"type":"string","format":"date-time"},
    "id":{"type":"string","format":"uuid"},"izena":{"enum":["Kaixo","สวัสดี"]},
    "aukera":{"type":["string","null"],"format":"date"}},
    "required":["eguna","ordua","noiz","id","izena","aukera"],"additionalProperties":false})";

// multipleOf, alone, in a range, on a number, and negative.
const char* kMultiples = R"({"type":"object","properties":{"a":{"type":"integer","multipleOf":7},
    "b":{"type":"integer","multipleOf":25,"minimum":-100,"maximum":1000},"c":{"type":"number","multipleOf":3},
    "d":{"type":"integer","multipleOf":4,"maximum":-1}},"required":["a","b","c","d"],"additionalProperties":false})";

// Maps: additionalProperties as a schema (the recursive one is checked by hand above: random
// answers there grow past the sampler's budget).
const char* kMaps = R"({"type":"object","properties":{
    "daonra":{"type":"object","additionalProperties":{"type":"integer","minimum":0}},
    "teangacha":{"type":"object","additionalProperties":{"enum":["ga","eu","th"]}}},
    "required":["daonra","teangacha"],"additionalProperties":false})";

// The formats enforced as built-in patterns.
const char* kPatternFormats = R"({"type":"object","properties":{"posta":{"type":"string","format":"email"},
    "ip":{"type":"string","format":"ipv4"},"ip6":{"type":"string","format":"ipv6"},
    "iraupena":{"type":"string","format":"duration"}},"required":["posta","ip","ip6","iraupena"]})";

// Tuples (pydantic's Tuple[...] and zod's z.tuple): prefixItems, closed or with a rest.
const char* kTuples = R"({"type":"object","properties":{
    "puntua":{"type":"array","prefixItems":[{"type":"number"},{"type":"number"}],"items":false,"minItems":2},
    "izena_adina":{"type":"array","prefixItems":[{"enum":["Miren","สมชาย"]},{"type":"integer","minimum":0}],
                   "items":{"type":"string","maxLength":3},"maxItems":4}},
  "required":["puntua","izena_adina"],"additionalProperties":false})";

const char* kPatterns = R"({"type":"object","properties":{
    "kodea":{"type":"string","pattern":"^[A-Z]{2}-\\d{4}$"},
    "erantzuna":{"type":"string","pattern":"^(bai|ez|agian)$"},
    "helbidea":{"type":"string","pattern":"^[a-z]{1,8}@[a-z]{1,8}\\.(eus|th)$"},
    "telefonoa":{"type":"string","pattern":"^\\+?[1-9]\\d{1,14}$"},
    "thai":{"type":"string","pattern":"^[ก-๙]{2,5}$"},
    "lerroak":{"type":"string","pattern":"^a\\nb?$"}},
  "required":["kodea","erantzuna","helbidea","telefonoa","thai","lerroak"],"additionalProperties":false})";

// ---- $ref --------------------------------------------------------------------------------------

TEST(JsonSchemaKeywords, RefToDefsAndDefinitions) {
  const std::string text = kRefs;
  auto s = schema(text);
  EXPECT_TRUE(whole_ok(*s, R"({"a":"ชื่อ","b":3,"c":-1,"d":"izena"})"));
  EXPECT_FALSE(prefix_ok(*s, R"({"a":"x)"));
  EXPECT_FALSE(prefix_ok(*s, R"({"a":"izena","b":"3")"));
  EXPECT_FALSE(prefix_ok(*s, R"({"a":"izena","c":1.5)"));
  EXPECT_FALSE(whole_ok(*s, R"({"a":"izena"})"));
  // A pointer with escapes: ~1 is '/', ~0 is '~', %25 is '%'.
  auto e = schema(R"({"$defs":{"a/b":{"const":"bai"},"c~d%":{"const":"ez"}},
                      "anyOf":[{"$ref":"#/$defs/a~1b"},{"$ref":"#/$defs/c~0d%25"}]})");
  EXPECT_TRUE(whole_ok(*e, "\"bai\""));
  EXPECT_TRUE(whole_ok(*e, "\"ez\""));
  EXPECT_FALSE(prefix_ok(*e, "\"b\"x"));
  generate_valid(text);
}

const char* kTree = R"({"$defs":{"Node":{"type":"object","properties":{
    "name":{"type":"string","maxLength":12},
    "children":{"type":"array","items":{"$ref":"#/$defs/Node"},"maxItems":3}},
    "required":["name","children"],"additionalProperties":false}},
  "$ref":"#/$defs/Node"})";

TEST(JsonSchemaKeywords, RecursiveTreeIsBoundedAndGeneratesValidTrees) {
  auto s = schema(kTree);
  EXPECT_TRUE(whole_ok(*s, R"({"name":"ต้นไม้","children":[{"name":"adarra","children":[]},)"
                           R"({"children":[{"name":"hostoa","children":[]}],"name":"กิ่ง"}]})"));
  EXPECT_FALSE(prefix_ok(*s, R"({"name":"a","children":[{"name":1)"));
  EXPECT_FALSE(whole_ok(*s, R"({"name":"a","children":[{"name":"b"}]})"));  // children is required below too
  // Nesting is bounded: each level is an object and an array (two frames).
  auto nest = [](int levels) {
    std::string t;
    for (int i = 0; i < levels; ++i) t += R"({"name":"x","children":[)";
    return t;
  };
  EXPECT_TRUE(prefix_ok(*s, nest(20)));
  const int most = int(JsonSchema::kMaxNesting) / 2;
  EXPECT_TRUE(prefix_ok(*s, nest(most)));
  EXPECT_FALSE(prefix_ok(*s, nest(most + 1)));
  // At the bound the innermost array can still close, so the answer can always be finished.
  JsonConstraint c(s.get());
  std::string deepest = nest(most);
  ASSERT_TRUE(c.advance(deepest));
  EXPECT_FALSE(c.accepts("{"));
  EXPECT_TRUE(c.accepts("]}"));
  auto trees = generate_valid(kTree, 40, 7);
  size_t nested = 0;
  for (auto& t : trees) nested += !t["children"].empty();
  EXPECT_GT(nested, 0u);  // the recursion is taken, not just the base case
}

TEST(JsonSchemaKeywords, RootRefAndOptionalRecursion) {
  // A linked list through '#', with Basque and Thai values.
  const std::string list = kList;
  auto s = schema(list);
  EXPECT_TRUE(whole_ok(*s, R"({"value":"bat","next":{"value":"หนึ่ง","next":{"value":"bi"}}})"));
  EXPECT_FALSE(prefix_ok(*s, R"({"value":"bat","next":{"value":"hiru")"));
  generate_valid(list, 40, 3);
  // Optional recursion through anyOf with null (pydantic's Optional["Node"]).
  const std::string opt = kOptional;
  auto o = schema(opt);
  EXPECT_TRUE(whole_ok(*o, R"({"v":1,"child":{"v":2,"child":null}})"));
  EXPECT_FALSE(whole_ok(*o, R"({"v":1,"child":{"v":2}})"));
  // At the nesting bound only null is left, so the answer still finishes.
  std::string deep;
  for (uint32_t i = 0; i + 1 < JsonSchema::kMaxNesting; ++i) deep += R"({"v":1,"child":)";
  EXPECT_TRUE(prefix_ok(*o, deep));
  EXPECT_FALSE(prefix_ok(*o, deep + "{"));
  EXPECT_TRUE(prefix_ok(*o, deep + "null"));
  generate_valid(opt, 40, 5);
}

TEST(JsonSchemaKeywords, BadRefsAndCyclesWithoutABaseCaseAre400) {
  for (const char* bad : {
           R"({"$ref":"#/$defs/Missing"})",                      // points at nothing
           R"({"$ref":"https://example.com/s.json"})",           // not local
           R"({"$ref":"#foo"})",                                 // an anchor
           R"({"$ref":"#/%zz"})",                                // a bad escape
           R"({"$ref":5})",                                      // not a string
           R"({"$defs":3,"type":"string"})",                     // $defs not an object
           R"({"$defs":{"A":{"$ref":"#/$defs/A"}},"$ref":"#/$defs/A"})",                         // itself
           R"({"$defs":{"A":{"$ref":"#/$defs/B"},"B":{"$ref":"#/$defs/A"}},"$ref":"#/$defs/A"})",  // A -> B -> A
           R"({"$ref":"#"})",                                                                     // the root itself
           R"({"$defs":{"A":{"anyOf":[{"$ref":"#/$defs/A"},{"type":"string"}]}},"$ref":"#/$defs/A"})",  // left recursion
           R"({"$defs":{"N":{"type":"object","properties":{"c":{"$ref":"#/$defs/N"}},"required":["c"]}},"$ref":"#/$defs/N"})",
           R"({"$defs":{"L":{"type":"array","items":{"$ref":"#/$defs/L"},"minItems":1}},"$ref":"#/$defs/L"})",
           R"({"$defs":{"A":{"allOf":[{"$ref":"#/$defs/A"}],"type":"object"}},"$ref":"#/$defs/A"})",  // allOf loop
           R"({"type":"object","properties":{"x":{"$ref":"#/$defs/N"}},"$defs":{"N":false}})",
       })
    EXPECT_NE(refusal(bad), "") << bad;
  EXPECT_NE(refusal(R"({"$defs":{"N":{"type":"object","properties":{"c":{"$ref":"#/$defs/N"}},"required":["c"]}},)"
                    R"("$ref":"#/$defs/N"})")
                .find("no finite value"),
            std::string::npos);
  // A chain of definitions that must nest deeper than the bound.
  json chain = {{"$defs", json::object()}};
  for (int i = 0; i < 40; ++i)
    chain["$defs"]["D" + std::to_string(i)] = {
        {"type", "array"}, {"minItems", 1}, {"items", {{"$ref", "#/$defs/D" + std::to_string(i + 1)}}}};
  chain["$defs"]["D40"] = {{"type", "integer"}};
  chain["$ref"] = "#/$defs/D0";
  EXPECT_NE(refusal(chain.dump()), "");
  // allOf that would multiply out: each level merges 16 copies of the next.
  json blow = {{"$defs", json::object()}};
  for (int i = 0; i < 10; ++i) {
    json all = json::array();
    for (int k = 0; k < 16; ++k) all.push_back({{"$ref", "#/$defs/L" + std::to_string(i + 1)}});
    blow["$defs"]["L" + std::to_string(i)] = {{"allOf", all}};
  }
  blow["$defs"]["L10"] = {{"type", "object"}};
  blow["$ref"] = "#/$defs/L0";
  EXPECT_NE(refusal(blow.dump()), "");
}

// ---- oneOf and allOf -----------------------------------------------------------------------

TEST(JsonSchemaKeywords, OneOfGeneratesLikeAnyOf) {
  const std::string text = kOneOf;
  auto s = schema(text);
  for (const char* ok : {"\"ต้นไม้\"", "\"zuhaitza\"", "-12", R"({"kind":"adar"})"}) EXPECT_TRUE(whole_ok(*s, ok)) << ok;
  for (const char* bad : {"\"ต้น\"", "1.5", R"({"kind":"x")", "true"}) EXPECT_FALSE(whole_ok(*s, bad)) << bad;
  generate_valid(text);
  EXPECT_NE(refusal(R"({"oneOf":[]})"), "");
  EXPECT_NE(refusal(R"({"oneOf":[{}],"anyOf":[{}]})"), "");
}

TEST(JsonSchemaKeywords, AllOfMergesObjectsAndTightens) {
  const std::string text = kAllOf;
  auto s = schema(text);
  EXPECT_TRUE(whole_ok(*s, R"({"izena":"Miren","adina":40})"));
  EXPECT_FALSE(whole_ok(*s, R"({"izena":"Miren"})"));             // both required lists hold
  EXPECT_FALSE(prefix_ok(*s, R"({"izena":"M")"));                 // minLength 2 from the second
  EXPECT_FALSE(prefix_ok(*s, R"({"izena":"Mirenmirenmiren")"));   // maxLength 10 from the first
  generate_valid(text);

  // A single-element allOf around a $ref (older pydantic), and $ref beside other keywords.
  const std::string wrapped = kWrapped;
  auto w = schema(wrapped);
  EXPECT_TRUE(whole_ok(*w, R"({"p":{},"q":{"y":"ไม่"}})"));
  EXPECT_FALSE(whole_ok(*w, R"({"p":{},"q":{"x":true}})"));       // y is required beside the $ref
  generate_valid(wrapped);

  // A closed object keeps its own properties only; enums intersect.
  auto closed = schema(R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false},
                                    {"properties":{"b":{"type":"integer"}}}]})");
  EXPECT_TRUE(whole_ok(*closed, R"({"a":1})"));
  EXPECT_FALSE(prefix_ok(*closed, R"({"b")"));
  auto both = schema(R"({"allOf":[{"enum":["bai","ez","ไม่"]},{"enum":["ez","ไม่",3]}]})");
  EXPECT_TRUE(whole_ok(*both, "\"ไม่\""));
  EXPECT_FALSE(prefix_ok(*both, "\"bai\""));
  EXPECT_FALSE(prefix_ok(*both, "3"));
  generate_valid(R"({"allOf":[{"enum":["bai","ez","ไม่"]},{"enum":["ez","ไม่",3]}]})");

  // Keywords beside anyOf apply to every alternative.
  const std::string beside = kBeside;
  auto b = schema(beside);
  EXPECT_TRUE(whole_ok(*b, R"({"k":"ez"})"));
  EXPECT_TRUE(whole_ok(*b, R"({"j":null})"));
  EXPECT_FALSE(whole_ok(*b, R"({})"));
  generate_valid(beside);

  for (const char* bad : {
           R"({"allOf":[{"type":"string"},{"type":"integer"}]})",            // no type in common
           R"({"allOf":[{"enum":[1,2]},{"enum":[3]}]})",                      // no value in common
           R"({"allOf":[{"type":"object","properties":{"a":{}},"additionalProperties":false},
                       {"properties":{"b":{}},"required":["b"]}]})",            // b required, yet forbidden
           R"({"allOf":[]})", R"({"allOf":{}})", R"({"allOf":[5]})",
           R"({"allOf":[{"anyOf":[{"type":"string"}]},{"anyOf":[{"type":"integer"}]}]})",  // two choices
       })
    EXPECT_NE(refusal(bad), "") << bad;
}

// ---- numbers and nullable -------------------------------------------------------------------

// x-property-order (the extension forced tool calls use): listed keys in their order, a required
// one never skipped, unlisted keys only after the listed required ones; generation never gets
// stuck and always writes the keys in order.
TEST(JsonSchemaKeywords, PropertyOrderFixesTheKeysOrder) {
  const std::string text = R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"},
      "c": {"type": "boolean"}, "z": {"type": "null"}}, "required": ["b", "a"], "x-property-order": ["b", "c", "a"]})";
  auto s = schema(text);
  EXPECT_TRUE(whole_ok(*s, R"({"b":"ekaitza","a":1})"));
  EXPECT_TRUE(whole_ok(*s, R"({"b":"ฝน","c":true,"a":1,"z":null})"));
  EXPECT_FALSE(prefix_ok(*s, R"({"a":1)"));           // a before the required b
  EXPECT_FALSE(prefix_ok(*s, R"({"b":"x","a":1,"c")"));  // c after a
  EXPECT_FALSE(prefix_ok(*s, R"({"z":null)"));        // an unlisted key before the required ones
  EXPECT_FALSE(prefix_ok(*s, R"({"c":true)"));        // c before the required b
  generate_valid(text, 40, 3);  // valid answers, none stuck
  std::mt19937 rng(5);
  int ordered = 0;
  for (int i = 0; i < 40; ++i) {
    std::string answer;
    if (!sample(*s, rng, answer)) continue;
    std::string keys;  // the keys as written
    const auto parsed = nlohmann::ordered_json::parse(answer);
    for (auto& [k, v] : parsed.items()) keys += k;
    const std::string listed = keys.substr(0, keys.find('z'));
    EXPECT_TRUE(listed == "ba" || listed == "bca") << answer;
    EXPECT_TRUE(keys.find('z') == std::string::npos || keys.back() == 'z') << answer;
    ++ordered;
  }
  EXPECT_GT(ordered, 30);
  for (const char* bad : {R"({"type": "object", "properties": {"a": {}}, "x-property-order": "a"})",
                          R"({"type": "object", "properties": {"a": {}}, "x-property-order": ["b"]})"})
    EXPECT_THROW(schema(bad), serve::ApiError) << bad;
}

TEST(JsonSchemaKeywords, RequestsWriteKeysInTheSchemasOrder) {
  // As OpenAI's structured outputs, llama.cpp and vLLM do: the properties come in the order the
  // request's schema lists them ("zergatik", the reasoning, before "erantzuna", the answer), in
  // nested objects, $defs and allOf parts too, though nlohmann::json sorts keys. An optional
  // property may be left out, but never written out of order.
  const std::string body = R"({"messages": [{"role": "user", "content": "Zenbat?"}], "response_format":
      {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object",
       "properties": {"zergatik": {"type": "string"}, "erantzuna": {"type": "integer"},
                      "xehetasunak": {"$ref": "#/$defs/X"}, "bai": {"type": "boolean"}},
       "required": ["zergatik", "erantzuna", "xehetasunak"],
       "$defs": {"X": {"type": "object", "allOf": [
           {"properties": {"ต้นไม้": {"type": "string"}, "adarra": {"type": "integer"}}, "required": ["ต้นไม้", "adarra"]},
           {"properties": {"kind": {"type": "null"}}, "required": ["kind"]}]}}}}}})";
  const serve::GenerationRequest r = serve::parse_generation_request(body, true, serve::RequestLimits{});
  ASSERT_TRUE(r.response_schema);
  std::mt19937 rng(11);
  int seen = 0;
  for (int i = 0; i < 40; ++i) {
    std::string answer;
    if (!sample(*r.response_schema, rng, answer)) continue;
    const auto parsed = nlohmann::ordered_json::parse(answer);
    std::vector<std::string> keys, inner;
    for (auto& [k, v] : parsed.items()) keys.push_back(k);
    for (auto& [k, v] : parsed["xehetasunak"].items()) inner.push_back(k);
    EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + 3),
              (std::vector<std::string>{"zergatik", "erantzuna", "xehetasunak"})) << answer;
    EXPECT_EQ(inner, (std::vector<std::string>{"ต้นไม้", "adarra", "kind"})) << answer;
    ++seen;
  }
  EXPECT_GT(seen, 30);
  // Text in another order is refused; a schema's own x-property-order still wins.
  EXPECT_FALSE(prefix_ok(*r.response_schema, R"({"erantzuna":1)"));
  const std::string own = R"({"prompt": "x", "response_format": {"type": "json_schema", "json_schema": {"name": "o",
      "schema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                 "required": ["a", "b"], "x-property-order": ["b", "a"]}}}})";
  const serve::GenerationRequest o = serve::parse_generation_request(own, false, serve::RequestLimits{});
  EXPECT_TRUE(whole_ok(*o.response_schema, R"({"b":1,"a":2})"));
  EXPECT_FALSE(prefix_ok(*o.response_schema, R"({"a":1)"));
  // Messages and tools reach the chat template in the client's key order too (a sorted copy put
  // "content" before "role" and "function" before "type").
  const std::string chat = R"({"messages": [{"role": "user", "content": "Kaixo", "name": "ane"}],
      "tools": [{"type": "function", "function": {"name": "eguraldia", "parameters": {"type": "object",
        "properties": {"hiria": {"type": "string"}, "eguna": {"type": "string"}}}}}]})";
  const serve::GenerationRequest c = serve::parse_generation_request(chat, true, serve::RequestLimits{});
  EXPECT_EQ(c.messages.dump(), R"([{"role":"user","content":"Kaixo","name":"ane"}])");
  EXPECT_EQ(c.tools[0].dump().substr(0, 29), R"({"type":"function","function")");
  EXPECT_EQ(c.tools[0]["function"]["parameters"]["properties"].dump(), R"({"hiria":{"type":"string"},"eguna":{"type":"string"}})");
}

TEST(JsonSchemaKeywords, IntegerRangesAreExactDigitByDigit) {
  auto s = schema(R"({"type":"integer","minimum":3,"maximum":12})");
  for (const char* ok : {"3", "7", "10", "12"}) EXPECT_TRUE(whole_ok(*s, ok)) << ok;
  EXPECT_TRUE(prefix_ok(*s, "1"));    // 10, 11, 12 are still ahead
  EXPECT_FALSE(whole_ok(*s, "1"));
  for (const char* bad : {"2", "13", "-", "0", "30", "1.0", "1e1"}) EXPECT_FALSE(prefix_ok(*s, bad)) << bad;
  auto neg = schema(R"({"type":"integer","minimum":-20,"exclusiveMaximum":-4.5})");
  for (const char* ok : {"-5", "-20", "-19", "-10"}) EXPECT_TRUE(whole_ok(*neg, ok)) << ok;
  for (const char* bad : {"-4", "-21", "-3", "0", "5", "-0"}) EXPECT_FALSE(whole_ok(*neg, bad)) << bad;
  EXPECT_FALSE(prefix_ok(*neg, "-3"));  // -3x is below -20
  auto pos = schema(R"({"type":"integer","exclusiveMinimum":0})");
  EXPECT_FALSE(prefix_ok(*pos, "0"));
  EXPECT_FALSE(prefix_ok(*pos, "-"));
  EXPECT_TRUE(whole_ok(*pos, "999999999999999"));
  for (const char* bad : {
           R"({"type":"integer","minimum":5,"maximum":4})", R"({"type":"integer","exclusiveMinimum":3,"exclusiveMaximum":4})",
           R"({"type":"integer","minimum":1e20})", R"({"type":"integer","maximum":-1e16})",
           R"({"type":"integer","minimum":"1"})", R"({"type":"number","exclusiveMinimum":true,"minimum":1})",
           R"({"type":"number","minimum":2,"exclusiveMaximum":2})", R"({"type":"number","minimum":1e-20,"maximum":1e-20})",
           R"({"allOf":[{"type":"integer","minimum":10},{"maximum":3}]})"})
    EXPECT_NE(refusal(bad), "") << bad;
  EXPECT_NE(refusal(R"({"type":"integer","minimum":5,"maximum":4})").find("'minimum' above 'maximum'"), std::string::npos);
}

// multipleOf: a whole number k; the answer is an integer k divides, within any range, digit by digit.
TEST(JsonSchemaKeywords, MultipleOfIsExactDigitByDigit) {
  auto by5 = schema(R"({"type":"integer","multipleOf":5})");
  for (const char* ok : {"0", "5", "-15", "100", "999999999999995"}) EXPECT_TRUE(whole_ok(*by5, ok)) << ok;
  for (const char* bad : {"1", "-7", "12"}) EXPECT_FALSE(whole_ok(*by5, bad)) << bad;
  EXPECT_TRUE(prefix_ok(*by5, "1"));  // 10, 15, ... are ahead
  // In a range: 7 .. 23 holds 10, 15, 20 only, so "2" can only go on to 20 and "1" to 10 or 15.
  auto ranged = schema(R"({"type":"integer","multipleOf":5,"minimum":7,"maximum":23})");
  for (const char* ok : {"10", "15", "20"}) EXPECT_TRUE(whole_ok(*ranged, ok)) << ok;
  for (const char* bad : {"5", "25", "12", "2", "7"}) EXPECT_FALSE(whole_ok(*ranged, bad)) << bad;
  EXPECT_FALSE(prefix_ok(*ranged, "3"));
  EXPECT_FALSE(prefix_ok(*ranged, "-"));
  auto neg = schema(R"({"type":"integer","multipleOf":7,"maximum":-8,"minimum":-30})");
  for (const char* ok : {"-14", "-21", "-28"}) EXPECT_TRUE(whole_ok(*neg, ok)) << ok;
  for (const char* bad : {"-7", "-35", "-15", "14"}) EXPECT_FALSE(whole_ok(*neg, bad)) << bad;
  EXPECT_FALSE(prefix_ok(*neg, "-3"));  // -3x is below -30 and -3 is no multiple of 7
  // On a number, a whole multipleOf makes the answer an integer multiple (a subset of its values).
  auto num = schema(R"({"type":"number","multipleOf":4,"minimum":1.5})");
  EXPECT_TRUE(whole_ok(*num, "8"));
  EXPECT_FALSE(whole_ok(*num, "8.0"));
  EXPECT_FALSE(whole_ok(*num, "0"));
  // allOf: the least common multiple.
  auto both = schema(R"({"allOf":[{"type":"integer","multipleOf":4},{"multipleOf":6}]})");
  EXPECT_TRUE(whole_ok(*both, "36"));
  EXPECT_FALSE(whole_ok(*both, "8"));
  EXPECT_FALSE(whole_ok(*both, "18"));
  for (const char* bad : {R"({"type":"integer","multipleOf":0})", R"({"type":"integer","multipleOf":-3})",
                          R"({"type":"number","multipleOf":0.5})", R"({"type":"integer","multipleOf":"3"})",
                          R"({"type":"integer","multipleOf":1e16})",
                          R"({"type":"integer","multipleOf":10,"minimum":11,"maximum":19})",
                          R"({"allOf":[{"type":"integer","multipleOf":999999999989},{"multipleOf":999999999959}]})"})
    EXPECT_NE(refusal(bad), "") << bad;
  EXPECT_NE(refusal(R"({"type":"number","multipleOf":0.5})").find("whole number"), std::string::npos);
  generate_valid(kMultiples, 40, 19);
}

// additionalProperties as a schema: a map whose keys are free strings and whose values follow it.
TEST(JsonSchemaKeywords, AdditionalPropertiesSchemaMakesAMap) {
  auto counts = schema(R"({"type":"object","additionalProperties":{"type":"integer","minimum":0}})");
  for (const char* ok : {"{}", R"({"a":1,"b":0})", R"({"contae":32,"cúige":4,"ประเทศ":77})"})
    EXPECT_TRUE(whole_ok(*counts, ok)) << ok;
  for (const char* bad : {R"({"a":"x"})", R"({"a":-1})", R"({"a":1.5})", R"({"a":{}})"}) EXPECT_FALSE(whole_ok(*counts, bad)) << bad;
  // Recursive: a tree of maps.
  auto tree = schema(R"({"$defs":{"T":{"type":"object","additionalProperties":{"$ref":"#/$defs/T"}}},"$ref":"#/$defs/T"})");
  EXPECT_TRUE(whole_ok(*tree, R"({"a":{"b":{},"c":{"d":{}}}})"));
  EXPECT_FALSE(whole_ok(*tree, R"({"a":1})"));
  // Beside properties only the listed keys are generated (the schema accepts those answers too).
  auto listed = schema(R"({"type":"object","properties":{"ainm":{"type":"string"}},"required":["ainm"],
                           "additionalProperties":{"type":"integer"}})");
  EXPECT_TRUE(whole_ok(*listed, R"({"ainm":"Síle"})"));
  EXPECT_FALSE(prefix_ok(*listed, R"({"x")"));
  // allOf: two schemas for extra values hold both; false wins.
  auto both = schema(R"({"allOf":[{"type":"object","additionalProperties":{"type":"integer"}},
                                  {"additionalProperties":{"minimum":10}}]})");
  EXPECT_TRUE(whole_ok(*both, R"({"a":12})"));
  EXPECT_FALSE(whole_ok(*both, R"({"a":9})"));
  EXPECT_FALSE(whole_ok(*both, R"({"a":12.5})"));
  auto shut = schema(R"({"allOf":[{"type":"object","additionalProperties":{"type":"integer"}},{"additionalProperties":false}]})");
  EXPECT_TRUE(whole_ok(*shut, "{}"));
  EXPECT_FALSE(prefix_ok(*shut, R"({")"));
  for (const char* bad : {R"({"type":"object","additionalProperties":5})", R"({"type":"object","additionalProperties":{"type":"x"}})"})
    EXPECT_NE(refusal(bad), "") << bad;
  generate_valid(kMaps, 40, 23);
  // uniqueItems false asks nothing and is accepted.
  EXPECT_TRUE(whole_ok(*schema(R"({"type":"array","items":{"enum":[1,2]},"uniqueItems":false})"), "[1,1]"));
}

// A set of enum values (pydantic's Set[Enum], zod's z.set): each value at most once.
const char* kSets = R"({"type":"object","properties":{
    "hizkuntzak":{"type":"array","items":{"enum":["eu","ga","th","yue","es","en"]},"uniqueItems":true,"minItems":1},
    "zenbakiak":{"type":"array","items":{"enum":[1,12,123,-1]},"uniqueItems":true},
    "egia":{"type":"array","items":{"type":"boolean"},"uniqueItems":true}},
  "required":["hizkuntzak","zenbakiak","egia"],"additionalProperties":false})";

TEST(JsonSchemaKeywords, UniqueItemsOnEnumsWritesEachValueOnce) {
  auto langs = schema(R"({"type":"array","items":{"enum":["eu","ga","ไทย"]},"uniqueItems":true})");
  for (const char* ok : {"[]", R"(["eu"])", R"(["ไทย","eu","ga"])"}) EXPECT_TRUE(whole_ok(*langs, ok)) << ok;
  for (const char* bad : {R"(["eu","eu"])", R"(["ga","eu","ga"])"}) EXPECT_FALSE(whole_ok(*langs, bad)) << bad;
  EXPECT_FALSE(prefix_ok(*langs, R"(["eu","e)"));        // the one value that begins so is taken
  EXPECT_FALSE(prefix_ok(*langs, R"(["eu","ga","ไทย",)"));  // every value written: only ] may follow
  // A value that is a prefix of another: 1 taken, 12 still open, so "1" may go on but not end.
  auto nums = schema(R"({"type":"array","items":{"enum":[1,12]},"uniqueItems":true})");
  EXPECT_TRUE(prefix_ok(*nums, "[1,1"));
  EXPECT_TRUE(whole_ok(*nums, "[1,12]"));
  EXPECT_FALSE(whole_ok(*nums, "[1,1]"));
  EXPECT_FALSE(prefix_ok(*nums, "[1,1,"));
  auto bools = schema(R"({"items":{"type":"boolean"},"uniqueItems":true,"minItems":2})");
  EXPECT_TRUE(whole_ok(*bools, "[true,false]"));
  EXPECT_FALSE(whole_ok(*bools, "[true,true]"));
  // allOf: true wins.
  EXPECT_FALSE(whole_ok(*schema(R"({"allOf":[{"items":{"const":"a"}},{"uniqueItems":true},{"uniqueItems":false}]})"), R"(["a","a"])"));
  for (const char* bad : {R"({"type":"array","uniqueItems":true})", R"({"type":"array","items":{"type":"string"},"uniqueItems":true})",
                          R"({"type":"array","items":{"enum":[1,2]},"uniqueItems":"yes"})",
                          R"({"type":"array","items":{"enum":[1,2]},"uniqueItems":true,"minItems":3})",
                          R"({"type":"array","items":{"enum":[1,1.0]},"uniqueItems":true})",
                          R"({"type":"array","prefixItems":[{"const":1}],"items":{"enum":[2]},"uniqueItems":true})"})
    EXPECT_NE(refusal(bad), "") << bad;
  for (auto& v : generate_valid(kSets, 40, 41)) {
    EXPECT_GE(v["hizkuntzak"].size(), 1u);
    EXPECT_LE(v["egia"].size(), 2u);
  }
}

TEST(JsonSchemaKeywords, NumberRangesAndNullable) {
  auto s = schema(R"({"type":"number","minimum":0.5,"exclusiveMaximum":2.5})");
  for (const char* ok : {"0.5", "1", "2.49", "2.499999999999999", "0.50"}) EXPECT_TRUE(whole_ok(*s, ok)) << ok;
  for (const char* bad : {"0.4", "2.5", "-0.1", "3", "1e0", "0.49"}) EXPECT_FALSE(whole_ok(*s, bad)) << bad;
  EXPECT_FALSE(prefix_ok(*s, "-"));
  EXPECT_FALSE(prefix_ok(*s, "2.5"));
  EXPECT_TRUE(prefix_ok(*s, "0."));
  EXPECT_FALSE(whole_ok(*s, "0"));
  auto one = schema(R"({"type":"number","minimum":0.1,"maximum":0.1})");
  EXPECT_TRUE(whole_ok(*one, "0.1"));
  EXPECT_FALSE(whole_ok(*one, "0.11"));

  auto n = schema(R"({"type":"string","enum":["bai","ez","ไม่"],"nullable":true})");
  for (const char* ok : {"null", "\"bai\"", "\"ไม่\""}) EXPECT_TRUE(whole_ok(*n, ok)) << ok;
  EXPECT_FALSE(prefix_ok(*n, "\"x"));
  auto ni = schema(R"({"type":["integer","null"],"minimum":5})");
  EXPECT_TRUE(whole_ok(*ni, "null"));
  EXPECT_TRUE(whole_ok(*ni, "5"));
  EXPECT_FALSE(whole_ok(*ni, "4"));
  EXPECT_NE(refusal(R"({"type":"string","nullable":"yes"})"), "");
  auto merged = schema(R"({"allOf":[{"type":"integer","minimum":0},{"minimum":3,"maximum":10}]})");
  EXPECT_TRUE(whole_ok(*merged, "3"));
  EXPECT_FALSE(whole_ok(*merged, "2"));
  EXPECT_FALSE(prefix_ok(*merged, "11"));

  const std::string text = kNumbers;
  auto values = generate_valid(text, 60, 11);
  bool some_null = false, some_frac = false;
  for (auto& v : values) {
    some_null = some_null || v["q"].is_null() || v["izena"].is_null();
    some_frac = some_frac || v["t"].is_number_float();
  }
  EXPECT_TRUE(some_null);
  EXPECT_TRUE(some_frac);
}

// ---- string formats --------------------------------------------------------------------------

TEST(JsonSchemaKeywords, FormatsAreCharacterPatternsWithTheCalendar) {
  auto date = schema(R"({"type":"string","format":"date"})");
  for (const char* ok : {"\"2024-02-29\"", "\"2023-12-31\"", "\"0001-01-01\"", "\"2000-02-29\""})
    EXPECT_TRUE(whole_ok(*date, ok)) << ok;
  for (const char* bad : {"\"2023-02-29\"", "\"1900-02-29\"", "\"2024-13-01\"", "\"2024-04-31\"", "\"2024-00-10\"",
                          "\"2024-01-00\"", "\"0000-01-01\"", "\"2024-1-01\"", "\"24-01-01\"", "\"2024-01-011\"",
                          "\"2024-01-01T\"", "\"\\u0032024-01-01\""})
    EXPECT_FALSE(whole_ok(*date, bad)) << bad;
  auto time = schema(R"({"type":"string","format":"time"})");
  for (const char* ok : {"\"23:59:59Z\"", "\"00:00:00.123456789+05:30\"", "\"12:30:00-08:00\"", "\"08:15:00.5Z\""})
    EXPECT_TRUE(whole_ok(*time, ok)) << ok;
  for (const char* bad : {"\"24:00:00Z\"", "\"12:60:00Z\"", "\"12:00:60Z\"", "\"12:00:00\"", "\"12:00:00.Z\"",
                          "\"12:00:00.1234567890Z\"", "\"12:00:00+24:00\"", "\"12:00:00+05:60\"", "\"12:00Z\""})
    EXPECT_FALSE(whole_ok(*time, bad)) << bad;
  auto dt = schema(R"({"format":"date-time"})");  // the type follows from the format
  EXPECT_TRUE(whole_ok(*dt, "\"2024-02-29T12:00:00Z\""));
  EXPECT_FALSE(whole_ok(*dt, "\"2024-02-29 12:00:00Z\""));
  EXPECT_FALSE(whole_ok(*dt, "\"2024-02-29\""));
  auto uuid = schema(R"({"type":"string","format":"uuid"})");
  EXPECT_TRUE(whole_ok(*uuid, "\"123e4567-e89b-12d3-A456-426614174000\""));
  EXPECT_FALSE(prefix_ok(*uuid, "\"123e4567e"));
  EXPECT_FALSE(prefix_ok(*uuid, "\"123g"));
  EXPECT_FALSE(whole_ok(*uuid, "\"123e4567-e89b-12d3-a456-42661417400\""));
  // email, ipv4, ipv6 and duration as built-in patterns, each a subset of its format.
  auto email = schema(R"({"type":"string","format":"email"})");
  for (const char* ok : {"\"eolas@example.ie\"", "\"sean.o.briain+x@mail.co.uk\"", "\"a_b@x-y.eus\""})
    EXPECT_TRUE(whole_ok(*email, ok)) << ok;
  // An ASCII address only (an internationalised one is outside the subset).
  for (const char* bad : {"\"@example.ie\"", "\"a@b\"", "\"a..b@x.ie\"", "\"a@-x.ie\"", "\"a@x.i\"", "\"a b@x.ie\"",
                          "\"seán@x.ie\""})
    EXPECT_FALSE(whole_ok(*email, bad)) << bad;
  auto ipv4 = schema(R"({"type":"string","format":"ipv4"})");
  for (const char* ok : {"\"192.168.0.1\"", "\"0.0.0.0\"", "\"255.255.255.255\""}) EXPECT_TRUE(whole_ok(*ipv4, ok)) << ok;
  for (const char* bad : {"\"256.1.1.1\"", "\"01.2.3.4\"", "\"1.2.3\"", "\"1.2.3.4.5\""}) EXPECT_FALSE(whole_ok(*ipv4, bad)) << bad;
  auto ipv6 = schema(R"({"type":"string","format":"ipv6"})");
  EXPECT_TRUE(whole_ok(*ipv6, "\"2001:db8:0:0:0:ff00:42:8329\""));
  EXPECT_FALSE(whole_ok(*ipv6, "\"2001:db8::8329\""));  // the compressed form is outside the subset
  EXPECT_FALSE(prefix_ok(*ipv6, "\"2001g"));
  auto duration = schema(R"({"type":"string","format":"duration"})");
  for (const char* ok : {"\"P3Y6M4DT12H30M5S\"", "\"PT36H\"", "\"P2W\"", "\"P1M\"", "\"PT1M\""})
    EXPECT_TRUE(whole_ok(*duration, ok)) << ok;
  for (const char* bad : {"\"P\"", "\"PT\"", "\"P1DT\"", "\"P1H\"", "\"P1W2D\"", "\"3Y\""})
    EXPECT_FALSE(whole_ok(*duration, bad)) << bad;
  // Formats on other types are annotations (a validator checks them on strings only).
  EXPECT_TRUE(whole_ok(*schema(R"({"type":"integer","format":"int32"})"), "7"));
  for (const char* bad : {R"({"type":"string","format":"hostname"})", R"({"format":"uri"})", R"({"type":"string","format":5})",
                          R"({"type":"string","format":"date","maxLength":12})",
                          R"({"type":"string","format":"email","pattern":"^a"})"})
    EXPECT_NE(refusal(bad), "") << bad;
  EXPECT_NE(refusal(R"({"format":"uri"})").find("'uri' is not supported"), std::string::npos);

  const std::string text = kFormats;
  generate_valid(text, 40, 13);
  generate_valid(kPatternFormats, 40, 14);
}

// ---- pattern ---------------------------------------------------------------------------------

TEST(JsonSchemaKeywords, PatternsDriveAnAutomatonPerCodePoint) {
  auto code = schema(R"({"type":"string","pattern":"^[A-Z]{2}-\\d{4}$"})");
  EXPECT_TRUE(whole_ok(*code, "\"EU-1234\""));
  for (const char* bad : {"\"eu-1234\"", "\"EU-12345\"", "\"EU-123\"", "\"E-1234\""}) EXPECT_FALSE(whole_ok(*code, bad)) << bad;
  EXPECT_FALSE(prefix_ok(*code, "\"EU1"));
  // Unanchored: the match may be anywhere; escapes and UTF-8 are read as code points.
  auto some = schema(R"({"type":"string","pattern":"ต้น|zuhaitz"})");
  for (const char* ok : {"\"ต้น\"", "\"a ต้นไม้\"", "\"Zuhaitza: zuhaitza\"", "\"\\u0e15\\u0e49\\u0e19\""})
    EXPECT_TRUE(whole_ok(*some, ok)) << ok;
  EXPECT_FALSE(whole_ok(*some, "\"ต้\""));
  EXPECT_TRUE(prefix_ok(*some, "\"ต้"));
  auto nl = schema(R"({"type":"string","pattern":"^a\\nb?$"})");
  EXPECT_TRUE(whole_ok(*nl, "\"a\\nb\""));
  EXPECT_TRUE(whole_ok(*nl, "\"a\\u000a\""));
  EXPECT_FALSE(prefix_ok(*nl, "\"a\\t"));
  auto emoji = schema(R"({"type":"string","pattern":"^.$"})");  // one code point, a surrogate pair too
  EXPECT_TRUE(whole_ok(*emoji, "\"\\ud83d\\ude00\""));
  EXPECT_TRUE(whole_ok(*emoji, "\"\xf0\x9f\x98\x80\""));
  EXPECT_FALSE(whole_ok(*emoji, "\"ab\""));
  auto notd = schema(R"({"type":"string","pattern":"^[^\\d]+$"})");
  EXPECT_TRUE(whole_ok(*notd, "\"abc\""));
  EXPECT_FALSE(prefix_ok(*notd, "\"a1"));
  EXPECT_FALSE(prefix_ok(*notd, "\"ไ"));  // a negated class with a shorthand takes ASCII only
  // A code point begun (a UTF-8 lead byte, \u digits, a backslash) must be able to match.
  auto thai = schema(R"({"type":"string","pattern":"^[ก-๙]+$"})");
  JsonConstraint t(thai.get());
  ASSERT_TRUE(t.advance("\""));
  EXPECT_TRUE(t.accepts("\xe0"));
  EXPECT_FALSE(t.accepts("\xc3"));   // a Latin letter could not match
  EXPECT_FALSE(t.accepts("\xe1"));
  EXPECT_TRUE(t.accepts("\\u0e"));
  EXPECT_FALSE(t.accepts("\\u00"));
  EXPECT_FALSE(t.accepts("\\ud83d"));  // nor any pair
  auto only_a = schema(R"({"type":"string","pattern":"^a$"})");
  JsonConstraint o(only_a.get());
  ASSERT_TRUE(o.advance("\"a"));
  EXPECT_FALSE(o.accepts("\\"));
  EXPECT_TRUE(o.accepts("\""));
  for (const char* bad : {
           R"({"type":"string","pattern":"(a)\\1"})", R"({"type":"string","pattern":"(?=a)b"})",
           R"({"type":"string","pattern":"\\bhitz"})", R"({"type":"string","pattern":"a^b"})",
           R"({"type":"string","pattern":"[]"})", R"({"type":"string","pattern":"x{2,1}"})",
           R"({"type":"string","pattern":"\\d{100}"})", R"({"type":"string","pattern":"(ab"})",
           R"({"type":"string","pattern":"*a"})", R"({"type":"string","pattern":"\\p{L}"})",
           R"({"type":"string","pattern":"a","maxLength":3})", R"({"type":"string","pattern":5})",
           R"({"type":"string","pattern":"a{1001}"})", R"({"type":"string","pattern":"((){1000}){1000}{1000}"})"})
    EXPECT_NE(refusal(bad), "") << bad;
  EXPECT_NE(refusal(R"({"type":"string","pattern":"(a)\\1"})").find("backreferences"), std::string::npos);
  generate_valid(kPatterns, 40, 17);
}

// The same answers pass Python's jsonschema (with its format checker), when it is installed.
TEST(JsonSchemaKeywords, PrefixItemsMakeTuples) {
  auto pair = schema(R"({"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false,"minItems":2})");
  for (const char* ok : {R"(["Gaillimh",3])", R"(["กรุงเทพ",-12])"}) EXPECT_TRUE(whole_ok(*pair, ok)) << ok;
  for (const char* bad : {R"([3,"a"])", R"(["a"])", R"(["a",1,2])", "[]", R"(["a",1.5])"})
    EXPECT_FALSE(whole_ok(*pair, bad)) << bad;
  EXPECT_FALSE(prefix_ok(*pair, R"(["a",1,)"));  // the comma itself is refused: nothing may follow
  // Without items: false the rest is free; with an items schema the rest follows it.
  auto open = schema(R"({"prefixItems":[{"const":"eu"}]})");
  EXPECT_TRUE(whole_ok(*open, R"(["eu",1,{"a":null}])"));
  EXPECT_TRUE(whole_ok(*open, "[]"));
  EXPECT_FALSE(whole_ok(*open, R"(["ga"])"));
  auto rest = schema(R"({"type":"array","prefixItems":[{"type":"integer"}],"items":{"type":"boolean"}})");
  EXPECT_TRUE(whole_ok(*rest, "[1,true,false]"));
  EXPECT_FALSE(whole_ok(*rest, "[1,2]"));
  EXPECT_FALSE(whole_ok(*rest, "[true]"));
  // A required tuple item that is an object counts towards the depth an instance needs.
  auto nested = schema(R"({"type":"array","prefixItems":[{"type":"array","prefixItems":[{"type":"integer"}],"minItems":1}],"minItems":1})");
  EXPECT_TRUE(whole_ok(*nested, "[[7]]"));
  EXPECT_FALSE(whole_ok(*nested, "[[]]"));
  for (const char* bad : {R"({"type":"array","prefixItems":{"type":"integer"}})",
                          R"({"type":"array","prefixItems":[{"type":"integer"}],"items":false,"minItems":2})",
                          R"({"type":"array","prefixItems":[{"type":"nothing"}]})",
                          R"({"allOf":[{"prefixItems":[{"type":"integer"}]},{"items":{"type":"string"}}]})"})
    EXPECT_NE(refusal(bad), "") << bad;
  // allOf of the same tuple twice, or a tuple beside non-array keywords, merges.
  EXPECT_TRUE(whole_ok(*schema(R"({"allOf":[{"prefixItems":[{"type":"integer"}],"items":false},{"maxItems":1}]})"), "[4]"));
  for (auto& v : generate_valid(kTuples, 40, 31)) {
    ASSERT_GE(v["puntua"].size(), 2u);
    EXPECT_EQ(v["puntua"].size(), 2u);
    EXPECT_LE(v["izena_adina"].size(), 4u);
  }
}

TEST(JsonSchemaKeywords, PythonJsonschemaAgrees) {
  if (std::system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 has no jsonschema; run scripts/install-deps.sh (installs python3-jsonschema)";
  TempDir dir;
  std::string lines;
  size_t n = 0;
  // The root $ref of kOptional and kTree points into $defs, as Python resolves it too.
  for (const char* text : {kRefs, kTree, kList, kOptional, kOneOf, kAllOf, kWrapped, kBeside, kNumbers, kFormats,
                           kPatternFormats, kMultiples, kMaps, kPatterns, kTuples, kSets}) {
    for (auto& v : generate_valid(text, 20, 21)) {
      lines += json({{"schema", json::parse(text)}, {"value", v}}).dump() + "\n";
      ++n;
    }
  }
  ASSERT_GT(n, 150u);
  write_text(dir.file("answers.jsonl"), lines);
  const std::string cmd = "/usr/bin/python3 " + std::string(NATIVELM_SOURCE_DIR) + "/tests/serve/validate_json_schema.py " +
                          dir.file("answers.jsonl") + " >" + dir.file("out") + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_text(dir.file("out"));
  std::printf("[ python  ] %s", read_text(dir.file("out")).c_str());
}

}  // namespace
}  // namespace nlm::testing
