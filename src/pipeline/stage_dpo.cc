// The `dpo` stage: preference optimization with the keys of `nativelm dpo` (docs/dpo.md), run by
// TuneStage (stage_tune.h) on the sft (or train) stage's model; its report summary holds the
// run's counts, losses and the last eval's reward figures.
#include "pipeline/stage_tune.h"
#include "train/dpo.h"

namespace nlm::pipeline {
namespace {

nlohmann::json summary(const train::DpoRunResult& r) {
  nlohmann::json j = {{"steps", r.train.steps},          {"records", r.records},
                      {"pairs", r.pairs},                {"bad", r.bad},
                      {"truncated", r.truncated},        {"dropped", r.dropped},
                      {"eval_pairs", r.eval_pairs},      {"reference_reused", r.reference_reused},
                      {"final_train_loss", r.train.last_loss}, {"final_eval_loss", r.train.last_eval_loss}};
  for (const auto& [name, v] : r.last_eval) j["eval_" + name] = v;
  return j;
}

}  // namespace

std::unique_ptr<Stage> make_dpo_stage(const Fields& options) {
  return std::make_unique<TuneStage<train::DpoTrainOptions, train::DpoRunResult>>(options, "dpo", &train::run_dpo,
                                                                                  &summary);
}

}  // namespace nlm::pipeline
