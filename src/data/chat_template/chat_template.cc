// The public entry points of the chat-template engine (see chat_template.h).
#include "data/chat_template/chat_template.h"

#include "core/error.h"
#include "data/chat_template/builtins.h"
#include "data/chat_template/lexer.h"
#include "data/chat_template/parser.h"
#include "data/chat_template/render.h"

namespace nlm::data::chat_template {

struct ChatTemplate::Impl {
  Body body;
};

ChatTemplate::ChatTemplate(const std::string& template_text) : impl_(std::make_unique<Impl>()) {
  impl_->body = parse(lex(template_text));
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, const ChatRenderOptions& o) const {
  return render(messages, o, nullptr);
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, const ChatRenderOptions& o,
                                 std::vector<std::pair<size_t, size_t>>* generation_spans) const {
  if (!messages.is_array()) nlm::usage_error("chat messages must be a JSON list of {role, content} objects");
  if (!o.extra.is_null() && !o.extra.is_object())
    nlm::usage_error("extra chat template variables must be a JSON object");
  Dict vars = builtin_globals();
  vars.set("messages", Value::from_json(messages));
  vars.set("tools", Value::from_json(o.tools));
  vars.set("documents", Value::from_json(o.documents));
  vars.set("add_generation_prompt", Value(o.add_generation_prompt));
  vars.set("bos_token", Value(o.bos_token));
  vars.set("eos_token", Value(o.eos_token));
  if (o.extra.is_object())
    for (auto& [k, v] : o.extra.items()) vars.set(k, Value::from_json(v));
  return chat_template::render(impl_->body, vars, generation_spans);
}

std::string render_chat(const std::string& template_text, const nlohmann::ordered_json& messages,
                        const ChatRenderOptions& options) {
  return ChatTemplate(template_text).render(messages, options);
}

const std::string& default_chat_template() {
  static const std::string t =
      "{%- for message in messages %}"
      "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
      "{%- endfor %}"
      "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
  return t;
}

std::string chat_template_of(const nlohmann::ordered_json& config, bool with_tools) {
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return default_chat_template();
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    auto named = [&](const char* name) -> const nlohmann::ordered_json* {
      for (auto& t : *it)
        if (t.is_object() && t.value("name", "") == name && t.contains("template") && t["template"].is_string())
          return &t["template"];
      return nullptr;
    };
    if (with_tools)
      if (auto* t = named("tool_use")) return t->get<std::string>();
    if (auto* t = named("default")) return t->get<std::string>();
    nlm::usage_error("tokenizer_config.json chat_template list has no template named 'default'", {},
                     "name one of the templates 'default'");
  }
  nlm::usage_error("tokenizer_config.json chat_template must be a string or a list of {name, template}");
}

}  // namespace nlm::data::chat_template
