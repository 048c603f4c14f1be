// logit_bias through the API layer on the tiny model: -100 bans the token greedy decoding picks,
// +100 forces a token (plain, streamed, n > 1 sampled, chat), the JSON constraint still wins over
// a forced token (the answer is still JSON), and malformed maps are 400 naming logit_bias.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace nlm::testing {
namespace {

using nlohmann::json;

// The id of a text that is one token.
int32_t one_token(TinyServer& s, const std::string& text) {
  auto t = json::parse(s.api->tokenize(json({{"content", text}}).dump()).body)["tokens"];
  EXPECT_EQ(t.size(), 1u) << text;
  return t.empty() ? -1 : t[0].get<int32_t>();
}

TEST(LogitBias, MinusHundredBansAndPlusHundredForces) {
  TinyServer s;
  json req = {{"prompt", "The cat"}, {"max_tokens", 4}, {"temperature", 0}, {"logprobs", 0}};
  auto plain = s.call(req);
  const std::string first = plain["choices"][0]["logprobs"]["tokens"][0];
  const int32_t first_id = one_token(s, first);
  req["logit_bias"] = {{std::to_string(first_id), -100}};
  auto banned = s.call(req);
  for (auto& t : banned["choices"][0]["logprobs"]["tokens"]) EXPECT_NE(t, first) << banned;

  const int32_t mat = one_token(s, " mat");
  req["logit_bias"] = {{std::to_string(mat), 100}};
  EXPECT_EQ(s.call(req)["choices"][0]["text"], " mat mat mat mat");
  // Sampled with n = 3 and streamed: every choice is forced too.
  req = {{"prompt", "The cat"}, {"max_tokens", 3}, {"temperature", 1.5}, {"seed", 9}, {"n", 3},
         {"logit_bias", {{std::to_string(mat), 100}}}};
  auto n3 = s.call(req);
  ASSERT_EQ(n3["choices"].size(), 3u);
  for (auto& c : n3["choices"]) EXPECT_EQ(c["text"], " mat mat mat");
  req["stream"] = true;
  std::string streamed[3];
  for (auto& e : s.stream(req))
    for (auto& c : e["choices"]) streamed[c["index"].get<int>()] += c["text"].get<std::string>();
  for (auto& t : streamed) EXPECT_EQ(t, " mat mat mat");
  // Chat, with a Thai message.
  json chat = {{"messages", {{{"role", "user"}, {"content", "แมวนั่งบนเสื่อ"}}}}, {"max_tokens", 2},
               {"logit_bias", {{std::to_string(mat), 100}}}};
  EXPECT_EQ(s.call(chat, true)["choices"][0]["message"]["content"], " mat mat");
}

TEST(LogitBias, TheJsonConstraintWinsOverAForcedToken) {
  TinyServer s;
  const int32_t the = one_token(s, "The");
  json req = {{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"max_tokens", 40}, {"temperature", 0},
              {"response_format", {{"type", "json_object"}}}, {"logit_bias", {{std::to_string(the), 100}}}};
  auto r = s.call(req, true);
  const std::string text = r["choices"][0]["message"]["content"];
  size_t i = text.find_first_not_of(" \t\r\n");
  ASSERT_NE(i, std::string::npos) << text;
  EXPECT_EQ(text[i], '{') << text;
  if (r["choices"][0]["finish_reason"] == "stop") {
    EXPECT_TRUE(json::parse(text, nullptr, false).is_object()) << text;
  }
}

TEST(LogitBias, MalformedMapsAre400) {
  TinyServer s;
  const std::vector<json> bad = {
      json::array({1, 2}), "5", 3, json::object({{"abc", 1}}), json::object({{"-1", 1}}), json::object({{"1.5", 1}}),
      json::object({{"", 1}}), json::object({{" 5", 1}}), json::object({{"+5", 1}}), json::object({{"5", "x"}}),
      json::object({{"5", 100.5}}), json::object({{"5", -101}}), json::object({{"5", nullptr}}),
      json::object({{"300000", 1}}), json::object({{"99999999999", 1}}), json::object({{"ห้า", 1}}),
  };
  for (const json& b : bad) {
    auto e = s.error_of({{"prompt", "The"}, {"max_tokens", 1}, {"logit_bias", b}});
    EXPECT_EQ(e.status, 400) << b.dump();
    EXPECT_EQ(e.param, "logit_bias") << b.dump();
  }
  json many = json::object();
  for (int i = 0; i < 1025; ++i) many[std::to_string(i)] = 1;
  auto e = s.error_of({{"prompt", "The"}, {"logit_bias", many}});
  EXPECT_EQ(e.status, 400);
  EXPECT_NE(std::string(e.what()).find("1024"), std::string::npos) << e.what();
  // Off values and an empty map are fine.
  EXPECT_EQ(s.status_of(R"({"prompt": "The", "max_tokens": 1, "logit_bias": null})"), 200);
  EXPECT_EQ(s.status_of(R"({"prompt": "The", "max_tokens": 1, "logit_bias": {}})"), 200);
  EXPECT_EQ(s.status_of(R"({"prompt": "The", "max_tokens": 1, "logit_bias": {"0": 0, "1": -100, "2": 100}})"), 200);
}

}  // namespace
}  // namespace nlm::testing
