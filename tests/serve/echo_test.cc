// echo on /v1/completions through the API layer on the tiny model: the prompt comes back before
// the completion (plain, streamed, n > 1); with logprobs its tokens come first with their
// log-probabilities, which equal those of scoring each prefix alone; a leading BOS is not echoed
// and without one the first token's logprob is null; max_tokens 0 scores the prompt only.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "api_fixture.h"
#include "text/utf8.h"

namespace nlm::testing {
namespace {

using nlohmann::json;

TEST(Echo, PromptComesBackBeforeTheCompletion) {
  TinyServer s;
  json req = {{"prompt", "Tá sé"}, {"max_tokens", 5}, {"temperature", 0}};
  const std::string plain = s.call(req)["choices"][0]["text"];
  req["echo"] = true;
  EXPECT_EQ(s.call(req)["choices"][0]["text"], "Tá sé" + plain);
  req["stream"] = true;
  auto events = s.stream(req);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["choices"][0]["text"], "Tá sé");
  std::string streamed;
  for (auto& e : events) streamed += e["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(streamed, "Tá sé" + plain);
  req = {{"prompt", {"The", "ขอบคุณ"}}, {"n", 2}, {"max_tokens", 2}, {"echo", true}, {"seed", 1}};
  auto r = s.call(req);
  ASSERT_EQ(r["choices"].size(), 4u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(r["choices"][i]["text"].get<std::string>().rfind(i < 2 ? "The" : "ขอบคุณ", 0), 0u) << r;
  EXPECT_EQ(s.error_of({{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"echo", true}}, true).param, "echo");
  EXPECT_EQ(s.error_of({{"prompt", "x"}, {"echo", "yes"}}).param, "echo");
}

TEST(Echo, PromptLogprobsEqualScoringEachPrefix) {
  TinyServer s;
  const std::string prompt = "The cat sat on the mat";
  auto ids = json::parse(s.api->tokenize(json({{"content", prompt}}).dump()).body)["tokens"];
  ASSERT_GE(ids.size(), 4u);
  json req = {{"prompt", prompt}, {"max_tokens", 2}, {"temperature", 0}, {"logprobs", 2}, {"echo", true}};
  auto r = s.call(req);
  const json& lp = r["choices"][0]["logprobs"];
  // The BOS the server puts first is not echoed; every prompt token has a logprob after it.
  ASSERT_EQ(lp["tokens"].size(), ids.size() + 2) << lp;
  std::string joined;
  for (size_t k = 0; k < ids.size(); ++k) joined += lp["tokens"][k].get<std::string>();
  EXPECT_EQ(joined, prompt);
  EXPECT_EQ(lp["text_offset"][ids.size()], prompt.size());
  for (size_t k = 0; k < ids.size(); ++k) {
    ASSERT_TRUE(lp["token_logprobs"][k].is_number()) << k;
    EXPECT_LE(lp["token_logprobs"][k].get<double>(), 0.0);
    EXPECT_LE(lp["top_logprobs"][k].size(), 2u);
    // The same token scored alone after its prefix: forced by logit_bias (logprobs are the raw
    // model's, before the bias).
    std::string prefix;
    for (size_t i = 0; i < k; ++i) prefix += lp["tokens"][i].get<std::string>();
    json one = {{"prompt", prefix}, {"max_tokens", 1}, {"logprobs", 0},
                {"logit_bias", {{std::to_string(ids[k].get<int>()), 100}}}};
    auto alone = s.call(one);
    EXPECT_EQ(alone["choices"][0]["logprobs"]["tokens"][0], lp["tokens"][k]);
    EXPECT_NEAR(alone["choices"][0]["logprobs"]["token_logprobs"][0].get<double>(),
                lp["token_logprobs"][k].get<double>(), 1e-3) << k;
  }
  // The completion's logprobs are those of the same request without echo.
  req["echo"] = false;
  auto plain = s.call(req);
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(plain["choices"][0]["logprobs"]["token_logprobs"][i].get<double>(),
                lp["token_logprobs"][ids.size() + size_t(i)].get<double>(), 1e-3);
  // max_tokens 0 scores the prompt alone.
  req = {{"prompt", prompt}, {"max_tokens", 0}, {"logprobs", 0}, {"echo", true}};
  auto scored = s.call(req);
  EXPECT_EQ(scored["choices"][0]["text"], prompt);
  EXPECT_EQ(scored["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(scored["usage"]["completion_tokens"], 0);
  ASSERT_EQ(scored["choices"][0]["logprobs"]["token_logprobs"].size(), ids.size());
  for (size_t k = 0; k < ids.size(); ++k)
    EXPECT_NEAR(scored["choices"][0]["logprobs"]["token_logprobs"][k].get<double>(),
                lp["token_logprobs"][k].get<double>(), 1e-4);
  // Streamed: the first chunk is the prompt with its logprobs.
  req = {{"prompt", prompt}, {"max_tokens", 2}, {"temperature", 0}, {"logprobs", 2}, {"echo", true}, {"stream", true}};
  auto events = s.stream(req);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["choices"][0]["text"], prompt);
  EXPECT_EQ(events[0]["choices"][0]["logprobs"]["token_logprobs"], json(std::vector<json>(
      lp["token_logprobs"].begin(), lp["token_logprobs"].begin() + long(ids.size()))));
}

// text_offset counts characters (code points, as OpenAI's Python-indexed offsets), so a client
// can slice Irish, Thai or Cantonese text with it; a byte token inside a character points at it.
TEST(Echo, TextOffsetsCountCharactersNotBytes) {
  TinyServer s;
  const std::string prompt = "Tá sé ag obair ขอบคุณ 粵語";
  auto ids = json::parse(s.api->tokenize(json({{"content", prompt}}).dump()).body)["tokens"];
  // The character each token's first byte falls in, from the prompt's own code point starts.
  std::vector<size_t> char_of_byte;
  size_t chars = 0;
  for (unsigned char c : prompt) {
    if ((c & 0xC0) != 0x80) ++chars;
    char_of_byte.push_back(chars - 1);
  }
  std::vector<size_t> expected;
  size_t byte = 0;
  int thai = -1;  // the first token of "ขอบคุณ"
  for (const auto& id : ids) {
    if (byte == prompt.find("ข")) thai = id.get<int>();
    expected.push_back(char_of_byte.at(byte));
    byte += s.engine->token_bytes(id.get<int>()).size();
  }
  ASSERT_EQ(byte, prompt.size());
  json req = {{"prompt", prompt}, {"max_tokens", 0}, {"logprobs", 0}, {"echo", true}};
  auto r = s.call(req);
  EXPECT_EQ(r["choices"][0]["logprobs"]["text_offset"], json(expected)) << r;
  EXPECT_LT(expected.back(), chars);  // 24 characters, 42 bytes
  // Streamed with a completion: the chunks' offsets run on from the prompt's, as unstreamed.
  req = {{"prompt", prompt}, {"max_tokens", 3}, {"temperature", 0}, {"logprobs", 0}, {"echo", true}};
  const json whole = s.call(req)["choices"][0]["logprobs"]["text_offset"];
  ASSERT_EQ(whole.size(), ids.size() + 3);
  EXPECT_GE(whole[ids.size()].get<size_t>() + 1, chars);
  req["stream"] = true;
  json streamed = json::array();
  for (auto& e : s.stream(req))
    if (e["choices"][0]["logprobs"].is_object())
      for (auto& o : e["choices"][0]["logprobs"]["text_offset"]) streamed.push_back(o);
  EXPECT_EQ(streamed, whole);
  // Chat logprobs: `bytes` are the token's own bytes, a piece of a Thai character here (forced by
  // logit_bias), while `token` shows it as valid UTF-8.
  ASSERT_GE(thai, 0);
  const int piece = thai;
  const std::string piece_bytes = s.engine->token_bytes(piece);
  ASSERT_FALSE(nlm::text::utf8_valid(piece_bytes)) << "the tiny tokenizer has a whole Thai character as one token";
  json chat = {{"messages", {{{"role", "user"}, {"content", "ขอบคุณ"}}}}, {"max_tokens", 1}, {"logprobs", true},
               {"logit_bias", {{std::to_string(piece), 100}}}};
  auto c = s.call(chat, true);
  const json& content = c["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 1u) << c;
  json want = json::array();
  for (unsigned char b : piece_bytes) want.push_back(int(b));
  EXPECT_EQ(content[0]["bytes"], want);
  EXPECT_TRUE(nlm::text::utf8_valid(content[0]["token"].get<std::string>()));
}

// Token-id prompts (lm-evaluation-harness's local-completions sends them with echo, logprobs and
// max_tokens 0): the ids go in as sent, with no BOS added, and score as the same text does.
TEST(Echo, TokenIdPromptsScoreAsTheirText) {
  TinyServer s;
  const std::string prompt = "Tá sé ag cur báistí";
  json with_bos = json::parse(s.api->tokenize(json({{"content", prompt}, {"add_special", true}}).dump()).body)["tokens"];
  json ids = json::parse(s.api->tokenize(json({{"content", prompt}}).dump()).body)["tokens"];
  ASSERT_EQ(with_bos.size(), ids.size() + 1);
  json text_req = {{"prompt", prompt}, {"max_tokens", 0}, {"logprobs", 1}, {"echo", true}};
  const json by_text = s.call(text_req)["choices"][0];
  json id_req = text_req;
  id_req["prompt"] = with_bos;
  const json by_ids = s.call(id_req)["choices"][0];
  // The client's BOS is echoed like any token (first, so no logprob); the rest as for the text.
  const json& a = by_text["logprobs"];
  const json& b = by_ids["logprobs"];
  ASSERT_EQ(b["tokens"].size(), a["tokens"].size() + 1) << by_ids;
  EXPECT_TRUE(b["token_logprobs"][0].is_null());
  for (size_t k = 0; k < a["tokens"].size(); ++k) {
    EXPECT_EQ(b["tokens"][k + 1], a["tokens"][k]);
    EXPECT_NEAR(b["token_logprobs"][k + 1].get<double>(), a["token_logprobs"][k].get<double>(), 1e-4) << k;
  }
  EXPECT_EQ(by_ids["text"].get<std::string>(), s.engine->token_text(with_bos[0].get<int>()) + prompt);
  // Without the BOS the first token has nothing before it.
  id_req["prompt"] = ids;
  EXPECT_TRUE(s.call(id_req)["choices"][0]["logprobs"]["token_logprobs"][0].is_null());
  // Generation from ids equals generation from the text; a list of lists gives a choice each.
  json gen = {{"prompt", prompt}, {"max_tokens", 6}, {"temperature", 0}};
  const std::string from_text = s.call(gen)["choices"][0]["text"];
  gen["prompt"] = json::array({with_bos, with_bos});
  auto two = s.call(gen);
  ASSERT_EQ(two["choices"].size(), 2u);
  EXPECT_EQ(two["choices"][0]["text"], from_text);
  EXPECT_EQ(two["choices"][1]["text"], from_text);
  EXPECT_EQ(two["usage"]["prompt_tokens"], 2 * int(with_bos.size()));
  // Bad shapes and ids are 400s on `prompt`.
  for (const json& bad : {json::array(), json::array({1, "a"}), json::array({-1}), json::array({1.5}),
                          json::array({json::array({1}), json::array()}), json::array({json::array({1}), "x"}),
                          json::array({100000}), json::array({true}), json::array({json::array({json::array({1})})})}) {
    auto e = s.error_of({{"prompt", bad}, {"max_tokens", 1}});
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_EQ(e.param, "prompt") << bad;
  }
}

TEST(Echo, WithoutBosTheFirstTokenHasNoLogprob) {
  TinyServer s;
  serve::ServeOptions o = s.options;
  o.add_bos = false;
  serve::Engine engine(o);
  serve::Api api(engine, serve::RequestLimits{64, 16, 4});
  auto r = json::parse(api.generate(R"({"prompt": "The cat", "max_tokens": 0, "logprobs": 1, "echo": true})", false).body);
  const json& lp = r["choices"][0]["logprobs"];
  ASSERT_GE(lp["tokens"].size(), 2u) << r;
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  EXPECT_TRUE(lp["token_logprobs"][1].is_number());
  EXPECT_EQ(lp["text_offset"][0], 0);
  // A one-token prompt: only the null.
  r = json::parse(api.generate(R"({"prompt": "The", "max_tokens": 0, "logprobs": 0, "echo": true})", false).body);
  EXPECT_EQ(r["choices"][0]["logprobs"]["token_logprobs"], json::array({nullptr}));
}

}  // namespace
}  // namespace nlm::testing
