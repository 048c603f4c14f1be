// The judge's OpenAI chat client over cpp-httplib (chat_client.h).
#include "eval/judge/chat_client.h"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "eval/judge/rate_limiter.h"

namespace nlm::eval::judge {

struct ChatClient::Impl {
  explicit Impl(const std::string& scheme_host_port) : client(scheme_host_port) {}
  httplib::Client client;
};

namespace {

// The error message the API put in a body ({"error": {"message": ...}}), else the body's start.
std::string body_reason(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
    if (e.is_string()) return e.get<std::string>();
  }
  return body;
}

// httplib's transport errors in words a user can act on.
std::string transport_error(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect (refused, or no such host)";
    case httplib::Error::ConnectionTimeout:
      return "connecting timed out";
    case httplib::Error::Read:
      return "no answer (connection closed, or --timeout passed)";
    case httplib::Error::Write:
      return "sending the request failed";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate did not verify";
    default:
      return httplib::to_string(e);
  }
}

}  // namespace

ChatClient::ChatClient(ChatClientOptions options) : o_(std::move(options)) {
  std::string base = o_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const size_t scheme_end = base.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : base.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    usage_error("the endpoint " + echoed(o_.base_url, 120) + " is not an http:// or https:// URL", "--endpoint",
                "give the API's base URL, e.g. http://127.0.0.1:8080/v1");
  const size_t path_at = base.find('/', scheme_end + 3);
  const std::string host_port = base.substr(0, path_at);
  if (host_port.size() <= scheme_end + 3)
    usage_error("the endpoint " + echoed(o_.base_url, 120) + " has no host", "--endpoint",
                "give the API's base URL, e.g. http://127.0.0.1:8080/v1");
  const std::string prefix = path_at == std::string::npos ? "" : base.substr(path_at);
  path_ = prefix + "/chat/completions";
  url_ = host_port + path_;
  impl_ = std::make_unique<Impl>(host_port);
  if (!impl_->client.is_valid())
    usage_error("the endpoint " + echoed(o_.base_url, 120) + " cannot be used", "--endpoint",
                "give the API's base URL, e.g. http://127.0.0.1:8080/v1");
  const auto secs = static_cast<time_t>(o_.timeout);
  const auto usecs = static_cast<time_t>((o_.timeout - double(secs)) * 1e6);
  impl_->client.set_connection_timeout(secs, usecs);
  impl_->client.set_read_timeout(secs, usecs);
  impl_->client.set_write_timeout(secs, usecs);
  if (!o_.api_key.empty()) impl_->client.set_bearer_token_auth(o_.api_key);
  limiter_ = o_.limiter;
  if (!limiter_ && o_.requests_per_minute > 0) limiter_ = std::make_shared<RateLimiter>(o_.requests_per_minute, 0);
}

ChatClient::~ChatClient() = default;

ChatReply ChatClient::complete(const std::string& system, const std::string& user) {
  return complete(std::vector<ChatMessage>{{"system", system}, {"user", user}});
}

ChatReply ChatClient::complete(const std::vector<ChatMessage>& messages) {
  nlohmann::json list = nlohmann::json::array();
  size_t prompt_bytes = 0;
  for (const auto& m : messages) {
    list.push_back({{"role", m.role}, {"content", m.content}});
    prompt_bytes += m.content.size();
  }
  const int64_t estimate = RateLimiter::estimate(prompt_bytes, o_.max_tokens);
  nlohmann::json body = {
      {"messages", std::move(list)},
      {"temperature", o_.temperature},
      {"max_tokens", o_.max_tokens},
      {"n", 1}};
  if (!o_.model.empty()) body["model"] = o_.model;
  const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ChatReply reply;
  std::string last_failure;
  for (int attempt = 0; attempt <= o_.retries; ++attempt) {
    if (attempt > 0) {
      const double wait = std::min(60.0, o_.retry_wait * double(1ull << std::min(attempt - 1, 20)));
      log::warn(o_.role + " request failed (" + last_failure + "); retry " + std::to_string(attempt) + " of " +
                std::to_string(o_.retries));
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
    if (limiter_) limiter_->acquire(estimate);
    reply.attempts = attempt + 1;
    auto res = impl_->client.Post(path_, text, "application/json");
    if (!res) {
      last_failure = transport_error(res.error());
      continue;
    }
    const int status = res->status;
    if (status >= 500 || status == 429) {
      last_failure = "HTTP " + std::to_string(status) + ": " + printable(body_reason(res->body), 80);
      continue;
    }
    if (status == 401 || status == 403 || status == 404)
      runtime_error("the " + o_.role + " endpoint refused the request with HTTP " + std::to_string(status) + ": " +
                        printable(body_reason(res->body), 80),
                    url_, status == 404 ? "check --endpoint and " + o_.model_flag : o_.key_hint);
    if (status != 200) {
      reply.error = "HTTP " + std::to_string(status) + ": " + printable(body_reason(res->body), 120);
      return reply;
    }
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      reply.error = "the endpoint's answer is not JSON: " + echoed(res->body, 60);
      return reply;
    }
    if (j.contains("usage") && j["usage"].is_object()) {
      const auto& u = j["usage"];
      if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer())
        reply.prompt_tokens = u["prompt_tokens"].get<int64_t>();
      if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
        reply.completion_tokens = u["completion_tokens"].get<int64_t>();
      // The budget holds what the endpoint says was used; without usage the estimate stands.
      if (limiter_ && (reply.prompt_tokens || reply.completion_tokens))
        limiter_->settle(estimate, reply.prompt_tokens + reply.completion_tokens);
    }
    const nlohmann::json* msg = nullptr;
    if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty() && j["choices"][0].is_object() &&
        j["choices"][0].contains("message") && j["choices"][0]["message"].is_object())
      msg = &j["choices"][0]["message"];
    if (!msg || !msg->contains("content") || !(*msg)["content"].is_string()) {
      reply.error = "the endpoint's answer has no choices[0].message.content string";
      return reply;
    }
    reply.content = (*msg)["content"].get<std::string>();
    const auto& choice = j["choices"][0];
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string())
      reply.finish_reason = choice["finish_reason"].get<std::string>();
    reply.ok = true;
    return reply;
  }
  runtime_error("the " + o_.role + " endpoint failed after " + std::to_string(o_.retries + 1) +
                    (o_.retries ? " tries (" : " try (") + printable(last_failure, 80) + ")",
                url_, "check that the server is up, or raise --retries / --retry-wait");
}

}  // namespace nlm::eval::judge
