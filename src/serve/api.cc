// OpenAI response shapes for completions, chat completions and their streamed chunks (see api.h).
#include "serve/api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <numeric>
#include <random>

#include "serve/api_error.h"
#include "serve/schema_order.h"

namespace nlm::serve {

namespace {

using ojson = nlohmann::ordered_json;

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string new_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s-%016llx", prefix,
                static_cast<unsigned long long>(salt * 0x9E3779B97F4A7C15ull + ++counter));
  return buf;
}

// Thrown from a streaming callback when the client has gone: stops generating for it.
struct ClientGone {};

ojson usage(int prompt, int completion, int cached) {
  ojson u = {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
  u["prompt_tokens_details"] = {{"cached_tokens", cached}};
  return u;
}

ojson bytes_of(const std::string& s) {
  ojson b = ojson::array();
  for (unsigned char c : s) b.push_back(int(c));
  return b;
}

}  // namespace

// OpenAI's logprobs object for `tokens`: chat's {"content": [{token, logprob, bytes,
// top_logprobs}]}, or the legacy completions' parallel lists. text_offset counts characters
// (code points, as Python's str and so OpenAI and vLLM index the text), not bytes, from the start
// of the choice's text, and advances across calls: `text_offset` holds the code points begun so
// far. A byte-level token that starts inside a character points at that character.
ojson Api::logprobs_json(const std::vector<TokenLogprob>& tokens, bool chat, size_t& text_offset) const {
  if (chat) {
    ojson content = ojson::array();
    for (const auto& t : tokens) {
      const std::string text = engine_.token_text(t.token);
      ojson top = ojson::array();
      for (auto [id, lp] : t.top) {
        const std::string alt = engine_.token_text(id);
        top.push_back({{"token", alt}, {"logprob", lp}, {"bytes", bytes_of(engine_.token_bytes(id))}});
      }
      content.push_back({{"token", text}, {"logprob", t.logprob}, {"bytes", bytes_of(engine_.token_bytes(t.token))},
                         {"top_logprobs", top}});
    }
    return {{"content", content}, {"refusal", nullptr}};
  }
  ojson toks = ojson::array(), lps = ojson::array(), tops = ojson::array(), offs = ojson::array();
  for (const auto& t : tokens) {
    const std::string text = engine_.token_text(t.token);
    toks.push_back(text);
    lps.push_back(t.none ? ojson(nullptr) : ojson(t.logprob));
    ojson top = ojson::object();
    for (auto [id, lp] : t.top) {  // tokens whose text is the same (byte pieces) keep the likelier
      const std::string alt = engine_.token_text(id);
      if (!top.contains(alt)) top[alt] = lp;
    }
    tops.push_back(t.none ? ojson(nullptr) : top);
    const std::string bytes = engine_.token_bytes(t.token);
    const bool inside = !bytes.empty() && (static_cast<unsigned char>(bytes[0]) & 0xC0) == 0x80;
    offs.push_back(inside && text_offset > 0 ? text_offset - 1 : text_offset);
    for (unsigned char c : bytes) text_offset += (c & 0xC0) != 0x80;
  }
  return {{"tokens", toks}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

namespace {

// The candidates to return, k per prompt in order: all of them when k == n, else per prompt the
// n with the highest mean logprob per generated token (OpenAI's best_of), best first; ties keep
// the earlier candidate. A candidate with no tokens scores 0 (nothing improbable was said).
std::vector<size_t> best_candidates(const std::vector<Generation>& done, size_t k, size_t n) {
  std::vector<size_t> out(k == n ? done.size() : 0);
  std::iota(out.begin(), out.end(), size_t(0));
  if (k == n) return out;
  for (size_t p0 = 0; p0 < done.size(); p0 += k) {
    std::vector<std::pair<double, size_t>> scored;
    for (size_t c = p0; c < p0 + k && c < done.size(); ++c) {
      double sum = 0;
      for (const TokenLogprob& t : done[c].logprobs) sum += t.logprob;
      scored.emplace_back(done[c].logprobs.empty() ? 0.0 : sum / double(done[c].logprobs.size()), c);
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = 0; i < std::min(n, scored.size()); ++i) out.push_back(scored[i].second);
  }
  return out;
}

// echo's prompt tokens with their logprobs: `scored[i]` is ids[i + 1]'s; a leading BOS is left out
// (it is no part of the prompt's text), and a first token with nothing before it has none.
std::vector<TokenLogprob> echoed(const std::vector<int32_t>& ids, const std::vector<TokenLogprob>& scored, bool bos) {
  std::vector<TokenLogprob> out;
  for (size_t k = bos ? 1 : 0; k < ids.size(); ++k) {
    if (k == 0) {
      TokenLogprob first;
      first.token = ids[0];
      first.none = true;
      out.push_back(first);
    } else if (k - 1 < scored.size()) {
      out.push_back(scored[k - 1]);
    }
  }
  return out;
}

// An answer's text beside tool calls: null when it is only whitespace.
ojson content_or_null(const std::string& text) {
  const size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return nullptr;
  const size_t e = text.find_last_not_of(" \t\r\n");
  return text.substr(b, e - b + 1);
}

// OpenAI's tool_calls list (with "index" in a streamed delta); only the first call when
// parallel calls are off.
// One call as OpenAI writes it, with a fresh id (call_...).
ojson call_json(const std::string& name, const std::string& arguments) {
  std::string id = new_id("call");
  id[4] = '_';
  return {{"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
}

ojson tool_calls_json(const std::vector<ToolCall>& calls, bool parallel) {
  ojson list = ojson::array();
  for (size_t i = 0; i < calls.size() && (parallel || i == 0); ++i) list.push_back(call_json(calls[i].name, calls[i].arguments));
  return list;
}

}  // namespace

Reply Api::models() const {
  ojson m = {{"id", engine_.model_name()}, {"object", "model"}, {"created", now_seconds()}, {"owned_by", "nativelm"}};
  return {200, dump({{"object", "list"}, {"data", ojson::array({m})}}), nullptr};
}

Reply Api::generate(const std::string& body, bool chat) {
  GenerationRequest req = parse_generation_request(body, chat, limits_);
  if (!req.model.empty() && req.model != engine_.model_name())
    throw ApiError(400, "unknown model '" + req.model + "'; this server serves '" + engine_.model_name() + "'",
                   "model", "model_not_found");
  // Validate and encode every prompt before generating anything.
  std::vector<std::vector<int32_t>> prompts;
  // Tools: the template sees them unless tool_choice is "none"; "required" or a named function
  // makes the answer begin with the format's call prefix and constrains the JSON after it.
  const bool tools_on = chat && !req.tools.is_null() && req.tool_choice != "none";
  const ToolCallFormat format = engine_.tool_format();
  std::vector<std::string> tool_names;
  if (tools_on)
    for (auto& t : req.tools) tool_names.push_back(t["function"]["name"].get<std::string>());
  ForcedToolCall forced;
  if (tools_on && (req.tool_choice == "required" || req.tool_choice == "function")) {
    // Each tool's arguments follow its parameters' property order, as a response schema does.
    nlohmann::json tools = nlohmann::json::parse(req.tools.dump());
    for (size_t i = 0; i < tools.size(); ++i)
      if (req.tools[i]["function"].contains("parameters") && req.tools[i]["function"]["parameters"].is_object())
        tools[i]["function"]["parameters"] = with_source_property_order(req.tools[i]["function"]["parameters"]);
    forced = forced_tool_call(format, tools, req.tool_name);
    req.response_schema = forced.schema;
  }
  if (chat) prompts.push_back(engine_.encode_chat(req.messages, tools_on ? req.tools : nlohmann::ordered_json(), forced.prefix));
  for (auto& p : req.prompts) prompts.push_back(req.suffix ? engine_.encode_infill(p, *req.suffix) : engine_.encode_prompt(p));
  // Token-id prompts go in as sent (no BOS added, so a BOS the client put first is echoed like
  // any token); their text, for echo and text_offset, is their decoding.
  const bool id_prompts = !req.prompt_ids.empty();
  for (auto& ids : req.prompt_ids) {
    prompts.push_back(engine_.prompt_of_ids(ids));
    req.prompts.push_back(engine_.detokenize(std::vector<uint32_t>(ids.begin(), ids.end())));
  }
  model::SamplingOptions base;
  base.temperature = req.temperature;
  base.top_p = req.top_p;
  base.top_k = req.top_k;
  base.min_p = req.min_p;
  base.repetition_penalty = req.repetition_penalty;
  base.presence_penalty = req.presence_penalty;
  base.frequency_penalty = req.frequency_penalty;
  base.max_tokens = req.max_tokens;
  base.logit_bias = req.logit_bias;
  base.seed = req.seed ? *req.seed : std::random_device{}() * 0x100000001ull;
  auto ticket = engine_.admit();
  if (!ticket) ++engine_.metrics().requests_rejected;
  if (!ticket)
    throw ApiError(429, "the server is busy (its request queue is full); retry later", "", "rate_limit_exceeded",
                   "rate_limit_error");
  const std::string id = new_id(chat ? "chatcmpl" : "cmpl");
  const std::string object = chat ? "chat.completion" : "text_completion";
  const int64_t created = now_seconds();
  const std::string model = engine_.model_name();
  // Each candidate in order: prompt-major, then k = max(n, best_of) per prompt; candidate i uses
  // seed + i so they differ. best_of > n scores candidates by their tokens' logprobs.
  const size_t k = static_cast<size_t>(std::max(req.n, req.best_of));
  const bool scoring = k > static_cast<size_t>(req.n);
  auto run = [this, prompts, base, req, k, scoring](size_t choice, const std::function<void(const Piece&)>& on_piece) {
    model::SamplingOptions s = base;
    s.seed = base.seed + choice;
    return engine_.generate(prompts[choice / k], s, req.stop, on_piece, scoring ? std::max(req.logprobs, 0) : req.logprobs,
                            req.response_schema, req.echo && req.logprobs >= 0 ? req.logprobs : -1);
  };
  const bool want_logprobs = req.logprobs >= 0;
  const size_t choices = prompts.size() * k;
  int prompt_tokens = 0;
  for (auto& p : prompts) prompt_tokens += static_cast<int>(p.size() * k);

  if (!req.stream) {
    // Every choice at once: they share decode steps in the batch.
    std::vector<std::future<Generation>> running;
    for (size_t c = 0; c < choices; ++c)
      running.push_back(std::async(std::launch::async, [&run, c] { return run(c, [](const Piece&) {}); }));
    std::vector<Generation> done;
    for (auto& f : running) done.push_back(f.get());
    int completion_tokens = 0, cached = 0;  // of every candidate, returned or not
    for (const Generation& g : done) {
      completion_tokens += g.completion_tokens;
      cached += g.cached_prompt_tokens;
    }
    const std::vector<size_t> returned = best_candidates(done, k, static_cast<size_t>(req.n));
    ojson list = ojson::array();
    for (size_t index = 0; index < returned.size(); ++index) {
      const size_t c = returned[index];
      const Generation& g = done[c];
      ojson choice = {{"index", index}};
      std::string finish = g.finish_reason;
      if (chat && tools_on) {
        ParsedAnswer parsed = parse_tool_calls(forced.prefix + g.text, format, tool_names);
        if (!parsed.calls.empty()) {
          ojson message = {{"role", "assistant"}, {"content", content_or_null(parsed.content)}};
          message["tool_calls"] = tool_calls_json(parsed.calls, req.parallel_tool_calls);
          choice["message"] = message;
          finish = "tool_calls";
        } else {
          choice["message"] = {{"role", "assistant"}, {"content", forced.prefix + g.text}};
        }
      } else if (chat) {
        choice["message"] = {{"role", "assistant"}, {"content", g.text}};
      } else {
        choice["text"] = req.echo ? req.prompts[c / k] + g.text : g.text;
      }
      size_t offset = 0;
      std::vector<TokenLogprob> lps;
      if (req.echo && want_logprobs) {
        const auto& ids = prompts[c / k];
        lps = echoed(ids, g.prompt_logprobs, !id_prompts && engine_.starts_with_bos(ids));
      }
      lps.insert(lps.end(), g.logprobs.begin(), g.logprobs.end());
      choice["logprobs"] = want_logprobs ? logprobs_json(lps, chat, offset) : ojson(nullptr);
      choice["finish_reason"] = finish;
      list.push_back(choice);
    }
    ojson out = {{"id", id}, {"object", object}, {"created", created}, {"model", model}, {"choices", list}};
    out["usage"] = usage(prompt_tokens, completion_tokens, cached);
    return {200, dump(out), nullptr};
  }

  std::shared_ptr<Engine::Ticket> held(std::move(ticket));
  const bool include_usage = req.include_usage;
  Reply reply;
  reply.stream = [=, this](const std::function<bool(const std::string&)>& send) {
    (void)held;  // keeps the request admitted until the stream ends
    const std::string chunk_object = chat ? "chat.completion.chunk" : "text_completion";
    auto event = [&](ojson choice_list, const ojson& use) {
      ojson e = {{"id", id}, {"object", chunk_object}, {"created", created}, {"model", model}, {"choices", choice_list}};
      if (include_usage) e["usage"] = use;
      if (!send("data: " + dump(e) + "\n\n")) throw ClientGone{};
    };
    size_t offset = 0;
    auto choice = [&](size_t c, const std::string* text, const std::string* finish, const Piece* piece = nullptr) {
      ojson ch = {{"index", c}};
      if (chat) {
        ch["delta"] = ojson::object();
        if (text) ch["delta"]["content"] = *text;
      } else {
        ch["text"] = text ? *text : std::string();
      }
      ch["logprobs"] = want_logprobs && piece ? logprobs_json(piece->logprobs, chat, offset) : ojson(nullptr);
      ch["finish_reason"] = finish ? ojson(*finish) : ojson(nullptr);
      return ch;
    };
    try {
      int completion_tokens = 0, cached = 0;
      for (size_t c = 0; c < choices; ++c) {
        offset = 0;
        if (chat) {  // the first chunk of a chat choice names the role
          ojson first = choice(c, nullptr, nullptr);
          first["delta"] = {{"role", "assistant"}, {"content", ""}};
          event(ojson::array({first}), nullptr);
        }
        if (!tools_on) {
          // echo: the prompt first, with its logprobs when asked for (they come before any text).
          bool echo_sent = false;
          auto send_echo = [&](const std::vector<TokenLogprob>& scored) {
            Piece e;
            e.text = req.prompts[c / k];
            const auto& ids = prompts[c / k];
            if (want_logprobs) e.logprobs = echoed(ids, scored, !id_prompts && engine_.starts_with_bos(ids));
            event(ojson::array({choice(c, &e.text, nullptr, &e)}), nullptr);
            echo_sent = true;
          };
          if (req.echo && !want_logprobs) send_echo({});
          Generation g = run(c, [&](const Piece& piece) {
            if (piece.prompt)
              send_echo(piece.logprobs);
            else
              event(ojson::array({choice(c, &piece.text, nullptr, &piece)}), nullptr);
          });
          if (req.echo && !echo_sent) send_echo({});
          completion_tokens += g.completion_tokens;
          cached += g.cached_prompt_tokens;
          event(ojson::array({choice(c, nullptr, &g.finish_reason)}), nullptr);
          continue;
        }
        // Content streams until a tool call may have begun. A call then streams as OpenAI's do:
        // a first tool_calls delta with its id and name, then its arguments piece by piece
        // (ToolCallStream says which calls can); the rest is held and parsed at the end.
        ToolCallStream calls(format, tool_names, req.parallel_tool_calls);
        Piece held;  // the logprobs of held-back text
        auto send_calls = [&](const std::vector<ToolCallDelta>& ds) {
          ojson list = ojson::array();
          for (const ToolCallDelta& d : ds) {
            ojson one = {{"index", d.index}};
            if (d.name.empty()) one["function"] = {{"arguments", d.arguments}};
            else one.update(call_json(d.name, d.arguments));
            list.push_back(one);
          }
          ojson delta = choice(c, nullptr, nullptr, &held);
          if (!list.empty()) delta["delta"]["tool_calls"] = list;
          event(ojson::array({delta}), nullptr);
          held.logprobs.clear();
        };
        calls.push(forced.prefix);
        Generation g = run(c, [&](const Piece& piece) {
          Piece out;
          out.text = calls.push(piece.text);
          const auto deltas = calls.take_deltas();
          if (!out.text.empty() || (!calls.holding() && !piece.logprobs.empty())) {
            out.logprobs = piece.logprobs;
            event(ojson::array({choice(c, &out.text, nullptr, &out)}), nullptr);
          } else {
            held.logprobs.insert(held.logprobs.end(), piece.logprobs.begin(), piece.logprobs.end());
          }
          if (!deltas.empty()) send_calls(deltas);
        });
        completion_tokens += g.completion_tokens;
        cached += g.cached_prompt_tokens;
        ParsedAnswer rest = calls.finish();
        const size_t streamed = calls.streamed();
        std::string finish = g.finish_reason;
        if (rest.calls.empty() && streamed == 0) {
          held.text = rest.content;
          if (!held.text.empty() || !held.logprobs.empty()) event(ojson::array({choice(c, &held.text, nullptr, &held)}), nullptr);
        } else if (rest.calls.empty()) {
          // A streamed call that does not parse: the answer was cut off in it (finish_reason
          // "length", as OpenAI's) or went wrong after its name.
          if (finish != "length") finish = "tool_calls";
          if (!held.logprobs.empty()) send_calls({});
        } else {
          if (rest.content.find_first_not_of(" \t\r\n") != std::string::npos) {
            Piece text;
            text.text = rest.content;
            event(ojson::array({choice(c, &text.text, nullptr, &text)}), nullptr);
          }
          // What did not stream: calls after the streamed ones whole, and the arguments of a
          // streamed call that were not an object (a JSON string) in one piece.
          std::vector<ToolCallDelta> tail;
          for (size_t i = 0; i < rest.calls.size() && (req.parallel_tool_calls || i == 0); ++i) {
            if (i >= streamed)
              tail.push_back({i, rest.calls[i].name, rest.calls[i].arguments});
            else if (calls.args_sent(i) == 0)
              tail.push_back({i, "", rest.calls[i].arguments});
          }
          if (!tail.empty() || !held.logprobs.empty()) send_calls(tail);
          finish = "tool_calls";
        }
        event(ojson::array({choice(c, nullptr, &finish)}), nullptr);
      }
      if (include_usage) event(ojson::array(), usage(prompt_tokens, completion_tokens, cached));
      send("data: [DONE]\n\n");
    } catch (const ClientGone&) {
    } catch (const std::exception& e) {  // mid-stream the status is sent already: an error event
      send("data: " + error_body(ApiError(500, e.what(), "", "internal_error", "server_error")) + "\n\n");
    }
  };
  return reply;
}

Reply Api::tokenize(const std::string& body) const {
  auto j = parse_object(body);
  bool add_special = false, with_pieces = false;
  std::string content;
  for (auto& [key, v] : j.items()) {
    if (key == "content" && v.is_string()) content = v.get<std::string>();
    else if (key == "add_special" && v.is_boolean()) add_special = v.get<bool>();
    else if (key == "with_pieces" && v.is_boolean()) with_pieces = v.get<bool>();
    else throw ApiError(400, "unknown field or wrong type: '" + key + "'", key);
  }
  if (!j.contains("content")) throw ApiError(400, "'content' is required", "content");
  ojson tokens = ojson::array();
  for (uint32_t t : engine_.tokenize(content, add_special)) {
    if (with_pieces)
      tokens.push_back({{"id", t}, {"piece", engine_.detokenize({t})}});
    else
      tokens.push_back(t);
  }
  return {200, dump({{"tokens", tokens}}), nullptr};
}

Reply Api::detokenize(const std::string& body) const {
  auto j = parse_object(body);
  for (auto& [key, v] : j.items())
    if (key != "tokens") throw ApiError(400, "unknown field '" + key + "'", key);
  if (!j.contains("tokens") || !j["tokens"].is_array()) throw ApiError(400, "'tokens' must be a list of token ids", "tokens");
  std::vector<uint32_t> ids;
  for (auto& t : j["tokens"]) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<uint64_t>() >= engine_.vocab_size())
      throw ApiError(400, "'tokens' must hold ids below " + std::to_string(engine_.vocab_size()), "tokens");
    ids.push_back(t.get<uint32_t>());
  }
  return {200, dump({{"content", engine_.detokenize(ids)}}), nullptr};
}

}  // namespace nlm::serve
