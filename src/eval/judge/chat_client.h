// A client for one OpenAI-compatible endpoint's POST /v1/chat/completions, as the judge and synth
// need it: retries with exponential backoff on connection errors, HTTP 5xx and 429, a rate limit
// (its own, or one RateLimiter shared by every client of a run), and the endpoint's reported token
// usage. cpp-httplib stays in the .cc file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nlm::eval::judge {

class RateLimiter;

struct ChatClientOptions {
  std::string base_url;  // http(s)://host[:port][/prefix]; "/chat/completions" is appended
  std::string model;     // "" = no "model" member
  std::string api_key;   // "" = no Authorization header
  int max_tokens = 1024;
  double temperature = 0;
  int retries = 3;
  double retry_wait = 1;  // seconds before the first retry, doubled for each next one (capped at 60 s)
  double timeout = 120;   // seconds for connecting and for reading the answer
  double requests_per_minute = 0;  // this client's own limit, used when `limiter` is null
  std::shared_ptr<RateLimiter> limiter;  // shared by several clients; null = none or own
  std::string role = "judge";                 // what the endpoint is, in messages ("judge", "generator")
  std::string model_flag = "--judge-model";  // the flag naming the model, in hints
  std::string key_hint = "check --api-key or OPENAI_API_KEY";  // the hint for a refused key
};

struct ChatMessage {
  std::string role, content;
};

struct ChatReply {
  bool ok = false;
  std::string content;  // choices[0].message.content
  std::string finish_reason;
  int64_t prompt_tokens = 0, completion_tokens = 0;  // the endpoint's usage (0 when it sends none)
  std::string error;                                 // why !ok: the record fails, the run goes on
  int attempts = 0;
};

class ChatClient {
 public:
  // Throws a usage error for a URL it cannot use.
  explicit ChatClient(ChatClientOptions options);
  ~ChatClient();
  // One chat completion of a system and a user message. A reply the record cannot use (an HTTP
  // 4xx, a body that is not the API's JSON) comes back with ok = false and the reason. An
  // endpoint that cannot be reached, or that still answers 5xx/429 after the retries, or refuses
  // the key or the model (401, 403, 404), throws a runtime error naming the URL.
  ChatReply complete(const std::string& system, const std::string& user);
  // The same for any list of messages (a conversation to continue).
  ChatReply complete(const std::vector<ChatMessage>& messages);
  const std::string& url() const { return url_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ChatClientOptions o_;
  std::string url_;   // scheme://host:port + path_, for messages
  std::string path_;  // the request path, the base URL's prefix + /chat/completions
  std::shared_ptr<RateLimiter> limiter_;
};

}  // namespace nlm::eval::judge
