// The architecture of a Llama-family decoder, read from and written to an HF config.json. One
// struct covers Llama 2/3 (incl. llama3 RoPE scaling), Mistral, Qwen2 (QKV bias), SmolLM and
// TinyLlama: they differ only in these numbers and flags.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

namespace nlm::opt {
class Schema;
}

namespace nlm::model {

struct RopeScaling {
  // "" (none) or "llama3". Other types are rejected with a clear error.
  std::string type;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string model_type = "llama";  // llama, mistral, qwen2 (written back unchanged)
  int64_t vocab_size = 32000;
  int64_t hidden_size = 512;          // C
  int64_t intermediate_size = 1376;   // SwiGLU hidden width
  int64_t num_hidden_layers = 8;      // L
  int64_t num_attention_heads = 8;    // NH
  int64_t num_key_value_heads = 8;    // NKV (GQA when < NH)
  int64_t head_dim = 0;               // hs; 0 = hidden_size / num_attention_heads
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (Qwen2 always has them)
  double initializer_range = 0.02;
  int64_t bos_token_id = -1;  // -1 = not set
  int64_t eos_token_id = -1;
  std::string torch_dtype = "float32";

  int64_t hs() const { return head_dim > 0 ? head_dim : hidden_size / num_attention_heads; }
  // Parameter count (with tied embeddings counted once).
  int64_t parameter_count() const;
  // The first inconsistency of the shape as (field, problem), or an empty field when it is sound.
  std::pair<std::string, std::string> shape_problem() const;
  // Throws nlm::usage_error naming the field when the shape is inconsistent.
  void validate(const std::string& where) const;
};

// The architecture keys, each once, under `prefix` ("model." in a train config: model.hidden_size).
// A key that HF config.json spells the same way (all of these) is read from config.json through
// this declaration too. num_key_value_heads defaults to num_attention_heads when not given, and
// the shape is checked (opt::OptionError naming the key).
void declare(opt::Schema& schema, ModelConfig& config, const std::string& prefix = "");

// Parses config.json text; `where` names the file in errors.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& where);
// Serialises as an HF config.json (architectures, model_type and every field transformers needs).
std::string to_hf_config_json(const ModelConfig& c);
// Reads <dir>/config.json.
ModelConfig load_hf_config(const std::string& dir);

}  // namespace nlm::model
