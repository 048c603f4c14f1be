// Finds a model folder's chat template and special tokens the way transformers does: a
// `chat_template.jinja` file wins, then tokenizer_config.json's `chat_template`, then the
// ChatML default; bos_token and eos_token come from tokenizer_config.json (a string or an
// AddedToken object with "content").
#pragma once
#include <string>

namespace nlm::data::chat_template {

struct ModelChatTemplate {
  std::string source;     // the template text
  std::string origin;     // the file it came from, or "default (ChatML)"
  std::string bos_token;  // "" when the config has none
  std::string eos_token;
};

ModelChatTemplate load_model_chat_template(const std::string& model_dir);

}  // namespace nlm::data::chat_template
