// The official `openai` npm client against `nativelm serve` (tests/serve/openai_client.mjs):
// models.list, chat, streamed chat with include_usage, completions, n > 1, and an unknown model.
// Skips with the reason when node or node_modules/openai is absent (scripts/install-npm-peers.sh).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_paths.h"
#include "serve_fixture.h"

namespace nlm::testing {
namespace {

using nlohmann::json;

TEST(OpenAiClient, TalksToTheServer) {
  const std::string root = NATIVELM_SOURCE_DIR;
  if (std::string why = openai_client_missing(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  write_tiny_model(dir.file("m"));
  ServerProcess s(dir.file("m"), dir.path(), {"--api-key", "sk-local", "--model-name", "tiny-llama"});
  ASSERT_TRUE(s.up()) << s.log();
  std::string cmd = "node " + root + "/tests/serve/openai_client.mjs " + s.url() + "/v1 sk-local tiny-llama >" +
                    dir.file("node.out") + " 2>" + dir.file("node.err");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_text(dir.file("node.err")) << s.log();
  auto j = json::parse(read_text(dir.file("node.out")));
  EXPECT_EQ(j["models"], json::array({"tiny-llama"}));
  EXPECT_EQ(j["chat"]["object"], "chat.completion");
  EXPECT_EQ(j["chat"]["role"], "assistant");
  EXPECT_GT(j["chat"]["usage"]["prompt_tokens"].get<int>(), 0);
  // Streaming gives the same greedy answer, a role, a finish reason and the same usage.
  EXPECT_EQ(j["stream"]["content"], j["chat"]["content"]);
  EXPECT_EQ(j["stream"]["role"], "assistant");
  EXPECT_EQ(j["stream"]["finish"], j["chat"]["finish"]);
  for (const char* k : {"prompt_tokens", "completion_tokens", "total_tokens"})
    EXPECT_EQ(j["stream"]["usage"][k], j["chat"]["usage"][k]) << k;
  // The repeated conversation came from the prefix cache (all but its last token).
  EXPECT_EQ(j["stream"]["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(),
            j["chat"]["usage"]["prompt_tokens"].get<int>() - 1);
  // logprobs: one entry per generated token, each with two alternatives, log-probabilities <= 0.
  ASSERT_EQ(j["logprobs"]["content"].size(), j["logprobs"]["tokens"].get<size_t>());
  for (auto& t : j["logprobs"]["content"]) {
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
    EXPECT_EQ(t["top_logprobs"].size(), 2u);
    EXPECT_GE(t["top_logprobs"][0]["logprob"].get<double>(), t["logprob"].get<double>());  // greedy: the top one
  }
  EXPECT_GE(j["stream"]["chunks"].get<int>(), 3);
  EXPECT_TRUE(j["completion"]["finish"] == "stop" || j["completion"]["finish"] == "length");
  EXPECT_EQ(j["completion"]["usage"]["total_tokens"].get<int>(),
            j["completion"]["usage"]["prompt_tokens"].get<int>() + j["completion"]["usage"]["completion_tokens"].get<int>());
  ASSERT_EQ(j["n"].size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(j["n"][i]["index"], i);
  EXPECT_EQ(j["bad_model"]["status"], 400);
  EXPECT_EQ(j["bad_model"]["param"], "model");
}

}  // namespace
}  // namespace nlm::testing
