// The OpenAI-compatible endpoints as plain functions from a request body to a reply, apart from
// HTTP (server.cc maps routes to them): /v1/models, /v1/completions, /v1/chat/completions (plain
// or streamed as server-sent events), and llama-server's /tokenize and /detokenize.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "serve/engine.h"
#include "serve/request.h"

namespace nlm::serve {

struct Reply {
  int status = 200;
  std::string body;  // JSON
  // Set for `stream: true`: writes the SSE events through `send`, which returns false once the
  // client has gone. The ticket is held until the stream ends.
  std::function<void(const std::function<bool(const std::string&)>& send)> stream;
};

class Api {
 public:
  Api(Engine& engine, RequestLimits limits) : engine_(engine), limits_(limits) {
    if (limits_.vocab_size == 0) limits_.vocab_size = engine.vocab_size();
  }
  Reply models() const;
  // /v1/completions (chat = false) and /v1/chat/completions (chat = true). Throws ApiError.
  Reply generate(const std::string& body, bool chat);
  Reply tokenize(const std::string& body) const;
  Reply detokenize(const std::string& body) const;

 private:
  nlohmann::ordered_json logprobs_json(const std::vector<TokenLogprob>& tokens, bool chat, size_t& text_offset) const;
  Engine& engine_;
  RequestLimits limits_;
};

}  // namespace nlm::serve
