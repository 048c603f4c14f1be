// Shared by the in-process API tests: the tiny model folder served by an Engine and an Api,
// without HTTP, so a test calls the endpoints as functions.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/api.h"
#include "serve/api_error.h"
#include "serve/options.h"
#include "serve_fixture.h"

namespace nlm::testing {

struct TinyServer {
  TempDir dir;
  serve::ServeOptions options;
  std::unique_ptr<serve::Engine> engine;
  std::unique_ptr<serve::Api> api;
  explicit TinyServer(int queue = 1, int max_prompt_tokens = 0, const std::string& chat_template = "") {
    write_tiny_model(dir.file("m"));
    if (!chat_template.empty()) write_text(dir.file("m/chat_template.jinja"), chat_template);
    options.model_dir = dir.file("m");
    options.queue = queue;
    options.max_prompt_tokens = max_prompt_tokens;
    engine = std::make_unique<serve::Engine>(options);
    api = std::make_unique<serve::Api>(*engine, serve::RequestLimits{64, 16, 4});
  }
  // The parsed body of a 200 answer (not streamed).
  nlohmann::json call(const nlohmann::json& body, bool chat = false) {
    return nlohmann::json::parse(api->generate(body.dump(), chat).body);
  }
  // The events of a streamed answer, parsed, up to [DONE] (not included).
  std::vector<nlohmann::json> stream(const nlohmann::json& body, bool chat = false) {
    auto reply = api->generate(body.dump(), chat);
    std::vector<nlohmann::json> events;
    if (!reply.stream) return events;
    std::string sent;
    reply.stream([&](const std::string& e) {
      sent += e;
      return true;
    });
    for (size_t p = 0; (p = sent.find("data: ", p)) != std::string::npos;) {
      size_t end = sent.find("\n\n", p);
      std::string data = sent.substr(p + 6, end - p - 6);
      p = end;
      if (data != "[DONE]") events.push_back(nlohmann::json::parse(data));
    }
    return events;
  }
  // The ApiError a request raises (status 0 when it raises none).
  serve::ApiError error_of(const nlohmann::json& body, bool chat = false) {
    try {
      api->generate(body.dump(), chat);
    } catch (const serve::ApiError& e) {
      return e;
    }
    return serve::ApiError(0, "no error");
  }
  int status_of(const std::string& body, bool chat = false) {
    try {
      return api->generate(body, chat).status;
    } catch (const serve::ApiError& e) {
      return e.status;
    }
  }
};

}  // namespace nlm::testing
