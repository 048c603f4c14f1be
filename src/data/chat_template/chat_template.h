// Renders a model's chat template (the Jinja `chat_template` of tokenizer_config.json) the way
// HF transformers' apply_chat_template does: Jinja2 semantics with trim_blocks and
// lstrip_blocks, HF's tojson, raise_exception and strftime_now, and the variables messages,
// tools, documents, add_generation_prompt, bos_token and eos_token. The supported subset of
// Jinja is listed in docs/chat_template.md; anything outside it is a usage error naming the
// template line, never wrong output.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace nlm::data::chat_template {

struct ChatRenderOptions {
  // Ends the prompt with the header of an assistant turn, so a model continues as the assistant.
  bool add_generation_prompt = false;
  // The special tokens the template prints (tokenizer_config.json's bos_token, eos_token).
  std::string bos_token;
  std::string eos_token;
  // Tool (function) schemas, a JSON list; null passes None as HF does without tools.
  nlohmann::ordered_json tools = nullptr;
  // Documents for retrieval-augmented templates; null passes None.
  nlohmann::ordered_json documents = nullptr;
  // Further template variables (e.g. {"enable_thinking": false}); an object, or null.
  nlohmann::ordered_json extra = nullptr;
};

// A parsed template, reusable across renders. Parsing checks the syntax; unknown filters and
// tests fail when rendering reaches them, as in Jinja2.
class ChatTemplate {
 public:
  explicit ChatTemplate(const std::string& template_text);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // `messages` is a JSON list of {"role", "content", ...} objects, passed through unchanged.
  std::string render(const nlohmann::ordered_json& messages, const ChatRenderOptions& options) const;
  // The same, and appends to `generation_spans` the byte spans [begin, end) of the text that
  // `{% generation %}` blocks printed (HF's assistant masks); none when the template has none. A
  // generation block inside a macro or a `{% set %}` block is then an error.
  std::string render(const nlohmann::ordered_json& messages, const ChatRenderOptions& options,
                     std::vector<std::pair<size_t, size_t>>* generation_spans) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses and renders in one call.
std::string render_chat(const std::string& template_text, const nlohmann::ordered_json& messages,
                        const ChatRenderOptions& options);

// ChatML (<|im_start|>role\ncontent<|im_end|>\n, and "<|im_start|>assistant\n" as the
// generation prompt), for models whose tokenizer_config.json has no chat_template.
const std::string& default_chat_template();

// The chat template of a tokenizer_config.json object: its "chat_template" string; when it is a
// list of {name, template}, the one named "tool_use" if `with_tools` and there is one, else the
// one named "default" (as transformers picks); default_chat_template() when absent.
std::string chat_template_of(const nlohmann::ordered_json& tokenizer_config, bool with_tools = false);

}  // namespace nlm::data::chat_template
