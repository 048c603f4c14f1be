// The generation engine behind the server and `nativelm chat` (see engine.h).
#include "serve/engine.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "data/chat_template/chat_template.h"
#include "data/chat_template/model_template.h"
#include "core/error.h"
#include "model/backend_decoder.h"
#include "model/decoder.h"
#include "model/hf_checkpoint.h"
#include "model/quantized_checkpoint.h"
#include "serve/api_error.h"
#include "serve/options.h"
#include "tensor/backend.h"

namespace nlm::serve {

namespace ct = data::chat_template;

Engine::Engine(const ServeOptions& o, const std::string& chat_template)
    : name_(o.model_name), add_bos_(o.add_bos), max_prompt_tokens_(o.max_prompt_tokens), queue_(o.queue) {
  if (name_.empty()) name_ = std::filesystem::path(o.model_dir).lexically_normal().filename().string();
  if (name_.empty()) name_ = std::filesystem::path(o.model_dir).lexically_normal().parent_path().filename().string();
  const auto format = tensor::cpu::parse_weight_format(o.weights, "--weights");
  if (o.device != "cpu" && format != tensor::cpu::WeightFormat::F32)
    usage_error("--weights " + o.weights + " is for the CPU inference engine", "--device " + o.device,
                "drop --weights or use --device cpu");
  tok_ = tokenizer::Tokenizer::load(o.model_dir + "/tokenizer.json");
  auto model = model::load_hf_model(o.model_dir, tensor::backend_for(o.device));
  config_ = model->config();
  auto t = ct::load_model_chat_template(o.model_dir);
  template_source_ = chat_template.empty() ? t.source : chat_template;
  bos_token_ = t.bos_token;
  eos_token_ = t.eos_token;
  ct::ChatTemplate check(template_source_);  // a broken template fails at start, not per request
  tool_format_ = tool_call_format_of(template_source_);
  // Fill-in-the-middle tokens, as FIM-trained families name them (prefix, suffix, middle).
  static const char* const kFim[][3] = {{"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"},
                                        {"<fim_prefix>", "<fim_suffix>", "<fim_middle>"},
                                        {"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"}};
  for (const auto& names : kFim) {
    std::vector<int32_t> ids;
    for (const char* name : names) {
      const uint32_t id = tok_.token_id(name);
      if (id != tokenizer::kNoToken && id < config_.vocab_size) ids.push_back(static_cast<int32_t>(id));
    }
    if (ids.size() == 3) {
      fim_ = ids;
      break;
    }
  }
  if (config_.eos_token_id >= 0) stop_ids_.push_back(static_cast<int32_t>(config_.eos_token_id));
  if (!eos_token_.empty()) {
    uint32_t id = tok_.token_id(eos_token_);
    if (id != tokenizer::kNoToken && id < config_.vocab_size) stop_ids_.push_back(static_cast<int32_t>(id));
  }
  for (int64_t id : model::load_generation_eos_ids(o.model_dir))  // e.g. the end of turn `nativelm sft` lists
    if (id >= 0 && id < config_.vocab_size) stop_ids_.push_back(static_cast<int32_t>(id));
  const int context =
      static_cast<int>(std::min<int64_t>(config_.max_position_embeddings, o.context > 0 ? o.context : 4096));
  std::unique_ptr<model::SlotDecoder> decoder;
  if (o.device == "cpu") {
    model::DecoderOptions d;
    d.weights = format;
    d.slots = o.parallel;
    d.context = context;
    // A `nativelm quantize` folder's linears run as stored.
    decoder = std::make_unique<model::Decoder>(*model, d, model::load_packed_linears(o.model_dir, *model));
    model.reset();  // the engine holds its own copy of the weights
  } else {
    // Other devices decode with the model's own layer code on that backend, a cache per slot.
    decoder = std::make_unique<model::BackendDecoder>(std::move(model), o.parallel, context);
  }
  scheduler_ = std::make_unique<Scheduler>(std::move(decoder), tok_, stop_ids_, metrics_);
  int64_t ctx = context_length();
  if (max_prompt_tokens_ <= 0 || max_prompt_tokens_ >= ctx) max_prompt_tokens_ = static_cast<int>(ctx - 1);
}

Engine::~Engine() = default;

int64_t Engine::context_length() const { return scheduler_->decoder().context(); }

std::string Engine::describe() const { return scheduler_->decoder().describe(); }

std::string Engine::token_text(int32_t id) const {
  if (id < 0 || uint32_t(id) >= tok_.vocab_size()) return "";
  return tok_.decode({static_cast<uint32_t>(id)}, false);
}

std::string Engine::token_bytes(int32_t id) const {
  if (id < 0 || uint32_t(id) >= tok_.vocab_size()) return "";
  return tok_.decode_bytes({static_cast<uint32_t>(id)}, false);
}

std::vector<int32_t> Engine::checked(std::vector<int32_t> ids, const char* param) const {
  if (ids.empty() && config_.bos_token_id >= 0) ids.push_back(static_cast<int32_t>(config_.bos_token_id));
  if (ids.empty()) throw ApiError(400, "the prompt is empty and the model has no BOS token", param);
  if (static_cast<int64_t>(ids.size()) > max_prompt_tokens_)
    throw ApiError(400,
                   "the prompt has " + std::to_string(ids.size()) + " tokens; this server allows at most " +
                       std::to_string(max_prompt_tokens_),
                   param, "context_length_exceeded");
  for (int32_t t : ids)
    if (t < 0 || t >= config_.vocab_size)
      throw ApiError(400, "prompt token " + std::to_string(t) + " is outside the model's vocabulary", param);
  return ids;
}

std::vector<int32_t> Engine::encode_prompt(const std::string& prompt) const {
  std::vector<int32_t> ids;
  for (uint32_t t : tok_.encode(prompt, add_bos_)) ids.push_back(static_cast<int32_t>(t));
  return checked(std::move(ids), "prompt");
}

std::vector<int32_t> Engine::encode_infill(const std::string& prefix, const std::string& suffix) const {
  if (fim_.empty())
    throw ApiError(400,
                   "'suffix' needs a model trained to fill in the middle; this tokenizer has no FIM tokens "
                   "(<|fim_prefix|> <|fim_suffix|> <|fim_middle|>, <fim_prefix> ..., or DeepSeek-Coder's)",
                   "suffix");
  std::vector<int32_t> ids;
  if (add_bos_ && config_.bos_token_id >= 0) ids.push_back(static_cast<int32_t>(config_.bos_token_id));
  ids.push_back(fim_[0]);
  for (uint32_t t : tok_.encode(prefix, false)) ids.push_back(static_cast<int32_t>(t));
  ids.push_back(fim_[1]);
  for (uint32_t t : tok_.encode(suffix, false)) ids.push_back(static_cast<int32_t>(t));
  ids.push_back(fim_[2]);
  return checked(std::move(ids), "prompt");
}

std::vector<int32_t> Engine::prompt_of_ids(std::vector<int32_t> ids) const {
  for (int32_t t : ids)
    if (t < 0 || static_cast<uint32_t>(t) >= tok_.vocab_size())
      throw ApiError(400,
                     "prompt token " + std::to_string(t) + " is outside the tokenizer's vocabulary of " +
                         std::to_string(tok_.vocab_size()),
                     "prompt");
  return checked(std::move(ids), "prompt");
}

std::string Engine::render_chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools) const {
  ct::ChatRenderOptions o;
  o.add_generation_prompt = true;
  o.bos_token = bos_token_;
  o.eos_token = eos_token_;
  o.tools = tools;
  try {
    return ct::render_chat(template_source_, messages_for_template(messages), o);
  } catch (const std::exception& e) {  // e.g. raise_exception on a role order the template refuses
    throw ApiError(400, std::string("the chat template refused the messages: ") + e.what(), "messages");
  }
}

std::vector<int32_t> Engine::encode_chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                         const std::string& suffix) const {
  std::string text = render_chat(messages, tools) + suffix;
  std::vector<int32_t> ids;
  for (uint32_t t : tok_.encode(text, false)) ids.push_back(static_cast<int32_t>(t));
  return checked(std::move(ids), "messages");
}

std::vector<uint32_t> Engine::tokenize(const std::string& text, bool add_special) const {
  return tok_.encode(text, add_special);
}

std::string Engine::detokenize(const std::vector<uint32_t>& ids) const {
  for (uint32_t t : ids)
    if (t >= tok_.vocab_size()) throw ApiError(400, "token " + std::to_string(t) + " is outside the vocabulary", "tokens");
  return tok_.decode(ids, false);
}

Generation Engine::generate(const std::vector<int32_t>& prompt, model::SamplingOptions s,
                            const std::vector<std::string>& stop, const std::function<void(const Piece&)>& on_piece,
                            int logprobs, std::shared_ptr<const JsonSchema> schema, int prompt_logprobs) {
  int64_t room = context_length() - static_cast<int64_t>(prompt.size());
  s.max_tokens = static_cast<int>(std::clamp<int64_t>(s.max_tokens, 0, std::max<int64_t>(room, 0)));
  Generation g;
  if (s.max_tokens == 0 && (prompt_logprobs < 0 || prompt.size() < 2)) {
    g.finish_reason = "length";
    return g;
  }
  s.vocab_limit = tok_.vocab_size();  // padding rows past the tokenizer have no text
  auto job = scheduler_->submit(prompt, s, stop, logprobs, std::move(schema), prompt_logprobs);
  Piece piece;
  try {
    while (job->next(piece)) {
      if (piece.prompt) {
        g.prompt_logprobs = piece.logprobs;
        on_piece(piece);
        continue;
      }
      g.text += piece.text;
      g.logprobs.insert(g.logprobs.end(), piece.logprobs.begin(), piece.logprobs.end());
      on_piece(piece);
    }
  } catch (...) {
    job->cancel();
    throw;
  }
  if (job->finish_reason == "error") runtime_error(job->error, "serve");
  g.completion_tokens = job->completion_tokens;
  g.finish_reason = job->finish_reason;
  g.cached_prompt_tokens = job->cached_prompt_tokens;
  return g;
}

Generation Engine::generate(const std::vector<int32_t>& prompt, model::SamplingOptions s,
                            const std::vector<std::string>& stop,
                            const std::function<void(const std::string&)>& on_text) {
  return generate(prompt, std::move(s), stop, [&](const Piece& p) {
    if (!p.text.empty()) on_text(p.text);
  });
}

std::unique_ptr<Engine::Ticket> Engine::admit() {
  if (++in_flight_ > queue_) {
    --in_flight_;
    return nullptr;
  }
  return std::make_unique<Ticket>(*this);
}

}  // namespace nlm::serve
