// `suffix` on /v1/completions: fill-in-the-middle through the tokenizer's FIM tokens, laid out as
// FIM-trained models and llama-server's /infill expect ([BOS] <prefix> text <suffix> text
// <middle>), and the requests it cannot serve (a model without FIM tokens, token-id prompts,
// echo, chat) as 400s naming `suffix`.
#include <gtest/gtest.h>

#include "api_fixture.h"

namespace nlm::testing {
namespace {

using json = nlohmann::json;

TEST(Suffix, FillInTheMiddleIsThePromptTheFimTokensMake) {
  TempDir dir;
  write_tiny_model(dir.file("m"), false, {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"});
  serve::ServeOptions o;
  o.model_dir = dir.file("m");
  o.queue = 4;
  serve::Engine engine(o);
  serve::Api api(engine, serve::RequestLimits{64, 16, 4});
  auto call = [&](const json& body) { return json::parse(api.generate(body.dump(), false).body); };
  const auto tok = tokenizer::Tokenizer::load(dir.file("m/tokenizer.json"));
  auto ids_of = [&](const std::string& t) {
    json a = json::array();
    for (uint32_t id : tok.encode(t, false)) a.push_back(id);
    return a;
  };
  // The same ids, built by hand, as a token-id prompt.
  json ids = json::array({tok.token_id("<|begin_of_text|>"), tok.token_id("<|fim_prefix|>")});
  for (auto& x : ids_of("The cat")) ids.push_back(x);
  ids.push_back(tok.token_id("<|fim_suffix|>"));
  for (auto& x : ids_of(" on the mat")) ids.push_back(x);
  ids.push_back(tok.token_id("<|fim_middle|>"));
  const json fim = call({{"prompt", "The cat"}, {"suffix", " on the mat"}, {"max_tokens", 10}, {"temperature", 0}});
  const json by_hand = call({{"prompt", ids}, {"max_tokens", 10}, {"temperature", 0}});
  EXPECT_EQ(fim["usage"]["prompt_tokens"], ids.size());
  EXPECT_EQ(fim["choices"][0]["text"], by_hand["choices"][0]["text"]);
  // An empty suffix is no suffix: a plain completion.
  const json plain = call({{"prompt", "The cat"}, {"max_tokens", 4}, {"temperature", 0}});
  const json empty = call({{"prompt", "The cat"}, {"suffix", ""}, {"max_tokens", 4}, {"temperature", 0}});
  EXPECT_EQ(empty["choices"], plain["choices"]);
}

TEST(Suffix, RefusedWhereItCannotBeServed) {
  TinyServer s(4);  // its tokenizer has no FIM tokens
  auto e = s.error_of({{"prompt", "The cat"}, {"suffix", " sat"}});
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "suffix");
  EXPECT_NE(std::string(e.what()).find("FIM tokens"), std::string::npos) << e.what();
  for (const json& bad : {json{{"prompt", json::array({1, 2})}, {"suffix", "x"}},
                          json{{"prompt", "The"}, {"suffix", "x"}, {"echo", true}}, json{{"prompt", "The"}, {"suffix", 3}}}) {
    e = s.error_of(bad);
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_EQ(e.param, "suffix") << bad;
  }
  e = s.error_of({{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}, {"suffix", "x"}}, true);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "suffix");
  EXPECT_EQ(s.status_of(R"({"prompt": "The", "suffix": null, "max_tokens": 1})"), 200);
}

}  // namespace
}  // namespace nlm::testing
