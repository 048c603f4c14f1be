// Folding a PEFT LoRA adapter into its base model (see peft_merge.h).
#include "model/peft_merge.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/options.h"
#include "model/hf_checkpoint.h"
#include "model/peft_adapter.h"
#include "tensor/backend.h"

namespace nlm::model {

namespace fs = std::filesystem;

void declare(opt::Schema& s, MergeOptions& o) {
  s.add("adapter", o.adapter, "LoRA adapter folder (adapter_config.json + adapter_model.safetensors)").no_flag();
  s.add("output", o.output, "Folder for the merged HF model").flag("-o,--output");
  s.choice("dtype", o.dtype,
           {{"float32", tensor::DType::F32}, {"bfloat16", tensor::DType::BF16}, {"float16", tensor::DType::F16}},
           "Storage dtype of the merged weights");
  s.check([&o] {
    if (o.adapter.empty()) opt::fail("adapter", "is required", "name the adapter folder");
    if (o.output.empty()) opt::fail("output", "is required", "name the folder to write with -o");
  });
}

std::string MergeResult::summary() const {
  return "merged " + std::to_string(adapters) + " LoRA adapters" +
         (full_modules ? " and " + std::to_string(full_modules) + " fully trained modules" : std::string()) +
         " into " + output + "\n";
}

MergeResult merge_adapter(const std::string& base_dir, const MergeOptions& o) {
  if (!fs::is_regular_file(fs::path(base_dir) / "config.json"))
    usage_error("no config.json in " + echoed(base_dir), {}, "pass the base model's HF folder first, then the adapter");
  if (fs::weakly_canonical(base_dir) == fs::weakly_canonical(o.output))
    usage_error("the output folder is the base model's folder", o.output, "write the merged model somewhere else");
  auto m = load_hf_model(base_dir, tensor::backend_for("cpu"));
  load_peft_adapter(o.adapter, *m);
  MergeResult r;
  r.output = o.output;
  for (const auto& p : m->params()) {
    r.adapters += p.adapter && p.name.ends_with(".lora_A.weight");
    r.full_modules += !p.adapter && p.trainable && !p.is_norm_or_bias;
  }
  m->merge_lora();
  SaveOptions so;
  so.dtype = o.dtype;
  save_hf_model(o.output, *m, so);
  // The base's other files, then the adapter's copies of the same names over them.
  auto is_weights_or_config = [](const std::string& n) {
    return n == "config.json" || n.ends_with(".safetensors") || n == "model.safetensors.index.json" ||
           n.starts_with("adapter_") || n.ends_with(".bin") || n.ends_with(".pt") || n.ends_with(".pth");
  };
  for (const std::string& dir : {base_dir, o.adapter})
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string n = e.path().filename().string();
      if (!e.is_regular_file() || n.starts_with(".") || is_weights_or_config(n) || n == "README.md") continue;
      write_file_atomic(o.output + "/" + n, read_file(e.path().string()));
    }
  return r;
}

}  // namespace nlm::model
