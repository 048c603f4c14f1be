// What the server generates with: the tokenizer and chat template, loaded once, and the batching
// scheduler that owns the inference engine (`parallel` slots decoded together). Request threads
// submit jobs and stream their pieces. Admission keeps at most `queue` generation requests
// running or waiting; the rest get 429.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/text_generation.h"
#include "serve/metrics.h"
#include "serve/scheduler.h"
#include "serve/tool_calls.h"

namespace nlm::serve {

struct ServeOptions;

struct Generation {
  std::string text;
  int completion_tokens = 0;
  std::string finish_reason;  // "stop" or "length"
  int cached_prompt_tokens = 0;
  std::vector<TokenLogprob> logprobs;  // per generated token, when asked for
  std::vector<TokenLogprob> prompt_logprobs;  // echo: of prompt tokens 1, 2, ... (when asked for)
};

class Engine {
 public:
  // chat_template, when not empty, is the template text used instead of the model folder's
  // (`nativelm chat --chat-template`); the folder's bos_token and eos_token still apply.
  explicit Engine(const ServeOptions& options, const std::string& chat_template = "");
  ~Engine();

  const std::string& model_name() const { return name_; }
  int64_t context_length() const;
  uint32_t vocab_size() const { return tok_.vocab_size(); }

  // A /v1/completions prompt as ids (BOS as the options say); throws ApiError 400 when it is
  // empty or longer than the prompt limit.
  std::vector<int32_t> encode_prompt(const std::string& prompt) const;
  // A fill-in-the-middle prompt (completions' `suffix`): BOS as the options say, then the model's
  // prefix token, `prefix`, its suffix token, `suffix` and its middle token, the order FIM-trained
  // models (StarCoder, Qwen2.5-Coder, DeepSeek-Coder) and llama-server's /infill use. Throws
  // ApiError 400 when the tokenizer has no FIM tokens or the prompt is too long.
  std::vector<int32_t> encode_infill(const std::string& prefix, const std::string& suffix) const;
  // A token-id prompt as the client sent it (no BOS added), checked like an encoded one.
  std::vector<int32_t> prompt_of_ids(std::vector<int32_t> ids) const;
  // Renders messages through the model's chat template with the generation prompt, and `tools`
  // (OpenAI tool objects; null = none) as the template's tools; tool-call arguments given as JSON
  // text are passed to the template as objects. Throws ApiError 400 when the template refuses
  // them (e.g. raise_exception on a role order).
  std::string render_chat(const nlohmann::ordered_json& messages,
                          const nlohmann::ordered_json& tools = nullptr) const;
  // render_chat plus `suffix` (text the answer is made to begin with), encoded as HF does after
  // apply_chat_template (no special tokens added); throws ApiError 400 when longer than the
  // prompt limit.
  std::vector<int32_t> encode_chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools = nullptr,
                                   const std::string& suffix = "") const;
  // The tool-call format the chat template asks for (see tool_calls.h).
  ToolCallFormat tool_format() const { return tool_format_; }
  std::vector<uint32_t> tokenize(const std::string& text, bool add_special) const;
  std::string detokenize(const std::vector<uint32_t>& ids) const;

  // Generates for one prompt in a batch slot. max_tokens is lowered to what fits the slot.
  // on_piece gets the continuation in pieces (with their tokens' logprobs when logprobs >= 0:
  // that many alternatives per token); it may throw to abandon the request, which cancels it.
  // With a schema (response_format), the answer is JSON it accepts, or cut by max_tokens.
  // prompt_logprobs >= 0 (echo): the prompt's logprobs come first, as a Piece with `prompt` set.
  Generation generate(const std::vector<int32_t>& prompt, model::SamplingOptions sampling,
                      const std::vector<std::string>& stop, const std::function<void(const Piece&)>& on_piece,
                      int logprobs = -1, std::shared_ptr<const JsonSchema> schema = nullptr,
                      int prompt_logprobs = -1);
  // Whether ids begin with the model's BOS token (not part of a prompt's text; echo leaves it out).
  bool starts_with_bos(const std::vector<int32_t>& ids) const {
    return config_.bos_token_id >= 0 && !ids.empty() && ids[0] == config_.bos_token_id;
  }
  Generation generate(const std::vector<int32_t>& prompt, model::SamplingOptions sampling,
                      const std::vector<std::string>& stop, const std::function<void(const std::string&)>& on_text);
  // The text of one token (for logprobs).
  std::string token_text(int32_t id) const;
  // The token's own bytes: a piece of a character stays that piece (token_text() shows U+FFFD).
  std::string token_bytes(int32_t id) const;
  Metrics& metrics() { return metrics_; }
  const Metrics& metrics() const { return metrics_; }
  // One line on the engine: weights, slots, cache size.
  std::string describe() const;

  // Admission: a ticket is held while a generation request runs or waits for the lock.
  class Ticket {
   public:
    explicit Ticket(Engine& e) : e_(e) {}
    ~Ticket() { --e_.in_flight_; }
   private:
    Engine& e_;
  };
  // A ticket, or nullptr when `queue` requests are already in flight.
  std::unique_ptr<Ticket> admit();

 private:
  std::vector<int32_t> checked(std::vector<int32_t> ids, const char* param) const;
  std::string name_;
  bool add_bos_;
  int max_prompt_tokens_;
  int queue_;
  tokenizer::Tokenizer tok_;
  model::ModelConfig config_;
  std::string template_source_, bos_token_, eos_token_;
  ToolCallFormat tool_format_ = ToolCallFormat::Hermes;
  std::vector<int32_t> fim_;  // prefix, suffix and middle token ids; empty: the tokenizer has none
  std::vector<int32_t> stop_ids_;  // the model's EOS and the template's eos_token
  Metrics metrics_;
  std::unique_ptr<Scheduler> scheduler_;
  std::atomic<int> in_flight_{0};
};

}  // namespace nlm::serve
