// The stage registry: names in run order and their factories.
#include "pipeline/stages.h"

#include <filesystem>

#include "core/error.h"
#include "core/options_yaml.h"
#include "corpus/inputs.h"

namespace nlm::pipeline {

Artifacts with_documents(const Artifacts& in, const std::string& docs_dir, const std::string& stage) {
  Artifacts a = in;
  a.documents = corpus::expand_inputs({docs_dir});
  a.documents_stage = stage;
  a.read = corpus::ReadOptions{};
  return a;
}

Artifacts with_model(const Artifacts& in, const std::string& stage_dir) {
  Artifacts a = in;
  a.model_dir = (std::filesystem::path(stage_dir) / "model").string();
  return a;
}

opt::Namer apply_stage_options(opt::Schema& schema, const Fields& fields, const std::vector<std::string>& extra_keys) {
  opt::YamlSource src{fields.file(), fields.section()};
  opt::apply_yaml(schema, fields.node(), src, extra_keys);
  opt::Namer namer = opt::yaml_namer(fields.node(), src);
  opt::named(namer, [&] { schema.resolve(); });
  return namer;
}

const std::vector<std::string>& stage_order() {
  static const std::vector<std::string> order = {"curate", "dedup", "synth", "tokenizer", "tokenize", "train", "sft", "dpo", "prune", "distill", "eval", "quantize", "export"};
  return order;
}

std::unique_ptr<Stage> make_stage(const std::string& name, const Fields& options) {
  if (name == "curate") return make_curate_stage(options);
  if (name == "dedup") return make_dedup_stage(options);
  if (name == "synth") return make_synth_stage(options);
  if (name == "tokenizer") return make_tokenizer_stage(options);
  if (name == "tokenize") return make_tokenize_stage(options);
  if (name == "train") return make_train_stage(options);
  if (name == "sft") return make_sft_stage(options);
  if (name == "dpo") return make_dpo_stage(options);
  if (name == "prune") return make_prune_stage(options);
  if (name == "distill") return make_distill_stage(options);
  if (name == "eval") return make_eval_stage(options);
  if (name == "quantize") return make_quantize_stage(options);
  if (name == "export") return make_export_stage(options);
  std::string list;
  for (const auto& n : stage_order()) list += (list.empty() ? "" : ", ") + n;
  usage_error("unknown stage '" + name + "'", options.where(), "stages are: " + list);
}

}  // namespace nlm::pipeline
