// HF config.json <-> ModelConfig (see config.h).
#include "model/config.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/json_ints.h"
#include "core/options.h"

namespace nlm::model {

using nlohmann::json;

namespace {

// Counted in 128 bits so that any shape within the per-field caps below fits; shape_problem()
// refuses a total above kMaxParameters before anything narrows it back to 64 bits.
__int128 wide_parameter_count(const ModelConfig& m) {
  using W = __int128;
  const W C = m.hidden_size, I = m.intermediate_size, q = W(m.num_attention_heads) * m.hs(),
          kv = W(m.num_key_value_heads) * m.hs();
  W layer = 2 * C + C * q + 2 * C * kv + q * C + 3 * C * I;
  if (m.attention_bias) layer += q + 2 * kv;
  return W(m.vocab_size) * C * (m.tie_word_embeddings ? 1 : 2) + W(m.num_hidden_layers) * layer + C;
}

constexpr int64_t kMaxParameters = int64_t(1) << 50;  // ~10^15, far beyond any real model

}  // namespace

int64_t ModelConfig::parameter_count() const {
  const __int128 n = wide_parameter_count(*this);
  return n > kMaxParameters ? kMaxParameters : static_cast<int64_t>(n);
}

std::pair<std::string, std::string> ModelConfig::shape_problem() const {
  auto n = [](int64_t v) { return std::to_string(v); };
  if (vocab_size <= 0) return {"vocab_size", "must be positive"};
  if (hidden_size <= 0) return {"hidden_size", "must be positive"};
  if (intermediate_size <= 0) return {"intermediate_size", "must be positive"};
  if (num_hidden_layers <= 0) return {"num_hidden_layers", "must be positive"};
  if (num_attention_heads <= 0) return {"num_attention_heads", "must be positive"};
  // Caps far above any released model; they keep every size product within 64 bits.
  struct Cap { const char* field; int64_t value, max; };
  for (const Cap& cap : {Cap{"vocab_size", vocab_size, int64_t(1) << 24},
                         Cap{"hidden_size", hidden_size, int64_t(1) << 20},
                         Cap{"intermediate_size", intermediate_size, int64_t(1) << 22},
                         Cap{"num_hidden_layers", num_hidden_layers, int64_t(1) << 14},
                         Cap{"num_attention_heads", num_attention_heads, int64_t(1) << 14},
                         Cap{"num_key_value_heads", num_key_value_heads, int64_t(1) << 14},
                         Cap{"head_dim", head_dim, int64_t(1) << 16},
                         Cap{"max_position_embeddings", max_position_embeddings, int64_t(1) << 28}})
    if (cap.value > cap.max) return {cap.field, "(" + n(cap.value) + ") is above the limit of " + n(cap.max)};
  if (num_key_value_heads <= 0 || num_attention_heads % num_key_value_heads != 0)
    return {"num_key_value_heads", "(" + n(num_key_value_heads) + ") must divide num_attention_heads (" +
                                       n(num_attention_heads) + ")"};
  if (head_dim <= 0 && hidden_size % num_attention_heads != 0)
    return {"hidden_size", "(" + n(hidden_size) + ") is not divisible by num_attention_heads (" +
                               n(num_attention_heads) + ")"};
  if (hs() % 2 != 0) return {"head_dim", "(head size " + n(hs()) + ") must be even for RoPE"};
  if (max_position_embeddings <= 0) return {"max_position_embeddings", "must be positive"};
  if (wide_parameter_count(*this) > kMaxParameters)
    return {"hidden_size", "gives more than 2^50 parameters; check the sizes"};
  if (rms_norm_eps <= 0) return {"rms_norm_eps", "must be positive"};
  if (rope_theta <= 0) return {"rope_theta", "must be positive"};
  if (!rope_scaling.type.empty() && rope_scaling.type != "llama3")
    return {"rope_scaling", "type '" + rope_scaling.type + "' is not supported (only llama3)"};
  if (rope_scaling.type == "llama3") {
    const RopeScaling& r = rope_scaling;
    if (!(r.factor > 0)) return {"rope_scaling", "factor must be positive"};
    if (!(r.low_freq_factor > 0)) return {"rope_scaling", "low_freq_factor must be positive"};
    if (!(r.high_freq_factor > r.low_freq_factor))
      return {"rope_scaling", "high_freq_factor must be above low_freq_factor"};
    if (r.original_max_position_embeddings <= 0)
      return {"rope_scaling", "original_max_position_embeddings must be positive"};
  }
  return {};
}

void ModelConfig::validate(const std::string& where) const {
  auto [field, problem] = shape_problem();
  if (!field.empty()) usage_error(field + " " + problem, where, "fix the model config");
}

void declare(opt::Schema& s, ModelConfig& c, const std::string& p) {
  s.add(p + "model_type", c.model_type, "Architecture name written to config.json: llama, mistral or qwen2");
  s.add(p + "vocab_size", c.vocab_size, "Vocabulary size (rows of the embedding); must cover the shards' vocabulary").min(1);
  s.add(p + "hidden_size", c.hidden_size, "Model width C").min(1);
  s.add(p + "intermediate_size", c.intermediate_size, "SwiGLU hidden width").min(1);
  s.add(p + "num_hidden_layers", c.num_hidden_layers, "Decoder layers L").min(1);
  s.add(p + "num_attention_heads", c.num_attention_heads, "Query heads").min(1);
  s.add(p + "num_key_value_heads", c.num_key_value_heads,
        "Key/value heads (GQA when fewer than the query heads); when not given, num_attention_heads")
      .min(1);
  s.add(p + "head_dim", c.head_dim, "Head size; 0 = hidden_size / num_attention_heads").min(0);
  s.add(p + "max_position_embeddings", c.max_position_embeddings, "Longest context the model is built for").min(1);
  s.add(p + "rope_theta", c.rope_theta, "RoPE base frequency");
  s.add(p + "rms_norm_eps", c.rms_norm_eps, "RMSNorm epsilon");
  s.add(p + "tie_word_embeddings", c.tie_word_embeddings, "Share the embedding and output matrices");
  s.add(p + "attention_bias", c.attention_bias, "Biases on the q/k/v projections (always on for model_type qwen2)");
  s.add(p + "initializer_range", c.initializer_range, "Standard deviation of the normal initial weights (o/down projections scaled by 1/sqrt(2L))");
  s.add(p + "bos_token_id", c.bos_token_id, "Beginning-of-text id, written to config.json; -1 = none").min(-1);
  s.add(p + "eos_token_id", c.eos_token_id, "End-of-text id, written to config.json; EOS stops generate; -1 = none").min(-1);
  s.derive([&s, &c, p] {
    if (!s.given(p + "num_key_value_heads")) c.num_key_value_heads = c.num_attention_heads;
  });
  s.check([&c, p] {
    static const char* kKnown[] = {"llama", "mistral", "qwen2", "smollm"};
    bool known = false;
    for (const char* k : kKnown) known |= c.model_type == k;
    if (!known) opt::fail(p + "model_type", "must be llama, mistral or qwen2, got " + echoed(c.model_type));
    auto [field, problem] = c.shape_problem();
    if (!field.empty()) opt::fail(p + field, problem);
  });
}

ModelConfig parse_hf_config(const std::string& text, const std::string& where) {
  json j;
  check_json_depth(text, where);
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    usage_error(std::string("config.json is not valid JSON: ") + e.what(), where);
  }
  if (!j.is_object()) usage_error("config.json must hold a JSON object", where);
  // The keys config.json shares with a train config's model.* are read through the same
  // declaration (each value through its field's parser and bounds); the rest are HF-specific.
  ModelConfig c;
  for (const char* key : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"})
    if (!j.contains(key) || j[key].is_null())
      usage_error(std::string("missing '") + key + "'", where, "add it to config.json");
  opt::Schema schema("config.json");
  declare(schema, c);
  opt::Namer namer;
  namer.name = [](const std::string& key) { return "'" + key + "'"; };
  namer.where = [where](const std::string&) { return where; };
  opt::named(namer, [&] {
    for (const opt::Field& f : schema.fields()) {
      if (!j.contains(f.key) || j[f.key].is_null()) continue;
      const json& v = j[f.key];
      if (f.key == "eos_token_id" && v.is_array()) {  // Llama 3.1 lists several; the first stops generation
        if (!v.empty() && !v[0].is_object() && !v[0].is_array()) f.assign(v[0].dump());
        continue;
      }
      if (v.is_object() || v.is_array()) opt::fail(f.key, "must be a single value");
      f.assign(v.is_string() ? v.get<std::string>() : v.dump());
      if (f.key == "model_type" && c.model_type == "qwen2") c.attention_bias = true;  // unless the file says
    }
    schema.resolve();
  });
  if (j.contains("hidden_act") && j["hidden_act"] != "silu")
    usage_error("hidden_act must be 'silu' for a Llama-family model", where);
  if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"];
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
    const json& r = j["rope_scaling"];
    // Each member is checked for its JSON type before it is read: json::value() would convert a
    // float such as 8.2e44 to int64_t with undefined behaviour (found by fuzz/fuzz_hf_config).
    auto bad = [&](const char* key, const char* want) {
      usage_error(std::string("'rope_scaling' member '") + key + "' must be " + want + ", got " +
                      echoed(r[key].dump()),
                  where, "rope_type must be a string, the factors numbers");
    };
    auto number = [&](const char* key, double fallback) {
      if (!r.contains(key) || r[key].is_null()) return fallback;
      if (!r[key].is_number() || !std::isfinite(r[key].get<double>())) bad(key, "a finite number");
      return r[key].get<double>();
    };
    std::string type;
    for (const char* key : {"type", "rope_type"}) {  // rope_type (newer files) wins over type
      if (!r.contains(key) || r[key].is_null()) continue;
      if (!r[key].is_string()) bad(key, "a string");
      type = r[key].get<std::string>();
    }
    if (type != "default") c.rope_scaling.type = type;
    c.rope_scaling.factor = number("factor", 1.0);
    c.rope_scaling.low_freq_factor = number("low_freq_factor", 1.0);
    c.rope_scaling.high_freq_factor = number("high_freq_factor", 4.0);
    if (r.contains("original_max_position_embeddings") && !r["original_max_position_embeddings"].is_null())
      c.rope_scaling.original_max_position_embeddings =
          json_int(r["original_max_position_embeddings"], "rope_scaling.original_max_position_embeddings", where);
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
  } else if (!c.attention_bias) {
    // Qwen2 files leave the key out (its q/k/v always have biases); a nativelm qwen2 without them
    // says so, or it would reload as biased. transformers ignores the key and zero-fills the
    // missing biases, which computes the same function.
    j["attention_bias"] = false;
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
