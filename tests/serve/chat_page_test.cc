// The built-in chat page (GET /): served byte for byte from src/serve/chat_page.html with its
// security headers and without a key; and in headless Chromium (tests/serve/chat_page_browser.mjs
// over the DevTools protocol) a typed prompt and Enter stream an answer in, a second turn carries
// the first, Stop works, the page asks for the API key on a 401 and then sends it, and nothing
// reaches the console. The browser part skips when chromium or a Node with WebSocket is absent.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_paths.h"
#include "serve_fixture.h"

namespace nlm::testing {
namespace {

using nlohmann::json;

const std::string kSource = NATIVELM_SOURCE_DIR;

TEST(ServeChatPage, ServedWithItsHeadersAndWithoutAKey) {
  TempDir dir;
  write_tiny_model(dir.file("m"));
  ServerProcess s(dir.file("m"), dir.path(), {"--api-key", "sk-page"});
  ASSERT_TRUE(s.up()) << s.log();
  const std::string page = read_text(kSource + "/src/serve/chat_page.html");
  httplib::Client c(s.host(), s.port());
  for (const char* path : {"/", "/index.html"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body, page) << path << ": not the bytes of src/serve/chat_page.html";
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
    std::string csp = r->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("script-src 'sha256-"), std::string::npos) << csp;
    EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  }
  // The page is open; the API behind it is not.
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 401);
  auto other = c.Get("/index.htm");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 401);
}

// The command that runs node with a global WebSocket, or "" when this node has none.
std::string node_with_websocket() {
  const char* probe = " -e \"process.exit(typeof WebSocket === 'function' ? 0 : 1)\" >/dev/null 2>&1";
  if (std::system(("node" + std::string(probe)).c_str()) == 0) return "node";
  if (std::system(("node --experimental-websocket" + std::string(probe)).c_str()) == 0)
    return "node --experimental-websocket";
  return "";
}

bool no_messages(const json& page) {
  return page["console"].empty() && page["exceptions"].empty() && page["log"].empty();
}

TEST(ServeChatPage, StreamsAnAnswerInHeadlessChromium) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it)";
  const std::string node = node_with_websocket();
  if (node.empty()) GTEST_SKIP() << "no node with a WebSocket client (Node 22, or Node 20.10+)";
  TempDir dir;
  write_tiny_model(dir.file("m"));
  ServerProcess open(dir.file("m"), dir.path(), {"--model-name", "tiny-eus"});
  std::filesystem::create_directories(dir.file("k"));
  ServerProcess keyed(dir.file("m"), dir.file("k"), {"--api-key", "sk-page", "--model-name", "tiny-yue"});
  ASSERT_TRUE(open.up()) << open.log();
  ASSERT_TRUE(keyed.up()) << keyed.log();
  // Basque and Cantonese, and markup that must stay text; the model is random, the text path is
  // what counts.
  const std::string prompt = "Kaixo! <b>Zer</b> moduz? 你好，今日點呀？ &amp;";
  std::string cmd = "timeout 120 " + node + " " + kSource + "/tests/serve/chat_page_browser.mjs chromium " +
                    dir.file("profile") + " " + open.url() + " " + keyed.url() + " sk-page '" + prompt + "' " + dir.file("page.png") + " >" +
                    dir.file("node.out") + " 2>" + dir.file("node.err");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_text(dir.file("node.err")) << open.log();
  json j = json::parse(read_text(dir.file("node.out")));
  // The console check works: a planted console.error and an uncaught exception are both seen.
  EXPECT_EQ(j["planted"], json({{"console", 1}, {"exceptions", 1}}));
  const json& o = j["open"];

  EXPECT_EQ(o["model"], "tiny-eus");
  EXPECT_EQ(o["title"], "tiny-eus · nativelm chat");
  // Shift+Enter is a newline, not a send.
  EXPECT_EQ(o["after_shift_enter"]["value"], "x\n");
  EXPECT_EQ(o["after_shift_enter"]["messages"], 0);
  // Enter sent the typed prompt; the answer streamed in and finished.
  EXPECT_EQ(o["user_text"], prompt);
  EXPECT_EQ(o["user_dir"], "auto");
  EXPECT_EQ(o["prompt_after"], "");
  EXPECT_EQ(o["first"]["state"], "done") << o["first"].dump();
  EXPECT_EQ(o["first"]["className"], "msg assistant");
  EXPECT_EQ(o["first"]["dir"], "auto");
  EXPECT_FALSE(o["first"]["text"].get<std::string>().empty()) << o["first"].dump();
  EXPECT_EQ(o["second"]["state"], "done") << o["second"].dump();
  EXPECT_EQ(o["second"]["messages"], 4);
  EXPECT_EQ(o["stopped"]["state"], "stopped");
  EXPECT_TRUE(o["stopped"]["send_enabled"]);
  EXPECT_FALSE(o["stopped"]["stop_enabled"]);

  // What the page sent: streamed requests, the first turn and the settings in the second.
  const json& reqs = o["chat_requests"];
  ASSERT_GE(reqs.size(), 2u) << reqs.dump();
  EXPECT_EQ(reqs[0]["body"]["stream"], true);
  EXPECT_EQ(reqs[0]["body"]["temperature"], 0);
  EXPECT_EQ(reqs[0]["body"]["max_tokens"], 16);
  EXPECT_EQ(reqs[0]["body"]["messages"], json::array({{{"role", "user"}, {"content", prompt}}}));
  const json& second = reqs[1]["body"]["messages"];
  ASSERT_EQ(second.size(), 4u) << second.dump();
  EXPECT_EQ(second[0], json({{"role", "system"}, {"content", "Be brief."}}));
  EXPECT_EQ(second[2], json({{"role", "assistant"}, {"content", o["first"]["text"]}}));
  EXPECT_EQ(second[3], json({{"role", "user"}, {"content", "Eskerrik asko!"}}));
  EXPECT_EQ(reqs[1]["body"]["max_tokens"], 5);
  EXPECT_TRUE(reqs[0]["authorization"].is_null());
  ASSERT_GE(o["chat_responses"].size(), 2u);
  EXPECT_EQ(o["chat_responses"][0]["mime"], "text/event-stream");

  // The streaming reader gives the same events however the bytes are cut.
  EXPECT_EQ(o["sse"]["whole"].size(), 4u) << o["sse"].dump();
  EXPECT_EQ(o["sse"]["whole"][3], "[DONE]");
  EXPECT_EQ(o["sse"]["whole"][1], "{\"b\":\"你好，世界\"}");
  EXPECT_EQ(o["sse"]["whole"][2], "{\"c\":\"مرحبا\"}\nsecond line");
  EXPECT_TRUE(o["sse"]["bad"].empty()) << o["sse"].dump();
  EXPECT_GT(o["sse"]["cuts"].get<int>(), 100);
  EXPECT_TRUE(o["sse"]["bytewise_ok"]);

  // Nothing but the page's own origin, and not one console message, exception or log entry.
  EXPECT_TRUE(o["other_urls"].empty()) << o["other_urls"].dump();
  EXPECT_TRUE(no_messages(o)) << o["console"].dump() << o["exceptions"].dump() << o["log"].dump();

  // A screenshot of the conversation, kept for a person to look at when NATIVELM_CHAT_PAGE_SHOT
  // names a path.
  if (const char* keep = std::getenv("NATIVELM_CHAT_PAGE_SHOT"))
    std::filesystem::copy_file(dir.file("page.png"), keep, std::filesystem::copy_options::overwrite_existing);

  // With --api-key: the page asks for the key, shows the 401's message, then uses the key.
  const json& k = j["keyed"];
  EXPECT_EQ(k["model_before"], "API key needed (Settings)");
  EXPECT_TRUE(k["settings_shown"]);
  EXPECT_EQ(k["key_focused"], "api-key");
  EXPECT_EQ(k["without_key"]["state"], "error");
  EXPECT_EQ(k["without_key"]["className"], "msg error");
  EXPECT_NE(k["without_key"]["text"].get<std::string>().find("missing API key"), std::string::npos)
      << k["without_key"].dump();
  EXPECT_EQ(k["model"], "tiny-yue");
  EXPECT_EQ(k["stored_key"], "sk-page");
  EXPECT_EQ(k["with_key"]["state"], "done") << k["with_key"].dump();
  EXPECT_FALSE(k["with_key"]["text"].get<std::string>().empty());
  EXPECT_EQ(k["chat_authorization"], json::array({nullptr, "Bearer sk-page"}));
  EXPECT_TRUE(k["console"].empty()) << k["console"].dump();
  EXPECT_TRUE(k["exceptions"].empty()) << k["exceptions"].dump();
  // Chromium logs each 401 response as a network error; nothing else may appear.
  for (const auto& e : k["log"]) {
    EXPECT_EQ(e["source"], "network") << e.dump();
    EXPECT_NE(e["text"].get<std::string>().find("401"), std::string::npos) << e.dump();
  }
}

}  // namespace
}  // namespace nlm::testing
