// The server on a device other than the CPU (`serve --device cuda` on a GPU machine): the Engine
// decodes through the model's own layer code on that backend. Here the device is the test's
// "fake" backend (the CPU kernels under another name), so its answers must be the CPU engine's:
// greedy completions, chat, echo logprobs, and n > 1.
#include <gtest/gtest.h>

#include <cmath>

#include "api_fixture.h"
#include "core/error.h"
#include "fake_backend.h"

namespace nlm::testing {
namespace {

using json = nlohmann::json;

struct TwoEngines {
  TinyServer cpu{4};
  std::unique_ptr<serve::Engine> engine;
  std::unique_ptr<serve::Api> api;
  TwoEngines() {
    fake_backend();  // registers the device "fake"
    serve::ServeOptions o = cpu.options;
    o.device = "fake";
    o.parallel = 2;
    engine = std::make_unique<serve::Engine>(o);
    api = std::make_unique<serve::Api>(*engine, serve::RequestLimits{64, 16, 4});
  }
  json call(const json& body, bool chat = false) { return json::parse(api->generate(body.dump(), chat).body); }
};

TEST(DeviceServe, GreedyCompletionsAndChatAreTheCpuEnginesWords) {
  TwoEngines t;
  EXPECT_NE(t.engine->describe().find("on fake"), std::string::npos) << t.engine->describe();
  const json completion = {{"prompt", "The cat sat"}, {"max_tokens", 24}, {"temperature", 0}};
  auto a = t.cpu.call(completion), b = t.call(completion);
  EXPECT_EQ(b["choices"][0]["text"], a["choices"][0]["text"]);
  EXPECT_EQ(b["usage"], a["usage"]);
  const json chat = {{"messages", json::array({{{"role", "user"}, {"content", "Tá sé ag cur báistí"}}})},
                     {"max_tokens", 16}, {"temperature", 0}};
  a = t.cpu.call(chat, true);
  b = t.call(chat, true);
  EXPECT_EQ(b["choices"][0]["message"]["content"], a["choices"][0]["message"]["content"]);
  // n = 3 seeded samples share one batch on the device as on the CPU.
  const json n3 = {{"prompt", "The"}, {"max_tokens", 12}, {"temperature", 0.9}, {"seed", 5}, {"n", 3}};
  a = t.cpu.call(n3);
  b = t.call(n3);
  ASSERT_EQ(b["choices"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(b["choices"][i]["text"], a["choices"][i]["text"]) << i;
}

TEST(DeviceServe, EchoLogprobsMatchTheCpuEngine) {
  TwoEngines t;
  const json body = {{"prompt", "The cat sat on the mat"}, {"max_tokens", 0}, {"logprobs", 2}, {"echo", true}};
  auto a = t.cpu.call(body), b = t.call(body);
  const json &la = a["choices"][0]["logprobs"], &lb = b["choices"][0]["logprobs"];
  EXPECT_EQ(lb["tokens"], la["tokens"]);
  ASSERT_EQ(lb["token_logprobs"].size(), la["token_logprobs"].size());
  for (size_t i = 1; i < la["token_logprobs"].size(); ++i)
    EXPECT_NEAR(lb["token_logprobs"][i].get<double>(), la["token_logprobs"][i].get<double>(), 1e-4) << i;
}

TEST(DeviceServe, CpuOnlyWeightFormatsAreRefusedOnAnotherDevice) {
  TinyServer s;
  fake_backend();
  serve::ServeOptions o = s.options;
  o.device = "fake";
  o.weights = "int8";
  try {
    serve::Engine e(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("--weights int8"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nlm::testing
