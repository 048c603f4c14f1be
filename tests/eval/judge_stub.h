// A scripted OpenAI-compatible judge for the judge tests: cpp-httplib serving
// POST /v1/chat/completions on a free loopback port in a thread, answering each request with
// what the test's script returns for its system and user messages.
#pragma once
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace nlm::testing {

// The objects of a JSONL file (the judge's and synth's outputs), one per line.
inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

struct StubReply {
  int status = 200;
  std::string content;  // the judge's text (status 200, raw empty)
  std::string raw;      // when set, the whole body, sent as is
  StubReply() = default;
  StubReply(int s, std::string c, std::string r = {}) : status(s), content(std::move(c)), raw(std::move(r)) {}
};

class StubJudge {
 public:
  using Script = std::function<StubReply(const std::string& system, const std::string& user)>;
  explicit StubJudge(Script script) : script_(std::move(script)) {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      auto body = nlohmann::json::parse(req.body);
      StubReply r;
      {
        std::lock_guard<std::mutex> lock(mu_);
        bodies_.push_back(body);
        authorization_.push_back(req.get_header_value("Authorization"));
        // The system message (when the first is one) and the last message: a judge's or a
        // generator's pair, or a bare user prompt (synth prefs sends the conversation as it is).
        const auto& ms = body["messages"];
        const std::string system =
            ms.size() > 1 && ms[0]["role"] == "system" ? ms[0]["content"].get<std::string>() : "";
        r = script_(system, ms.back()["content"].get<std::string>());
      }
      res.status = r.status;
      if (!r.raw.empty()) {
        res.set_content(r.raw, "application/json");
        return;
      }
      nlohmann::json out;
      if (r.status == 200) {
        out = {
            {"id", "chatcmpl-1"},
            {"object", "chat.completion"},
            {"model", body.value("model", "stub")},
            {"choices",
             {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", r.content}}}, {"finish_reason", "stop"}}}},
            {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 7}, {"total_tokens", 107}}}};
      } else {
        out = {{"error", {{"message", "scripted failure"}, {"type", "server_error"}}}};
      }
      res.set_content(out.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~StubJudge() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  size_t requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_.size();
  }
  std::vector<nlohmann::json> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::vector<std::string> authorization() {
    std::lock_guard<std::mutex> lock(mu_);
    return authorization_;
  }

 private:
  Script script_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mu_;
  std::vector<nlohmann::json> bodies_;
  std::vector<std::string> authorization_;
};

// The text between "[The Start of Assistant A's Answer]\n" and the next newline: which answer a
// pairwise prompt shows first.
inline std::string first_answer(const std::string& user) {
  const std::string mark = "[The Start of Assistant A's Answer]\n";
  const size_t at = user.find(mark);
  if (at == std::string::npos) return "";
  return user.substr(at + mark.size(), user.find('\n', at + mark.size()) - at - mark.size());
}

// The text after "[Question]\n" up to the next newline (single prompts).
inline std::string question_of(const std::string& user) {
  const std::string mark = "[Question]\n";
  const size_t at = user.find(mark);
  if (at == std::string::npos) return "";
  return user.substr(at + mark.size(), user.find('\n', at + mark.size()) - at - mark.size());
}

}  // namespace nlm::testing
