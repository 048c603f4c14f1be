// The server's API layer in-process, without HTTP: the queue limit answers 429 while the queue
// is full and admits again once it drains, the prompt-token limit answers 400
// context_length_exceeded, stop strings cut the text with finish_reason "stop", and chat
// renders the model folder's own template (its raise_exception becomes a 400).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "serve/api_error.h"
#include "api_fixture.h"

namespace nlm::testing {
namespace {

using nlohmann::json;

TEST(ServeApi, FullQueueIs429UntilItDrains) {
  TinyServer s(/*queue=*/2);
  const std::string body = R"({"prompt": "The", "max_tokens": 2})";
  auto a = s.engine->admit(), b = s.engine->admit();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(s.engine->admit());
  try {
    s.api->generate(body, false);
    ADD_FAILURE() << "no 429";
  } catch (const serve::ApiError& e) {
    EXPECT_EQ(e.status, 429);
    EXPECT_EQ(e.type, "rate_limit_error");
  }
  b.reset();
  EXPECT_EQ(s.status_of(body), 200);
  // A stream holds its place in the queue until it has been sent.
  auto streamed = s.api->generate(R"({"prompt": "The", "max_tokens": 2, "stream": true})", false);
  ASSERT_TRUE(streamed.stream);
  EXPECT_EQ(s.status_of(body), 429);
  std::string sent;
  streamed.stream([&](const std::string& e) {
    sent += e;
    return true;
  });
  EXPECT_NE(sent.find("data: [DONE]"), std::string::npos);
  streamed = {};
  EXPECT_EQ(s.status_of(body), 200);
}

TEST(ServeApi, LongPromptsAre400ContextLengthExceeded) {
  TinyServer s(1, /*max_prompt_tokens=*/4);
  try {
    s.api->generate(R"({"prompt": "The cat sat on the mat. The cat sat on the mat."})", false);
    ADD_FAILURE() << "no error";
  } catch (const serve::ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "context_length_exceeded");
    EXPECT_EQ(e.param, "prompt");
  }
  EXPECT_EQ(s.status_of(R"({"prompt": "The"})"), 200);
}

TEST(ServeApi, StopStringsCutTheText) {
  TinyServer s;
  auto full = json::parse(s.api->generate(R"({"prompt": "The cat", "max_tokens": 16, "temperature": 0})", false).body);
  std::string text = full["choices"][0]["text"];
  ASSERT_GT(text.size(), 4u) << full;
  size_t b = 1;  // the second character onward is the stop string
  while (b < text.size() && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) ++b;
  std::string stop = text.substr(b);
  json req = {{"prompt", "The cat"}, {"max_tokens", 16}, {"temperature", 0}, {"stop", {stop}}};
  auto cut = json::parse(s.api->generate(req.dump(), false).body);
  EXPECT_EQ(cut["choices"][0]["text"], text.substr(0, text.find(stop)));
  EXPECT_EQ(cut["choices"][0]["finish_reason"], "stop");
  EXPECT_LE(cut["usage"]["completion_tokens"], full["usage"]["completion_tokens"]);
}

TEST(ServeApi, ChatUsesTheModelsTemplateWithTheGenerationPrompt) {
  TinyServer s(1, 0,
               "{% if messages[0]['role'] != 'user' %}{{ raise_exception('conversations start with the user') }}"
               "{% endif %}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
               "{% if add_generation_prompt %}assistant:{% endif %}");
  auto r = json::parse(s.api->generate(R"({"messages": [{"role": "user", "content": "The cat"}], "max_tokens": 1})", true).body);
  auto rendered = json::parse(s.api->tokenize(R"({"content": "user: The cat\nassistant:"})").body);
  EXPECT_EQ(r["usage"]["prompt_tokens"], rendered["tokens"].size());
  // The pieces /tokenize reports spell the text.
  auto pieces = json::parse(s.api->tokenize(R"({"content": "user: The cat", "with_pieces": true})").body);
  std::string spelled;
  for (auto& p : pieces["tokens"]) spelled += p["piece"].get<std::string>();
  EXPECT_EQ(spelled, "user: The cat");
  try {
    s.api->generate(R"({"messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "y"}]})", true);
    ADD_FAILURE() << "the template's raise_exception did not refuse";
  } catch (const serve::ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.param, "messages");
    EXPECT_NE(std::string(e.what()).find("conversations start with the user"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nlm::testing
