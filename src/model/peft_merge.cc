// Folding a PEFT LoRA adapter into its base model (see peft_merge.h).
#include "model/peft_merge.h"

#include "core/error.h"
#include "core/options.h"
#include "model/hf_export.h"

namespace nlm::model {

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
  ExportHfOptions e;
  e.output = o.output;
  e.dtype = o.dtype;
  e.max_shard_bytes = 0;
  e.adapter = o.adapter;
  ExportHfResult x = export_hf(base_dir, e);
  MergeResult r;
  r.output = o.output;
  r.adapters = x.adapters;
  r.full_modules = x.full_modules;
  return r;
}

}  // namespace nlm::model
