// Loading a model folder's chat template (see model_template.h).
#include "data/chat_template/model_template.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/json_depth.h"
#include "data/chat_template/chat_template.h"

namespace nlm::data::chat_template {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) nlm::usage_error("cannot read " + path, {}, "check the model folder");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string token_text(const nlohmann::ordered_json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  nlm::usage_error(std::string("tokenizer_config.json: ") + key + " must be a string or {\"content\": ...}");
}

}  // namespace

ModelChatTemplate load_model_chat_template(const std::string& model_dir) {
  namespace fs = std::filesystem;
  ModelChatTemplate out;
  fs::path config_path = fs::path(model_dir) / "tokenizer_config.json";
  nlohmann::ordered_json config = nlohmann::ordered_json::object();
  if (fs::exists(config_path)) {
    std::string text = read_file(config_path.string());
    check_json_depth(text, config_path.string());
    config = nlohmann::ordered_json::parse(text, nullptr, false);
    if (config.is_discarded() || !config.is_object())
      nlm::usage_error("tokenizer_config.json is not a JSON object", config_path.string());
  }
  out.bos_token = token_text(config, "bos_token");
  out.eos_token = token_text(config, "eos_token");
  fs::path jinja = fs::path(model_dir) / "chat_template.jinja";
  if (fs::exists(jinja)) {
    out.source = read_file(jinja.string());
    out.origin = jinja.string();
  } else if (config.contains("chat_template") && !config["chat_template"].is_null()) {
    out.source = chat_template_of(config);
    out.origin = config_path.string();
  } else {
    out.source = default_chat_template();
    out.origin = "default (ChatML)";
  }
  return out;
}

}  // namespace nlm::data::chat_template
