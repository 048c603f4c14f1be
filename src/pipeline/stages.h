// The stage kinds a pipeline file can name, in the order they run, and the factory that builds
// each from its mapping in the pipeline file. Included by pipeline sources only (yaml-cpp).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/options.h"
#include "pipeline/stage.h"
#include "pipeline/yaml_fields.h"
#include "train/loop.h"

namespace nlm::pipeline {

// Stage names in run order.
const std::vector<std::string>& stage_order();
// Builds the stage `name` from its options mapping; usage errors name the key and line.
std::unique_ptr<Stage> make_stage(const std::string& name, const Fields& options);

// Applies a stage's mapping to its declared options (the same schema the CLI command binds):
// YAML keys with file:line errors, then resolve(). `extra_keys` are keys the stage reads itself.
// Returns how the file names each key, for renaming library OptionErrors at run time.
opt::Namer apply_stage_options(opt::Schema& schema, const Fields& fields,
                               const std::vector<std::string>& extra_keys = {});

// Runs a training stage's library call: a run stopped by SIGINT/SIGTERM (train::Interrupted, its
// checkpoint written) becomes a runtime error saying that the next build resumes it.
template <class F>
auto run_interruptible(const std::string& stage, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const train::Interrupted& e) {
    runtime_error("the " + stage + " stage was interrupted after step " + std::to_string(e.step), e.checkpoint,
                  "run the same nativelm build again to resume from this checkpoint");
  }
}

std::unique_ptr<Stage> make_curate_stage(const Fields& options);
std::unique_ptr<Stage> make_dedup_stage(const Fields& options);
std::unique_ptr<Stage> make_synth_stage(const Fields& options);
std::unique_ptr<Stage> make_tokenizer_stage(const Fields& options);
std::unique_ptr<Stage> make_tokenize_stage(const Fields& options);
std::unique_ptr<Stage> make_train_stage(const Fields& options);
std::unique_ptr<Stage> make_sft_stage(const Fields& options);
std::unique_ptr<Stage> make_dpo_stage(const Fields& options);
std::unique_ptr<Stage> make_eval_stage(const Fields& options);
std::unique_ptr<Stage> make_prune_stage(const Fields& options);
std::unique_ptr<Stage> make_distill_stage(const Fields& options);
std::unique_ptr<Stage> make_quantize_stage(const Fields& options);
std::unique_ptr<Stage> make_export_stage(const Fields& options);

}  // namespace nlm::pipeline
