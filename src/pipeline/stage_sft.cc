// The `sft` stage: supervised fine-tuning with the keys of `nativelm sft` (docs/sft.md), run by
// TuneStage (stage_tune.h); its report summary holds the run's counts and losses.
#include "pipeline/stage_tune.h"
#include "train/sft.h"

namespace nlm::pipeline {
namespace {

nlohmann::json summary(const train::SftRunResult& r) {
  return {{"steps", r.train.steps},          {"records", r.records},
          {"examples", r.examples},          {"bad", r.bad},
          {"truncated", r.truncated},        {"dropped", r.dropped},
          {"eval_examples", r.eval_examples}, {"rows", r.rows},
          {"packing_fill", r.fill},          {"final_train_loss", r.train.last_loss},
          {"final_eval_loss", r.train.last_eval_loss}, {"tokens_per_second", r.train.tokens_per_second}};
}

}  // namespace

std::unique_ptr<Stage> make_sft_stage(const Fields& options) {
  return std::make_unique<TuneStage<train::SftTrainOptions, train::SftRunResult>>(options, "sft", &train::run_sft,
                                                                                  &summary);
}

}  // namespace nlm::pipeline
