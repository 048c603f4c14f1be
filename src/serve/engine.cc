// The one-at-a-time generation engine behind the server (see engine.h).
#include "serve/engine.h"

#include <algorithm>
#include <filesystem>

#include "data/chat_template/chat_template.h"
#include "data/chat_template/model_template.h"
#include "model/hf_checkpoint.h"
#include "serve/api_error.h"
#include "serve/options.h"
#include "tensor/backend.h"

namespace nlm::serve {

namespace ct = data::chat_template;

Engine::Engine(const ServeOptions& o, const std::string& chat_template)
    : name_(o.model_name), add_bos_(o.add_bos), max_prompt_tokens_(o.max_prompt_tokens), queue_(o.queue) {
  if (name_.empty()) name_ = std::filesystem::path(o.model_dir).lexically_normal().filename().string();
  if (name_.empty()) name_ = std::filesystem::path(o.model_dir).lexically_normal().parent_path().filename().string();
  tok_ = tokenizer::Tokenizer::load(o.model_dir + "/tokenizer.json");
  model_ = model::load_hf_model(o.model_dir, tensor::backend_for(o.device));
  auto t = ct::load_model_chat_template(o.model_dir);
  template_source_ = chat_template.empty() ? t.source : chat_template;
  bos_token_ = t.bos_token;
  eos_token_ = t.eos_token;
  ct::ChatTemplate check(template_source_);  // a broken template fails at start, not per request
  if (model_->config().eos_token_id >= 0) stop_ids_.push_back(static_cast<int32_t>(model_->config().eos_token_id));
  if (!eos_token_.empty()) {
    uint32_t id = tok_.token_id(eos_token_);
    if (id != tokenizer::kNoToken && id < model_->config().vocab_size) stop_ids_.push_back(static_cast<int32_t>(id));
  }
  for (int64_t id : model::load_generation_eos_ids(o.model_dir))  // e.g. the end of turn `nativelm sft` lists
    if (id >= 0 && id < model_->config().vocab_size) stop_ids_.push_back(static_cast<int32_t>(id));
  int64_t ctx = context_length();
  if (max_prompt_tokens_ <= 0 || max_prompt_tokens_ >= ctx) max_prompt_tokens_ = static_cast<int>(ctx - 1);
}

Engine::~Engine() = default;

int64_t Engine::context_length() const { return model_->config().max_position_embeddings; }

std::vector<int32_t> Engine::checked(std::vector<int32_t> ids, const char* param) const {
  if (ids.empty() && model_->config().bos_token_id >= 0) ids.push_back(static_cast<int32_t>(model_->config().bos_token_id));
  if (ids.empty()) throw ApiError(400, "the prompt is empty and the model has no BOS token", param);
  if (static_cast<int64_t>(ids.size()) > max_prompt_tokens_)
    throw ApiError(400,
                   "the prompt has " + std::to_string(ids.size()) + " tokens; this server allows at most " +
                       std::to_string(max_prompt_tokens_),
                   param, "context_length_exceeded");
  for (int32_t t : ids)
    if (t < 0 || t >= model_->config().vocab_size)
      throw ApiError(400, "prompt token " + std::to_string(t) + " is outside the model's vocabulary", param);
  return ids;
}

std::vector<int32_t> Engine::encode_prompt(const std::string& prompt) const {
  std::vector<int32_t> ids;
  for (uint32_t t : tok_.encode(prompt, add_bos_)) ids.push_back(static_cast<int32_t>(t));
  return checked(std::move(ids), "prompt");
}

std::string Engine::render_chat(const nlohmann::ordered_json& messages) const {
  ct::ChatRenderOptions o;
  o.add_generation_prompt = true;
  o.bos_token = bos_token_;
  o.eos_token = eos_token_;
  try {
    return ct::render_chat(template_source_, messages, o);
  } catch (const std::exception& e) {  // e.g. raise_exception on a role order the template refuses
    throw ApiError(400, std::string("the chat template refused the messages: ") + e.what(), "messages");
  }
}

std::vector<int32_t> Engine::encode_chat(const nlohmann::ordered_json& messages) const {
  std::string text = render_chat(messages);
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
                            const std::vector<std::string>& stop,
                            const std::function<void(const std::string&)>& on_text) {
  int64_t room = context_length() - static_cast<int64_t>(prompt.size());
  s.max_tokens = static_cast<int>(std::clamp<int64_t>(s.max_tokens, 0, std::max<int64_t>(room, 0)));
  s.stop_ids.insert(s.stop_ids.end(), stop_ids_.begin(), stop_ids_.end());
  Generation g;
  if (s.max_tokens == 0) {
    g.finish_reason = "length";
    return g;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto r = model::generate_text_ids(*model_, tok_, prompt, s, stop, on_text);
  g.text = std::move(r.text);
  g.completion_tokens = static_cast<int>(r.tokens.size());
  bool at_stop_id = !r.tokens.empty() &&
                    std::find(s.stop_ids.begin(), s.stop_ids.end(), r.tokens.back()) != s.stop_ids.end();
  g.finish_reason = (r.stop_string || at_stop_id || g.completion_tokens < s.max_tokens) ? "stop" : "length";
  return g;
}

std::unique_ptr<Engine::Ticket> Engine::admit() {
  if (++in_flight_ > queue_) {
    --in_flight_;
    return nullptr;
  }
  return std::make_unique<Ticket>(*this);
}

}  // namespace nlm::serve
