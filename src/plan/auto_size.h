// `size: auto` in a pipeline's train stage: the planner of `nativelm plan`, run on the hardware
// of this train run (its device; this machine's CPU and threads for cpu), a budget (the plan.*
// keys, the budget keys of `nativelm plan`) and the tokens the tokenize stage produced, fills
// the model shape, batch, steps and learning rate of train::TrainOptions, except the keys the
// user set, which win. Kept apart from stage_train.cc so the pipeline stage stays a thin caller.
#pragma once
#include <string>
#include <vector>

#include "plan/plan.h"
#include "train/trainer.h"

namespace nlm::plan {

struct AutoSizeOptions {
  std::string size;       // "auto" = the planner picks the shape; empty = the model.* keys as given
  BudgetOptions budget;   // plan.gpu, plan.hours, plan.gpu_hours, ... (declare_budget)
};
// Keys: size, then plan.* (declare_budget with prefix "plan."). Checks: size is "auto" or
// empty; with auto a budget is required, without it no plan.hours or plan.gpu_hours.
void declare(opt::Schema& schema, AutoSizeOptions& options);

// A plan for a train run and what was done with it.
struct AutoSize {
  Plan plan;                            // the fields apply_plan and the report use
  std::string text;                     // plan_text of the plan when it was made
  std::string inputs;                   // JSON of what the plan was made from (reuse key)
  std::vector<std::string> explicit_keys;  // train keys the user set, which won over the plan
};

// The planner's options for a run of `train` on the shards of the tokenize folder `data_dir`
// (its manifest gives the tokens) with `vocab` tokens: hardware from train.device (cpu: this
// machine; cuda: plan.gpu, which must name a GPU kind), one device, seq_len when `given` has it.
// `given` is the stage's schema (which keys the user set).
PlanOptions plan_options_for(const AutoSizeOptions& a, const train::TrainOptions& train, const opt::Schema& given,
                             const std::string& data_dir, int64_t vocab);
// The key under which plan_options_for's result is remembered: its options JSON and the shards'
// token count, so a rerun with the same budget and data reuses the plan instead of measuring the
// machine again (a resumed run must train the same shape, steps and schedule).
std::string plan_inputs_json(const PlanOptions& p, const std::vector<std::string>& train_shards);

// Writes the plan's shape (not vocab_size), seq_len, batch_size, grad_accum, steps, recompute
// and cosine schedule (lr, min_lr, warmup_steps) into `train`, skipping each key `given` has;
// returns the skipped keys (not seq_len: a given one was planned for). With init_from the shape is the checkpoint's and is not written.
std::vector<std::string> apply_plan(const Plan& plan, train::TrainOptions& train, const opt::Schema& given);

// plan.json of a stage folder: the inputs key, the plan text, the plan's figures and the
// explicit keys; and back (the fields apply_plan and plan_summary_json use). Throws Error on a
// damaged file.
std::string auto_size_json(const AutoSize& a);
AutoSize auto_size_from_json(const std::string& text, const std::string& path);
// The short summary for the report: shape, binds (and why), epochs, tokens, steps, batch, lr,
// the hardware's achieved TFLOP/s, and the explicit keys.
std::string plan_summary_json(const AutoSize& a);

}  // namespace nlm::plan
