// What `train` and `sft` have in common besides the loop itself: the run options both structs
// hold under the same names (checkpoints, logging, seed, device, resume), declared once here, and
// the LoopOptions made from them. Templates over the options struct, so each struct keeps its
// plain fields (and its YAML keys and options JSON stay as they were).
#pragma once
#include <string>

#include "core/options.h"
#include "tensor/dtype.h"
#include "train/lora_options.h"
#include "train/loop.h"

namespace nlm::train {

// Declares checkpoint_every, keep_checkpoints, log_every, seed (documented by `seed_doc`),
// recompute, save_dtype, device, resume, force, mlflow and mlflow_experiment, in that order, then
// the lora.* keys.
template <class O>
void declare_run_fields(opt::Schema& s, O& o, const std::string& seed_doc) {
  s.add("checkpoint_every", o.checkpoint_every, "Steps between checkpoints (0 = only at the end)").min(0);
  s.add("keep_checkpoints", o.keep_checkpoints, "Newest checkpoints kept; older ones are deleted").min(1);
  s.add("log_every", o.log_every, "Steps between progress lines (0 = none)").min(0);
  s.add("seed", o.seed, seed_doc);
  s.add("recompute", o.recompute, "Recompute activations in backward (less memory, about 1/3 more compute)");
  s.choice("save_dtype", o.save_dtype,
           {{"float32", tensor::DType::F32}, {"bfloat16", tensor::DType::BF16}, {"float16", tensor::DType::F16}},
           "Weights dtype of model/ (checkpoints stay float32)");
  s.add("device", o.device,
        "Compute device: cpu, or cuda / cuda:N in builds with CUDA; losses repeat for a seed on one device and "
        "thread count");
  s.add("resume", o.resume, "Continue from the newest checkpoint in the run directory").no_yaml().no_json();
  s.add("force", o.force, "Start from step 0 although the run directory holds checkpoints (deletes them)")
      .no_yaml()
      .no_json();
  s.add("mlflow", o.mlflow,
        "MLflow file store (an mlruns folder) to log params, metrics and tags to (empty = none); a resumed run "
        "continues its MLflow run")
      .no_json();
  s.add("mlflow_experiment", o.mlflow_experiment, "MLflow experiment name (found or created in --mlflow)").no_json();
  declare(s, o.lora);
}

// Runs declare()'s checks (bounds, required fields) on a copy of `o`, for callers of run_sft /
// run_dpo that skip the schema. Throws OptionError.
template <class O>
void check_options(const O& o, const std::string& command) {
  O copy = o;
  opt::Schema schema(command);
  declare(schema, copy);
  schema.resolve();
}

// The loop settings both structs hold under the same names; the caller adds steps, tokenizer,
// seq_len, fingerprint, config_json and command.
template <class O>
LoopOptions loop_options(const O& o) {
  LoopOptions lo;
  lo.out_dir = o.out_dir;
  lo.grad_accum = o.grad_accum;
  lo.schedule = o.schedule;
  lo.optimizer = o.optimizer;
  lo.eval_every = o.eval_every;
  lo.checkpoint_every = o.checkpoint_every;
  lo.keep_checkpoints = o.keep_checkpoints;
  lo.log_every = o.log_every;
  lo.resume = o.resume;
  lo.force = o.force;
  lo.save_dtype = o.save_dtype;
  lo.merge_lora = o.lora.merge;
  lo.mlflow = o.mlflow;
  lo.mlflow_experiment = o.mlflow_experiment;
  return lo;
}

}  // namespace nlm::train
