// PEFT LoRA adapter folders both ways (see peft_adapter.h).
#include "model/peft_adapter.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "model/safetensors.h"

namespace nlm::model {

namespace fs = std::filesystem;
using json = nlohmann::json;
using tensor::DType;

namespace {

const char* const kPrefix = "base_model.model.";

// The full modules a config trains, by PEFT's module names.
std::vector<std::string> modules_to_save(const LoraConfig& c, bool tied) {
  std::vector<std::string> out;
  if (c.train_embeddings || (tied && c.train_lm_head)) out.push_back("embed_tokens");
  if (!tied && c.train_lm_head) out.push_back("lm_head");
  return out;
}

// The params a PEFT adapter file holds: adapters and fully trained modules.
bool in_adapter(const Param& p) { return p.adapter || (p.trainable && !p.is_norm_or_bias); }

}  // namespace

bool is_peft_adapter(const std::string& dir) { return fs::is_regular_file(fs::path(dir) / "adapter_config.json"); }

void save_peft_adapter(const std::string& dir, const Llama& model, const std::string& base_model) {
  const LoraConfig& c = model.lora();
  if (!c.enabled()) usage_error("the model has no LoRA adapters to save", dir);
  make_dirs(dir);
  std::vector<std::vector<float>> host;
  std::vector<SafetensorsTensor> tensors;
  for (const Param& p : model.params()) {
    if (!in_adapter(p)) continue;
    host.emplace_back(static_cast<size_t>(p.value.numel()));
    model.backend().download(p.value, host.back().data(), DType::F32);
  }
  size_t k = 0;
  for (const Param& p : model.params())
    if (in_adapter(p)) tensors.push_back({kPrefix + p.name, DType::F32, p.value.shape(), host[k++].data()});
  write_safetensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}});

  const auto saved = modules_to_save(c, model.config().tie_word_embeddings);
  json cfg = {{"peft_type", "LORA"},
              {"task_type", "CAUSAL_LM"},
              {"base_model_name_or_path", base_model},
              {"r", c.rank},
              {"lora_dropout", c.dropout},
              {"target_modules", c.targets},
              {"modules_to_save", saved.empty() ? json(nullptr) : json(saved)},
              {"bias", "none"},
              {"fan_in_fan_out", false},
              {"inference_mode", true},
              {"init_lora_weights", true},
              {"use_rslora", false},
              {"use_dora", false},
              {"layers_to_transform", nullptr},
              {"layers_pattern", nullptr},
              {"rank_pattern", json::object()},
              {"alpha_pattern", json::object()},
              {"revision", nullptr}};
  // PEFT writes an integer alpha as one; keep that spelling when it is whole.
  if (std::floor(c.alpha) == c.alpha && std::abs(c.alpha) < 1e9)
    cfg["lora_alpha"] = static_cast<int64_t>(c.alpha);
  else
    cfg["lora_alpha"] = c.alpha;
  write_file_atomic(dir + "/adapter_config.json", cfg.dump(2) + "\n");
}

LoraConfig read_peft_config(const std::string& dir) {
  const std::string path = dir + "/adapter_config.json";
  if (!fs::is_regular_file(path))
    usage_error("no adapter_config.json in " + echoed(dir), {}, "pass the folder PEFT or nativelm wrote the adapter to");
  json j;
  try {
    std::string text = read_file(path);
    check_json_depth(text, path);
    j = json::parse(text);
  } catch (const json::exception&) {
    usage_error("adapter_config.json is not valid JSON", path);
  }
  if (!j.is_object()) usage_error("adapter_config.json must hold a JSON object", path);
  auto bad = [&](const std::string& key, const std::string& what) { usage_error(key + " " + what, path); };
  auto unsupported = [&](const std::string& key) {
    usage_error(key + " is set, which nativelm's LoRA does not implement", path,
                "merge this adapter with PEFT (merge_and_unload) instead");
  };
  if (!j.contains("peft_type") || j["peft_type"] != "LORA")
    bad("peft_type", "must be \"LORA\" (only LoRA adapters are supported)");
  LoraConfig c;
  if (!j.contains("r") || !j["r"].is_number_integer() || j["r"].get<int64_t>() < 1 || j["r"].get<int64_t>() > 65536)
    bad("r", "must be an integer rank from 1 to 65536");
  c.rank = j["r"].get<int>();
  if (j.contains("lora_alpha")) {
    if (!j["lora_alpha"].is_number()) bad("lora_alpha", "must be a number");
    c.alpha = j["lora_alpha"].get<double>();
  } else {
    c.alpha = 8;  // PEFT's default
  }
  if (j.contains("lora_dropout") && !j["lora_dropout"].is_null()) {
    if (!j["lora_dropout"].is_number()) bad("lora_dropout", "must be a number");
    c.dropout = j["lora_dropout"].get<double>();
  }
  const json& t = j.contains("target_modules") ? j["target_modules"] : json();
  if (t.is_string()) {
    if (t != "all-linear") bad("target_modules", "is a pattern; only a list of module names or \"all-linear\" is supported");
    c.targets = lora_target_names();
  } else if (t.is_array() && !t.empty()) {
    c.targets.clear();
    for (const auto& m : t) {
      if (!m.is_string()) bad("target_modules", "must hold module names");
      c.targets.push_back(m.get<std::string>());
    }
  } else {
    bad("target_modules", "must be a non-empty list of module names");
  }
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null()) {
    if (!j["modules_to_save"].is_array()) bad("modules_to_save", "must be a list or null");
    for (const auto& m : j["modules_to_save"]) {
      if (m == "embed_tokens") c.train_embeddings = true;
      else if (m == "lm_head") c.train_lm_head = true;
      else bad("modules_to_save", "names " + echoed(m.dump()) + "; only embed_tokens and lm_head are supported");
    }
  }
  for (const char* key : {"use_dora", "use_rslora", "fan_in_fan_out"})
    if (j.contains(key) && j[key] == true) unsupported(key);
  for (const char* key : {"rank_pattern", "alpha_pattern"})
    if (j.contains(key) && !j[key].is_null() && !j[key].empty()) unsupported(key);
  if (j.contains("layers_to_transform") && !j["layers_to_transform"].is_null()) unsupported("layers_to_transform");
  if (j.contains("bias") && j["bias"] != "none") unsupported("bias");
  validate(c, path);
  return c;
}

void load_peft_adapter(const std::string& dir, Llama& model) {
  LoraConfig c = read_peft_config(dir);
  const std::string cfg_path = dir + "/adapter_config.json";
  if (!model.lora().enabled()) {
    model.add_lora(c, 0);
  } else {
    const LoraConfig& have = model.lora();
    if (have.rank != c.rank || have.targets != c.targets || have.alpha != c.alpha)
      usage_error("the adapter's rank, alpha or targets differ from the model's LoRA settings", cfg_path,
                  "use the LoRA settings the adapter was trained with");
  }
  const std::string path = dir + "/adapter_model.safetensors";
  SafetensorsReader r(path);
  const bool tied = model.config().tie_word_embeddings;
  for (Param& p : model.params()) {
    if (!in_adapter(p)) continue;
    const SafetensorsEntry* e = r.find(kPrefix + p.name);
    // A tied model's trained matrix may be stored under either module's name.
    if (!e && tied && p.name == "model.embed_tokens.weight") e = r.find(std::string(kPrefix) + "lm_head.weight");
    if (!e) usage_error("the adapter lacks tensor '" + std::string(kPrefix) + p.name + "'", path,
                        "the adapter was trained for a model with another layer count or targets");
    if (e->shape != p.value.shape())
      usage_error("tensor '" + e->name + "' has shape " + tensor::shape_string(e->shape) + " but the model needs " +
                      tensor::shape_string(p.value.shape()),
                  path, "the adapter belongs to another base model");
    if (e->dtype != DType::F32 && e->dtype != DType::F16 && e->dtype != DType::BF16 && e->dtype != DType::F64)
      usage_error("tensor '" + e->name + "' is not a floating-point tensor", path);
    std::vector<float> host(static_cast<size_t>(p.value.numel()));
    tensor::convert(r.data(*e), e->dtype, host.data(), DType::F32, host.size());
    model.backend().upload(p.value, host.data(), DType::F32);
  }
}

}  // namespace nlm::model
