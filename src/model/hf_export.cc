// Writing a complete HF model folder (see hf_export.h).
#include "model/hf_export.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/options.h"
#include "model/hf_checkpoint.h"
#include "model/peft_adapter.h"
#include "tensor/backend.h"

namespace nlm::model {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

void declare(opt::Schema& s, ExportHfOptions& o) {
  s.add("output", o.output, "Folder for the HF model").flag("-o,--output");
  s.choice("dtype", o.dtype,
           {{"bfloat16", tensor::DType::BF16}, {"float16", tensor::DType::F16}, {"float32", tensor::DType::F32}},
           "Storage dtype of the weights");
  s.size("max_shard_size", o.max_shard_bytes,
         "Largest safetensors file; bigger models are sharded with model.safetensors.index.json (0 = one file)",
         /*allow_zero=*/true);
  s.add("adapter", o.adapter, "LoRA adapter folder (PEFT layout) to merge into the weights first");
  s.add("chat_template", o.chat_template, "Jinja file whose template replaces the model's in tokenizer_config.json");
  s.check([&o] {
    if (o.output.empty()) opt::fail("output", "is required", "name the folder to write with -o");
  });
}

std::string ExportHfResult::summary() const {
  return "wrote " + output + ": " + std::to_string(bytes) + " bytes of weights in " + std::to_string(shards) +
         (shards == 1 ? " file" : " shards") + (merged ? ", LoRA adapter merged" : "") +
         (chat_template ? ", chat template in tokenizer_config.json" : "") + "\n";
}

void copy_model_files(const std::string& from, const std::string& to) {
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
                           "chat_template.jinja", "tokenizer.model"})
    if (fs::is_regular_file(fs::path(from) / name)) write_file_atomic(to + "/" + name, read_file(from + "/" + name));
}

ExportHfResult export_hf(const std::string& model_dir, const ExportHfOptions& o) {
  if (!fs::is_regular_file(fs::path(model_dir) / "config.json"))
    usage_error("no config.json in " + echoed(model_dir), {}, "pass an HF model folder (nativelm's model/ or a download)");
  if (fs::exists(o.output) && fs::weakly_canonical(model_dir) == fs::weakly_canonical(o.output))
    usage_error("the output folder is the model's own folder", o.output, "export somewhere else");
  std::string tmpl;
  if (!o.chat_template.empty()) {
    if (!fs::is_regular_file(o.chat_template))
      usage_error("no chat template file at " + echoed(o.chat_template), "--chat-template");
    tmpl = read_file(o.chat_template);
  }
  auto m = load_hf_model(model_dir, tensor::backend_for("cpu"));
  ExportHfResult r;
  r.output = o.output;
  if (!o.adapter.empty()) {
    load_peft_adapter(o.adapter, *m);
    for (const auto& p : m->params()) {
      r.adapters += p.adapter && p.name.ends_with(".lora_A.weight");
      r.full_modules += !p.adapter && p.trainable && !p.is_norm_or_bias;
    }
    m->merge_lora();
    r.merged = true;
  }
  SaveOptions so;
  so.dtype = o.dtype;
  so.max_shard_bytes = o.max_shard_bytes;
  save_hf_model(o.output, *m, so);
  for (const auto& f : hf_weight_files(o.output)) {
    ++r.shards;
    r.bytes += fs::file_size(f);
  }
  // The tokenizer and generation files, from the model folder and then the adapter's (which an
  // SFT run wrote its template into).
  for (const std::string& dir : {model_dir, o.adapter})
    if (!dir.empty()) copy_model_files(dir, o.output);
  const ModelConfig& c = m->config();
  if (!fs::exists(o.output + "/generation_config.json")) {
    json g = json::object();
    if (c.bos_token_id >= 0) g["bos_token_id"] = c.bos_token_id;
    if (c.eos_token_id >= 0) g["eos_token_id"] = c.eos_token_id;
    write_file_atomic(o.output + "/generation_config.json", g.dump(2) + "\n");
  }
  const std::string cfg_path = o.output + "/tokenizer_config.json";
  if (!tmpl.empty()) {
    json cfg = json::object();
    if (fs::exists(cfg_path)) {
      cfg = json::parse(read_file(cfg_path), nullptr, false);
      if (cfg.is_discarded() || !cfg.is_object())
        usage_error("tokenizer_config.json is not a JSON object", model_dir + "/tokenizer_config.json");
    }
    cfg["chat_template"] = tmpl;
    write_file_atomic(cfg_path, cfg.dump(2) + "\n");
    fs::remove(o.output + "/chat_template.jinja");  // one template, the new one
  }
  if (fs::exists(cfg_path)) {
    json cfg = json::parse(read_file(cfg_path), nullptr, false);
    r.chat_template = cfg.is_object() && cfg.contains("chat_template") && !cfg["chat_template"].is_null();
  }
  r.chat_template = r.chat_template || fs::exists(o.output + "/chat_template.jinja");
  remove_stale_temps(o.output);
  return r;
}

}  // namespace nlm::model
