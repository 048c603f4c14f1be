// The fields of an OpenAI /v1/completions or /v1/chat/completions request, read from its JSON
// body with strict types and limits. Anything wrong (bad JSON, a wrong type, a number out of
// range, a field this server does not implement) throws ApiError 400 naming the field, so a
// request is either understood completely or refused.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/json_constraint.h"

namespace nlm::serve {

struct RequestLimits {
  int max_tokens = 512;          // ceiling on max_tokens
  int default_max_tokens = 128;  // when the request gives none
  int max_n = 8;
  int64_t vocab_size = 0;        // logit_bias ids must be below it (0 = not checked)
};

struct GenerationRequest {
  std::string model;                  // "" when absent
  std::vector<std::string> prompts;   // /v1/completions: one or more prompts
  std::vector<std::vector<int32_t>> prompt_ids;  // or token-id prompts (then `prompts` is empty)
  nlohmann::ordered_json messages;    // /v1/chat/completions: the conversation
  int max_tokens = 0;
  double temperature = 1.0;           // OpenAI's defaults: temperature 1, top_p 1, no top-k
  double top_p = 1.0;
  int top_k = 0;
  double min_p = 0.0;
  double repetition_penalty = 1.0;
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  int logprobs = -1;                  // -1 off; else alternatives per token (chat: top_logprobs)
  std::optional<uint64_t> seed;
  int n = 1;
  // completions: candidates generated per prompt, of which the n with the highest mean logprob
  // per token are returned (0: n). Not with stream.
  int best_of = 0;
  std::vector<std::string> stop;
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token id, bias in [-100, 100])
  bool echo = false;                  // completions: the prompt comes back before the completion
  // completions: text after the insertion point; the prompt is the text before it, and the model
  // fills in the middle through its FIM tokens (Engine::encode_infill).
  std::optional<std::string> suffix;
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  // Chat tools: the OpenAI tool list (null when none), tool_choice ("none", "auto", "required",
  // or "function" with tool_name), and parallel_tool_calls (false keeps only the first call).
  nlohmann::ordered_json tools;
  std::string tool_choice = "auto";
  std::string tool_name;
  bool parallel_tool_calls = true;
  // response_format json_object or json_schema: the answer must be JSON this schema accepts.
  std::shared_ptr<const JsonSchema> response_schema;
};

// Parses a request body; `chat` selects the chat endpoint's fields.
GenerationRequest parse_generation_request(const std::string& body, bool chat, const RequestLimits& limits);

// Parses a body that must be a JSON object (for /tokenize and /detokenize).
nlohmann::json parse_object(const std::string& body);

}  // namespace nlm::serve
