// Strict reading of OpenAI request bodies (see request.h).
#include "serve/request.h"

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <optional>
#include <set>

#include "serve/api_error.h"
#include "serve/schema_order.h"

namespace nlm::serve {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& param, const std::string& message) { throw ApiError(400, message, param); }

double number(const json& v, const std::string& key, double lo, double hi) {
  if (!v.is_number()) bad(key, "'" + key + "' must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    bad(key, "'" + key + "' must be between " + json(lo).dump() + " and " + json(hi).dump());
  return d;
}

int64_t integer(const json& v, const std::string& key, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) bad(key, "'" + key + "' must be an integer");
  bool in_range = v.is_number_unsigned()
                      ? v.get<uint64_t>() <= static_cast<uint64_t>(hi) && static_cast<int64_t>(v.get<uint64_t>()) >= lo
                      : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
  if (!in_range) bad(key, "'" + key + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>()) : v.get<int64_t>();
}

bool boolean(const json& v, const std::string& key) {
  if (!v.is_boolean()) bad(key, "'" + key + "' must be true or false");
  return v.get<bool>();
}

std::vector<std::string> strings(const json& v, const std::string& key, size_t max_items) {
  std::vector<std::string> out;
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array() || v.empty()) bad(key, "'" + key + "' must be a string or a non-empty list of strings");
  if (v.size() > max_items) bad(key, "'" + key + "' has more than " + std::to_string(max_items) + " items");
  for (auto& s : v) {
    if (!s.is_string()) bad(key, "'" + key + "' must be a string or a list of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

// OpenAI's four shapes of `prompt`: a string, a list of strings, a list of token ids, or a list of
// such lists (lm-evaluation-harness's local-completions sends token ids).
void prompts_of(const json& v, GenerationRequest& r) {
  const char* shapes = "'prompt' must be a string, a list of strings, a list of token ids or a list of lists of token ids";
  auto ids_of = [&](const json& list) {
    if (!list.is_array() || list.empty()) bad("prompt", shapes);
    std::vector<int32_t> ids;
    for (auto& t : list) {
      if (!t.is_number_integer()) bad("prompt", shapes);
      const bool ok = t.is_number_unsigned() ? t.get<uint64_t>() <= 0x7fffffffu
                                             : t.get<int64_t>() >= 0 && t.get<int64_t>() <= 0x7fffffff;
      if (!ok) bad("prompt", "'prompt' token ids must be between 0 and 2147483647");
      ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
    r.prompt_ids.push_back(std::move(ids));
  };
  if (v.is_string() || (v.is_array() && !v.empty() && v[0].is_string())) {
    r.prompts = strings(v, "prompt", 64);
  } else if (v.is_array() && !v.empty() && v[0].is_number()) {
    ids_of(v);
  } else {
    if (!v.is_array() || v.empty()) bad("prompt", shapes);
    if (v.size() > 64) bad("prompt", "'prompt' has more than 64 items");
    for (auto& p : v) ids_of(p);
  }
}

// Chat messages: objects with a string role and string (or text-part list) content, passed to
// the template as they came.
nlohmann::ordered_json messages_of(const json& v, const nlohmann::ordered_json& in_order) {
  if (!v.is_array() || v.empty()) bad("messages", "'messages' must be a non-empty list");
  for (auto& m : v) {
    if (!m.is_object()) bad("messages", "each message must be an object");
    if (!m.contains("role") || !m["role"].is_string()) bad("messages", "each message needs a string 'role'");
    if (!m.contains("content")) continue;  // e.g. an assistant turn with tool_calls
    auto& c = m["content"];
    if (c.is_string() || c.is_null()) continue;
    if (!c.is_array()) bad("messages", "a message's 'content' must be a string or a list of text parts");
    for (auto& part : c)
      if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") ||
          !part["text"].is_string())
        bad("messages", "only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
  }
  for (auto& m : v) {
    if (!m.contains("tool_calls") || m["tool_calls"].is_null()) continue;
    if (!m["tool_calls"].is_array()) bad("messages", "a message's 'tool_calls' must be a list");
    for (auto& tc : m["tool_calls"]) {
      const bool ok = tc.is_object() && tc.contains("function") && tc["function"].is_object() &&
                      tc["function"].contains("name") && tc["function"]["name"].is_string() &&
                      (!tc["function"].contains("arguments") || tc["function"]["arguments"].is_string() ||
                       tc["function"]["arguments"].is_object());
      if (!ok)
        bad("messages", "each of a message's 'tool_calls' must be {\"id\", \"type\": \"function\", \"function\": "
                        "{\"name\": string, \"arguments\": JSON string}}");
    }
  }
  // The same messages with the keys in the order the client sent them, for the template (HF
  // renders tool-call arguments given as objects in that order).
  return in_order;
}

// Fields accepted only at their "off" value: anything else would be silently ignored.
bool is_off(const json& v) {
  return v.is_null() || (v.is_boolean() && !v.get<bool>()) || (v.is_number() && v.get<double>() == 0.0);
}

// tools: [{"type": "function", "function": {"name", "description", "parameters", "strict"}}], at
// most 128, names of 1-64 letters, digits, '_' or '-', each once.
nlohmann::ordered_json tools_of(const json& v, const nlohmann::ordered_json& in_order) {
  const std::string key = "tools";
  if (!v.is_array()) bad(key, "'tools' must be a list of {\"type\": \"function\", \"function\": {...}}");
  if (v.size() > 128) bad(key, "'tools' has more than 128 tools");
  std::set<std::string> names;
  for (auto& t : v) {
    if (!t.is_object() || t.value("type", json()) != "function" || !t.contains("function") || !t["function"].is_object())
      bad(key, "each tool must be {\"type\": \"function\", \"function\": {\"name\", ...}}");
    for (auto& [k, x] : t.items())
      if (k != "type" && k != "function") bad(key, "unknown field 'tools[]." + k + "'");
    const json& f = t["function"];
    for (auto& [k, x] : f.items()) {
      if (k == "name") {
        const std::string name = x.is_string() ? x.get<std::string>() : std::string();
        const bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        });
        if (!ok) bad(key, "a tool's 'function.name' must be 1 to 64 letters, digits, '_' or '-'");
        if (!names.insert(name).second) bad(key, "the tool name '" + name + "' is given twice");
      } else if (k == "description") {
        if (!x.is_string()) bad(key, "a tool's 'function.description' must be a string");
      } else if (k == "parameters") {
        if (!x.is_object()) bad(key, "a tool's 'function.parameters' must be a JSON schema object");
      } else if (k == "strict") {
        if (!x.is_null() && !x.is_boolean()) bad(key, "a tool's 'function.strict' must be true or false");
      } else {
        bad(key, "unknown field 'tools[].function." + k + "'");
      }
    }
    if (!f.contains("name")) bad(key, "each tool's 'function' needs a 'name'");
  }
  return in_order;  // in the client's key order, as the template renders them
}

// tool_choice: "none", "auto", "required", or {"type": "function", "function": {"name"}}.
void tool_choice_of(const json& v, GenerationRequest& r) {
  const std::string key = "tool_choice";
  if (v.is_string()) {
    r.tool_choice = v.get<std::string>();
    if (r.tool_choice == "none" || r.tool_choice == "auto" || r.tool_choice == "required") return;
  } else if (v.is_object() && v.size() == 2 && v.value("type", json()) == "function" && v.contains("function") &&
             v["function"].is_object() && v["function"].size() == 1 && v["function"].contains("name") &&
             v["function"]["name"].is_string()) {
    r.tool_choice = "function";
    r.tool_name = v["function"]["name"].get<std::string>();
    return;
  }
  bad(key, "'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}");
}

// logit_bias: {"TOKEN_ID": bias, ...}, ids as decimal strings below the vocabulary size, biases
// from -100 to 100 (OpenAI's). At most 1024 entries.
std::vector<std::pair<int32_t, float>> logit_bias_of(const json& v, int64_t vocab) {
  const std::string key = "logit_bias";
  if (!v.is_object()) bad(key, "'logit_bias' must be an object mapping token ids (as strings) to biases from -100 to 100");
  if (v.size() > 1024) bad(key, "'logit_bias' has more than 1024 entries");
  std::vector<std::pair<int32_t, float>> out;
  for (auto& [k, b] : v.items()) {
    const bool digits = !k.empty() && k.size() <= 10 && std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; });
    const int64_t id = digits ? std::stoll(k) : -1;
    if (id < 0 || id > INT32_MAX)
      bad(key, "invalid key in 'logit_bias': " + json(k).dump() + " is not a token id (a decimal integer string)");
    if (vocab > 0 && id >= vocab)
      bad(key, "'logit_bias' names token " + k + ", past the model's vocabulary of " + std::to_string(vocab));
    if (!b.is_number() || !std::isfinite(b.get<double>()) || b.get<double>() < -100 || b.get<double>() > 100)
      bad(key, "'logit_bias' values must be numbers from -100 to 100 (token " + k + ")");
    out.emplace_back(static_cast<int32_t>(id), static_cast<float>(b.get<double>()));
  }
  return out;
}

// response_format: {"type": "text"} (nullptr), {"type": "json_object"} or {"type": "json_schema",
// "json_schema": {"name", "description", "schema", "strict"}}.
std::shared_ptr<const JsonSchema> response_format(const json& v, const nlohmann::ordered_json& in_order) {
  const std::string key = "response_format";
  if (!v.is_object() || !v.contains("type") || !v["type"].is_string())
    bad(key, "'response_format' must be an object with a string 'type'");
  const std::string type = v["type"].get<std::string>();
  for (auto& [k, x] : v.items())
    if (k != "type" && !(type == "json_schema" && k == "json_schema"))
      bad(key, "unknown field 'response_format." + k + "'");
  if (type == "text") return nullptr;
  if (type == "json_object") return JsonSchema::any_object();
  if (type != "json_schema")
    bad(key, "'response_format.type' must be \"text\", \"json_object\" or \"json_schema\"");
  if (!v.contains("json_schema") || !v["json_schema"].is_object())
    bad(key, "'response_format.json_schema' must be an object");
  const json& js = v["json_schema"];
  for (auto& [k, x] : js.items()) {
    if (k == "name") {
      if (!x.is_string()) bad(key, "'response_format.json_schema.name' must be a string");
    } else if (k == "description") {
      if (!x.is_string()) bad(key, "'response_format.json_schema.description' must be a string");
    } else if (k == "strict") {  // the schema is enforced either way
      if (!x.is_null() && !x.is_boolean()) bad(key, "'response_format.json_schema.strict' must be true or false");
    } else if (k != "schema") {
      bad(key, "unknown field 'response_format.json_schema." + k + "'");
    }
  }
  // Without a schema, OpenAI takes any JSON object.
  if (!js.contains("schema") || js["schema"].is_null()) return JsonSchema::any_object();
  // Properties come in the schema's order, as OpenAI, llama.cpp and vLLM write them (schema_order.h).
  return JsonSchema::compile(with_source_property_order(in_order["json_schema"]["schema"]), key);
}

}  // namespace

json parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) bad("", "the request body is not valid JSON (or not valid UTF-8)");
  if (!j.is_object()) bad("", "the request body must be a JSON object");
  return j;
}

GenerationRequest parse_generation_request(const std::string& body, bool chat, const RequestLimits& limits) {
  json j = parse_object(body);
  // nlohmann::json sorts object keys; where the client's order matters (messages and tools for the
  // template, a response schema's properties) the body is read once more with its keys in order.
  std::optional<nlohmann::ordered_json> ordered;
  auto in_order = [&](const std::string& key) -> const nlohmann::ordered_json& {
    if (!ordered) ordered = nlohmann::ordered_json::parse(body);
    return (*ordered)[key];
  };
  GenerationRequest r;
  r.max_tokens = limits.default_max_tokens;
  static const std::set<std::string> chat_only = {"tools", "tool_choice", "parallel_tool_calls"};
  bool chat_logprobs = false;
  int top_logprobs = -1;
  for (auto& [key, v] : j.items()) {
    if (key == "model") {
      if (!v.is_string()) bad(key, "'model' must be a string");
      r.model = v.get<std::string>();
    } else if (!chat && key == "prompt") {
      prompts_of(v, r);
    } else if (chat && key == "messages") {
      r.messages = messages_of(v, in_order(key));
    } else if (key == "max_tokens" || (chat && key == "max_completion_tokens")) {
      if (v.is_null()) continue;
      r.max_tokens = static_cast<int>(integer(v, key, 0, limits.max_tokens));
    } else if (key == "temperature") {
      if (!v.is_null()) r.temperature = number(v, key, 0, 2);
    } else if (key == "top_p") {
      if (!v.is_null()) r.top_p = number(v, key, 0, 1);
      if (r.top_p == 0) r.top_p = 1e-9;  // 0 would keep nothing; the most likely token is kept
    } else if (key == "top_k") {
      if (!v.is_null()) r.top_k = static_cast<int>(integer(v, key, 0, 1 << 20));
    } else if (key == "min_p") {
      if (!v.is_null()) r.min_p = number(v, key, 0, 1);
    } else if (key == "repetition_penalty") {
      if (!v.is_null()) r.repetition_penalty = number(v, key, 0.01, 100);
    } else if (key == "presence_penalty") {
      if (!v.is_null()) r.presence_penalty = number(v, key, -2, 2);
    } else if (key == "frequency_penalty") {
      if (!v.is_null()) r.frequency_penalty = number(v, key, -2, 2);
    } else if (key == "logprobs") {
      if (v.is_null()) continue;
      if (chat)
        chat_logprobs = boolean(v, key);
      else
        r.logprobs = static_cast<int>(integer(v, key, 0, 20));
    } else if (chat && key == "top_logprobs") {
      if (!v.is_null()) top_logprobs = static_cast<int>(integer(v, key, 0, 20));
    } else if (key == "seed") {
      if (!v.is_null()) r.seed = static_cast<uint64_t>(integer(v, key, INT64_MIN, INT64_MAX));
    } else if (key == "n") {
      if (!v.is_null()) r.n = static_cast<int>(integer(v, key, 1, limits.max_n));
    } else if (key == "stop") {
      if (!v.is_null()) r.stop = strings(v, key, 4);
      for (auto& s : r.stop)
        if (s.empty()) bad(key, "stop strings must not be empty");
    } else if (key == "stream") {
      if (!v.is_null()) r.stream = boolean(v, key);
    } else if (key == "stream_options") {
      if (v.is_null()) continue;
      if (!v.is_object()) bad(key, "'stream_options' must be an object");
      for (auto& [k2, v2] : v.items()) {
        if (k2 != "include_usage") bad(key, "unknown field 'stream_options." + k2 + "'");
        r.include_usage = boolean(v2, "stream_options.include_usage");
      }
    } else if (key == "suffix") {
      if (chat && !is_off(v) && v != "") bad(key, "'suffix' is only for /v1/completions");
      if (!chat && !v.is_null()) {
        if (!v.is_string()) bad(key, "'suffix' must be a string");
        if (!v.get<std::string>().empty()) r.suffix = v.get<std::string>();
      }
    } else if (key == "best_of") {
      if (chat && !is_off(v)) bad(key, "'best_of' is only for /v1/completions; chat has none (use n)");
      if (!chat && !v.is_null()) r.best_of = static_cast<int>(integer(v, key, 1, limits.max_n));
    } else if (key == "echo") {  // chat has no echo: accepted only when off
      if (chat && !is_off(v)) bad(key, "'echo' is not supported by this server yet");
      if (!chat && !v.is_null()) r.echo = boolean(v, key);
    } else if (chat && key == "tools") {
      if (!v.is_null() && !v.empty()) r.tools = tools_of(v, in_order(key));
    } else if (chat && key == "tool_choice") {
      if (!v.is_null()) tool_choice_of(v, r);
    } else if (chat && key == "parallel_tool_calls") {
      if (!v.is_null()) r.parallel_tool_calls = boolean(v, key);
    } else if (chat_only.count(key)) {
      if (!is_off(v)) bad(key, "'" + key + "' is only for /v1/chat/completions");
    } else if (key == "logit_bias") {
      if (!v.is_null()) r.logit_bias = logit_bias_of(v, limits.vocab_size);
    } else if (key == "user") {
      if (!v.is_string()) bad(key, "'user' must be a string");
    } else if (key == "response_format") {
      if (!v.is_null()) r.response_schema = response_format(v, in_order(key));
    } else {
      bad(key, "unknown field '" + key + "'");
    }
  }
  if (chat && top_logprobs >= 0 && !chat_logprobs) bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
  if (chat && chat_logprobs) r.logprobs = std::max(top_logprobs, 0);
  if (!chat && r.prompts.empty() && r.prompt_ids.empty()) bad("prompt", "'prompt' is required");
  if (chat && r.messages.is_null()) bad("messages", "'messages' is required");
  if (r.tool_choice == "required" || r.tool_choice == "function") {
    if (r.tools.is_null()) bad("tool_choice", "'tool_choice' \"" + r.tool_choice + "\" needs 'tools'");
    if (r.response_schema) bad("tool_choice", "'tool_choice' \"" + r.tool_choice + "\" cannot be combined with a JSON 'response_format'");
  }
  if (r.tool_choice == "function") {
    bool found = false;
    for (auto& t : r.tools) found |= t["function"]["name"] == r.tool_name;
    if (!found) bad("tool_choice", "'tool_choice' names the function '" + r.tool_name + "', which 'tools' does not declare");
  }
  if (r.include_usage && !r.stream) bad("stream_options", "'stream_options' needs 'stream': true");
  if (r.suffix && !r.prompt_ids.empty()) bad("suffix", "'suffix' needs text prompts, not token ids");
  if (r.suffix && r.echo) bad("suffix", "'suffix' cannot be combined with 'echo'");
  if (r.best_of && r.best_of < r.n) bad("best_of", "'best_of' must be at least 'n'");
  if (r.best_of > r.n && r.stream) bad("best_of", "'best_of' above 'n' cannot be streamed (the best are known at the end)");
  if ((r.prompts.size() + r.prompt_ids.size()) * static_cast<size_t>(std::max(r.n, r.best_of)) > 64)
    bad(r.best_of > r.n ? "best_of" : "n", "prompts times n (or best_of) must be at most 64");
  return r;
}

}  // namespace nlm::serve
