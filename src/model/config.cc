// HF config.json <-> ModelConfig (see config.h).
#include "model/config.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace nlm::model {

using nlohmann::json;

int64_t ModelConfig::parameter_count() const {
  const int64_t C = hidden_size, I = intermediate_size, q = num_attention_heads * hs(),
                kv = num_key_value_heads * hs();
  int64_t layer = 2 * C + C * q + 2 * C * kv + q * C + 3 * C * I;
  if (attention_bias) layer += q + 2 * kv;
  return vocab_size * C * (tie_word_embeddings ? 1 : 2) + num_hidden_layers * layer + C;
}

void ModelConfig::validate(const std::string& where) const {
  auto bad = [&](const std::string& what) {
    usage_error(what, where, "fix the model config");
  };
  if (vocab_size <= 0) bad("vocab_size must be positive");
  if (hidden_size <= 0) bad("hidden_size must be positive");
  if (intermediate_size <= 0) bad("intermediate_size must be positive");
  if (num_hidden_layers <= 0) bad("num_hidden_layers must be positive");
  if (num_attention_heads <= 0) bad("num_attention_heads must be positive");
  if (num_key_value_heads <= 0 || num_attention_heads % num_key_value_heads != 0)
    bad("num_attention_heads (" + std::to_string(num_attention_heads) +
        ") must be a multiple of num_key_value_heads (" + std::to_string(num_key_value_heads) + ")");
  if (head_dim <= 0 && hidden_size % num_attention_heads != 0)
    bad("hidden_size (" + std::to_string(hidden_size) + ") is not divisible by num_attention_heads (" +
        std::to_string(num_attention_heads) + ")");
  if (hs() % 2 != 0) bad("head size must be even for RoPE");
  if (max_position_embeddings <= 0) bad("max_position_embeddings must be positive");
  if (rms_norm_eps <= 0) bad("rms_norm_eps must be positive");
  if (rope_theta <= 0) bad("rope_theta must be positive");
  if (!rope_scaling.type.empty() && rope_scaling.type != "llama3")
    bad("rope_scaling type '" + rope_scaling.type + "' is not supported (only llama3)");
}

ModelConfig parse_hf_config(const std::string& text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    usage_error(std::string("config.json is not valid JSON: ") + e.what(), where);
  }
  if (!j.is_object()) usage_error("config.json must hold a JSON object", where);
  ModelConfig c;
  auto get_int = [&](const char* key, int64_t& out, bool required) {
    if (!j.contains(key) || j[key].is_null()) {
      if (required) usage_error(std::string("missing '") + key + "'", where, "add it to config.json");
      return;
    }
    if (!j[key].is_number_integer())
      usage_error(std::string("'") + key + "' must be an integer", where);
    out = j[key].get<int64_t>();
  };
  auto get_num = [&](const char* key, double& out) {
    if (!j.contains(key) || j[key].is_null()) return;
    if (!j[key].is_number()) usage_error(std::string("'") + key + "' must be a number", where);
    out = j[key].get<double>();
  };
  if (j.contains("model_type") && j["model_type"].is_string()) c.model_type = j["model_type"];
  static const char* kKnown[] = {"llama", "mistral", "qwen2", "smollm"};
  bool known = false;
  for (const char* k : kKnown) known |= c.model_type == k;
  if (!known)
    usage_error("model_type '" + c.model_type + "' is not a Llama-family decoder", where,
                "supported: llama, mistral, qwen2");
  get_int("vocab_size", c.vocab_size, true);
  get_int("hidden_size", c.hidden_size, true);
  get_int("intermediate_size", c.intermediate_size, true);
  get_int("num_hidden_layers", c.num_hidden_layers, true);
  get_int("num_attention_heads", c.num_attention_heads, true);
  c.num_key_value_heads = c.num_attention_heads;
  get_int("num_key_value_heads", c.num_key_value_heads, false);
  get_int("head_dim", c.head_dim, false);
  get_int("max_position_embeddings", c.max_position_embeddings, false);
  get_num("rms_norm_eps", c.rms_norm_eps);
  get_num("rope_theta", c.rope_theta);
  get_num("initializer_range", c.initializer_range);
  if (j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean())
    c.tie_word_embeddings = j["tie_word_embeddings"];
  if (c.model_type == "qwen2") c.attention_bias = true;
  if (j.contains("attention_bias") && j["attention_bias"].is_boolean())
    c.attention_bias = j["attention_bias"];
  if (j.contains("hidden_act") && j["hidden_act"] != "silu")
    usage_error("hidden_act must be 'silu' for a Llama-family model", where);
  if (j.contains("bos_token_id") && j["bos_token_id"].is_number_integer()) c.bos_token_id = j["bos_token_id"];
  if (j.contains("eos_token_id")) {
    const json& e = j["eos_token_id"];
    if (e.is_number_integer()) c.eos_token_id = e;
    else if (e.is_array() && !e.empty() && e[0].is_number_integer()) c.eos_token_id = e[0];
  }
  if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"];
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
    const json& r = j["rope_scaling"];
    std::string type = r.value("rope_type", r.value("type", std::string()));
    if (type != "default") c.rope_scaling.type = type;
    c.rope_scaling.factor = r.value("factor", 1.0);
    c.rope_scaling.low_freq_factor = r.value("low_freq_factor", 1.0);
    c.rope_scaling.high_freq_factor = r.value("high_freq_factor", 4.0);
    c.rope_scaling.original_max_position_embeddings =
        r.value("original_max_position_embeddings", int64_t{8192});
  }
  c.validate(where);
  return c;
}

std::string to_hf_config_json(const ModelConfig& c) {
  json j;
  std::string arch = c.model_type == "qwen2"     ? "Qwen2ForCausalLM"
                     : c.model_type == "mistral" ? "MistralForCausalLM"
                                                 : "LlamaForCausalLM";
  j["architectures"] = {arch};
  j["model_type"] = c.model_type == "smollm" ? "llama" : c.model_type;
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.hs();
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  if (c.model_type != "qwen2") {
    j["attention_bias"] = c.attention_bias;
    j["mlp_bias"] = false;
  }
  j["hidden_act"] = "silu";
  j["initializer_range"] = c.initializer_range;
  j["attention_dropout"] = 0.0;
  j["use_cache"] = true;
  j["torch_dtype"] = c.torch_dtype;
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_id >= 0) j["eos_token_id"] = c.eos_token_id;
  if (c.rope_scaling.type.empty()) {
    j["rope_scaling"] = nullptr;
  } else {
    j["rope_scaling"] = {{"rope_type", c.rope_scaling.type},
                         {"factor", c.rope_scaling.factor},
                         {"low_freq_factor", c.rope_scaling.low_freq_factor},
                         {"high_freq_factor", c.rope_scaling.high_freq_factor},
                         {"original_max_position_embeddings",
                          c.rope_scaling.original_max_position_embeddings}};
  }
  return j.dump(2) + "\n";
}

ModelConfig load_hf_config(const std::string& dir) {
  std::string path = dir + "/config.json";
  return parse_hf_config(read_file(path), path);
}

}  // namespace nlm::model
