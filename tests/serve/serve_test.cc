// `nativelm serve` over raw HTTP (httplib's client): greedy output equals `nativelm generate`
// token for token, streamed chat equals the plain answer and ends with a usage chunk and
// [DONE], keys are enforced, hostile requests get 4xx without hurting the server, and SIGTERM
// stops it cleanly with one access-log line per request.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "serve_fixture.h"

namespace nlm::testing {
namespace {

using nlohmann::json;
const char* kKey = "test-key-123";

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_tiny_model(dir_->file("model"));
    server_ = new ServerProcess(dir_->file("model"), dir_->path(),
                                {"--api-key", kKey, "--max-body", "4K", "--max-tokens", "64"});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(server_->up()) << server_->log(); }
  static httplib::Client client() {
    httplib::Client c(server_->host(), server_->port());
    c.set_read_timeout(60, 0);
    c.set_bearer_token_auth(kKey);
    return c;
  }
  static json post(const std::string& path, const json& body, int expect = 200) {
    auto r = client().Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, expect) << r->body;
    return json::parse(r->body, nullptr, false);
  }
  static TempDir* dir_;
  static ServerProcess* server_;
};
TempDir* Serve::dir_ = nullptr;
ServerProcess* Serve::server_ = nullptr;

TEST_F(Serve, HealthModelsAndDefaultsToLoopback) {
  EXPECT_EQ(server_->host(), "127.0.0.1");
  httplib::Client plain(server_->host(), server_->port());
  auto h = plain.Get("/health");  // no key needed
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto m = client().Get("/v1/models");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200) << m->body;
  auto j = json::parse(m->body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], "model");
}

// The listening socket's accept queue is deeper than httplib's 5 (which overflowed under a load
// test's 32 clients, one connection per request, and reset some): ss prints a listening socket's
// backlog as its Send-Q.
TEST_F(Serve, ListensWithADeepAcceptQueue) {
  if (std::system("command -v ss > /dev/null 2>&1") != 0) GTEST_SKIP() << "ss (iproute2) is not installed";
  const std::string cmd = "ss -ltnH 'sport = :" + std::to_string(server_->port()) + "'";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char line[512] = "";
  const bool got = std::fgets(line, sizeof line, p) != nullptr;
  pclose(p);
  ASSERT_TRUE(got) << cmd;
  char state[32] = "";
  long recv_q = 0, backlog = 0;
  ASSERT_EQ(std::sscanf(line, "%31s %ld %ld", state, &recv_q, &backlog), 3) << line;
  EXPECT_STREQ(state, "LISTEN");
  std::ifstream somaxconn("/proc/sys/net/core/somaxconn");
  long cap = 4096;
  somaxconn >> cap;
  EXPECT_EQ(backlog, std::min(1024L, cap)) << line;
}

TEST_F(Serve, MissingOrWrongKeyIs401) {
  httplib::Client plain(server_->host(), server_->port());
  auto r = plain.Get("/v1/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body)["error"]["type"], "authentication_error");
  plain.set_bearer_token_auth("test-key-124");
  r = plain.Post("/v1/completions", R"({"prompt":"The"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "invalid_api_key");
}

TEST_F(Serve, GreedyCompletionEqualsGenerateTokenForToken) {
  const std::string prompt = "The cat sat";
  auto j = post("/v1/completions", {{"model", "model"}, {"prompt", prompt}, {"max_tokens", 12}, {"temperature", 0}});
  ASSERT_TRUE(j.contains("choices")) << j;
  std::string text = j["choices"][0]["text"];
  int completion_tokens = j["usage"]["completion_tokens"];
  EXPECT_GT(completion_tokens, 0);
  // The same prompt through `nativelm generate` as text (its streamed pieces add up to the text
  // even for an untrained model's invalid UTF-8) ...
  auto g = run_nativelm("generate -m " + dir_->file("model") + " --temperature 0 --max-new-tokens 12 '" + prompt + "'",
                        dir_->path());
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out, prompt + text + "\n");
  // Token for token: the prompt ids /tokenize gives, and the sampled ids that /detokenize spells.
  auto ids = post("/tokenize", {{"content", prompt}, {"add_special", true}})["tokens"];
  EXPECT_EQ(static_cast<int>(ids.size()), j["usage"]["prompt_tokens"].get<int>());
  std::string id_list;
  for (auto& t : ids) id_list += (id_list.empty() ? "" : " ") + std::to_string(t.get<int>());
  g = run_nativelm("generate -m " + dir_->file("model") + " --temperature 0 --max-new-tokens 12 --prompt-ids '" +
                       id_list + "'",
                   dir_->path());
  ASSERT_EQ(g.exit_code, 0) << g.err;
  std::istringstream words(g.out);
  json sampled = json::array();
  for (int t; words >> t;) sampled.push_back(t);
  EXPECT_EQ(static_cast<int>(sampled.size()), completion_tokens);
  // Spelled out (special tokens such as a final EOS dropped, as completions do), they are the text.
  json plain_ids = sampled;
  if (j["choices"][0]["finish_reason"] == "stop" && !plain_ids.empty()) plain_ids.erase(plain_ids.size() - 1);
  EXPECT_EQ(post("/detokenize", {{"tokens", plain_ids}})["content"].get<std::string>(), text);
  EXPECT_EQ(j["choices"][0]["finish_reason"], completion_tokens == 12 ? "length" : "stop");
}

TEST_F(Serve, StreamedChatEqualsPlainChatAndEndsWithUsage) {
  json req = {{"messages", {{{"role", "user"}, {"content", "Tá sé"}}}}, {"max_tokens", 10}, {"temperature", 0}};
  auto plain = post("/v1/chat/completions", req);
  ASSERT_TRUE(plain.contains("choices")) << plain;
  EXPECT_EQ(plain["object"], "chat.completion");
  EXPECT_EQ(plain["choices"][0]["message"]["role"], "assistant");
  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  auto r = client().Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  std::vector<std::string> events;
  for (size_t i = 0, j; (j = r->body.find("\n\n", i)) != std::string::npos; i = j + 2) {
    std::string e = r->body.substr(i, j - i);
    ASSERT_EQ(e.rfind("data: ", 0), 0u) << e;
    events.push_back(e.substr(6));
  }
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string content, finish;
  for (size_t k = 0; k + 2 < events.size(); ++k) {
    auto c = json::parse(events[k]);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_TRUE(c["usage"].is_null());
    ASSERT_EQ(c["choices"].size(), 1u);
    if (k == 0) {
      EXPECT_EQ(c["choices"][0]["delta"]["role"], "assistant");
    }
    if (c["choices"][0]["delta"].contains("content")) content += c["choices"][0]["delta"]["content"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  auto last = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(last["choices"].empty());
  // The same counts; the second request found its prompt (all but the last token) in the
  // prefix cache, which usage reports as OpenAI does.
  for (const char* k : {"prompt_tokens", "completion_tokens", "total_tokens"}) EXPECT_EQ(last["usage"][k], plain["usage"][k]) << k;
  EXPECT_EQ(last["usage"]["prompt_tokens_details"]["cached_tokens"], plain["usage"]["prompt_tokens"].get<int>() - 1);
  EXPECT_EQ(content, plain["choices"][0]["message"]["content"]);
  EXPECT_EQ(finish, plain["choices"][0]["finish_reason"]);
}

TEST_F(Serve, SeedsMakeSamplingRepeatableAndNGivesDistinctChoices) {
  json req = {{"prompt", {"The", "Tá"}}, {"max_tokens", 8}, {"temperature", 1.5}, {"n", 2}, {"seed", 42}};
  auto a = post("/v1/completions", req), b = post("/v1/completions", req);
  ASSERT_EQ(a["choices"].size(), 4u) << a;
  EXPECT_EQ(a["choices"], b["choices"]);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a["choices"][i]["index"], i);
  EXPECT_NE(a["choices"][0]["text"], a["choices"][1]["text"]);  // seed + choice index
}

TEST_F(Serve, HostileRequestsGet4xxAndTheServerKeepsAnswering) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"/v1/completions", "{"},
      {"/v1/completions", "[]"},
      {"/v1/completions", ""},
      {"/v1/completions", R"({"prompt": 5})"},
      {"/v1/completions", R"({"prompt": [1, "two"]})"},
      {"/v1/completions", R"({"prompt": [[1, 2], []]})"},
      {"/v1/completions", R"({"prompt": "x", "max_tokens": -1})"},
      {"/v1/completions", R"({"prompt": "x", "max_tokens": 1e300})"},
      {"/v1/completions", R"({"prompt": "x", "max_tokens": 99999999999999999999999})"},
      {"/v1/completions", R"({"prompt": "x", "max_tokens": 65})"},
      {"/v1/completions", R"({"prompt": "x", "temperature": "hot"})"},
      {"/v1/completions", R"({"prompt": "x", "temperature": -0.5})"},
      {"/v1/completions", R"({"prompt": "x", "n": 0})"},
      {"/v1/completions", R"({"prompt": "x", "n": 1000})"},
      {"/v1/completions", R"({"prompt": "x", "seed": 1.5})"},
      {"/v1/completions", R"({"prompt": "x", "stop": [1]})"},
      {"/v1/completions", R"({"prompt": "x", "stream": "yes"})"},
      {"/v1/completions", R"({"prompt": "x", "stream_options": {"include_usage": true}})"},
      {"/v1/completions", R"({"prompt": "x", "bogus_field": 1})"},
      {"/v1/completions", R"({"prompt": "x", "logprobs": 50})"},
      {"/v1/completions", R"({"prompt": "x", "model": "gpt-4"})"},
      {"/v1/completions", "{\"prompt\": \"\xff\xfe\xc3\"}"},
      {"/v1/completions", std::string("{\"prompt\": \"") + std::string(5000, 'a') + "\"}"},  // over --max-body
      {"/v1/completions", std::string(2000, '[') + std::string(2000, ']')},
      {"/v1/chat/completions", R"({"messages": []})"},
      {"/v1/chat/completions", R"({"messages": [{"content": "hi"}]})"},
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"},
      // Found by fuzz_serve_request: a part's non-string type escaped as a JSON library exception.
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": [{"type": true, "text": "x"}]}]})"},
      {"/v1/chat/completions", R"({"messages": "hi"})"},
      {"/v1/chat/completions", R"({"prompt": "hi"})"},
      {"/tokenize", R"({"content": 7})"},
      {"/detokenize", R"({"tokens": [-1]})"},
      {"/detokenize", R"({"tokens": [4294967296000]})"},
      {"/v1/nothing", "{}"},
  };
  for (auto& [path, body] : bad) {
    auto r = client().Post(path.c_str(), body, "application/json");
    ASSERT_TRUE(r) << path << " " << body.substr(0, 80);
    EXPECT_GE(r->status, 400) << body.substr(0, 80);
    EXPECT_LT(r->status, 500) << body.substr(0, 80) << " -> " << r->body;
    auto j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string()) << r->body;
    EXPECT_TRUE(j["error"].contains("param") && j["error"].contains("code")) << r->body;
  }
  auto big = client().Post("/v1/completions", std::string(5000, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  auto ok = post("/v1/completions", {{"prompt", "The"}, {"max_tokens", 3}});
  EXPECT_EQ(ok["choices"].size(), 1u) << ok;
}

TEST(ServeProcess, SigtermStopsCleanlyAndEachRequestIsLogged) {
  TempDir dir;
  write_tiny_model(dir.file("m"));
  ServerProcess s(dir.file("m"), dir.path(), {"--model-name", "tiny"});
  ASSERT_TRUE(s.up()) << s.log();
  httplib::Client c(s.host(), s.port());
  c.set_read_timeout(60, 0);
  auto r = c.Post("/v1/chat/completions", R"({"model": "tiny", "messages": [{"role": "user", "content": "hi"}],
                  "max_tokens": 4})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  r = c.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(s.stop(), 0);
  std::string log = s.log();
  EXPECT_NE(log.find("\"POST /v1/chat/completions\" 200"), std::string::npos) << log;
  EXPECT_NE(log.find("\"GET /health\" 200"), std::string::npos) << log;
}

TEST(ServeProcess, MissingModelFolderIsAUsageError) {
  TempDir dir;
  auto r = run_nativelm("serve " + dir.file("absent") + " --port 0", dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out.find("listening"), std::string::npos);
}

// /metrics speaks Prometheus' text format and counts the requests served so far.
TEST_F(Serve, MetricsCountRequestsAndTokens) {
  post("/v1/completions", {{"prompt", "The cat"}, {"max_tokens", 5}, {"temperature", 0}});
  httplib::Client plain(server_->host(), server_->port());
  auto denied = plain.Get("/metrics");  // behind the key like every endpoint but /health
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  auto r = client().Get("/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  auto value = [&](const std::string& name) {
    size_t p = r->body.find("\n" + name + " ");
    EXPECT_NE(p, std::string::npos) << name;
    return p == std::string::npos ? -1.0 : std::stod(r->body.substr(p + name.size() + 2));
  };
  EXPECT_GE(value("nativelm_requests_total"), 1);
  EXPECT_GE(value("nativelm_generation_tokens_total"), 1);
  EXPECT_GE(value("nativelm_time_to_first_token_seconds_count"), 1);
  EXPECT_EQ(value("nativelm_slots_total"), 4);
  EXPECT_GT(value("nativelm_kv_cache_tokens"), 0);
}

// The demo's model shape (vocab padded past the tokenizer's), served with int8 weights: chat
// answers with text, never a padding row; with f32 weights greedy text equals `nativelm generate`.
TEST(ServeDemoShape, ServesChatInF32AndInt8) {
  TempDir dir;
  write_tiny_model(dir.file("model"), /*demo_shape=*/true);
  for (const char* weights : {"f32", "int8"}) {
    ServerProcess s(dir.file("model"), dir.path(), {"--weights", weights, "--parallel", "2"});
    ASSERT_TRUE(s.up()) << s.log();
    httplib::Client c(s.host(), s.port());
    c.set_read_timeout(60, 0);
    json chat = {{"messages", {{{"role", "user"}, {"content", "Tá sé go maith"}}}}, {"max_tokens", 16}, {"temperature", 0}};
    auto r = c.Post("/v1/chat/completions", chat.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    auto j = json::parse(r->body);
    EXPECT_GT(j["usage"]["completion_tokens"].get<int>(), 0) << weights;
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    const std::string prompt = "The cat sat";
    json comp = {{"prompt", prompt}, {"max_tokens", 10}, {"temperature", 0}};
    r = c.Post("/v1/completions", comp.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const std::string text = json::parse(r->body)["choices"][0]["text"];
    auto g = run_nativelm(std::string("generate -m ") + dir.file("model") + " --weights " + weights +
                              " --temperature 0 --max-new-tokens 10 '" + prompt + "'",
                          dir.path());
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(g.out, prompt + text + "\n") << weights;
    EXPECT_EQ(s.stop(), 0);
  }
}

}  // namespace
}  // namespace nlm::testing
