// The `dpo` stage: preference optimization with the keys of `nativelm dpo` (docs/dpo.md), run by
// TuneStage (stage_tune.h) on the sft (or train) stage's model; its report summary holds the
// run's counts, losses and the last eval's reward figures, and charts of the loss, the reward
// accuracy, the rewards and the policy's log-probabilities, each on its own scale. With
// `from_corpus:` it trains on pairs made from the curated documents (corpus_source.h): a
// document's own ending chosen over another document's. `from_synth: true` takes the synth
// stage's judged preference pairs instead (task prefs; synth_source.h).
#include <filesystem>

#include "pipeline/corpus_source.h"
#include "pipeline/metric_curves.h"
#include "pipeline/stage_tune.h"
#include "pipeline/synth_source.h"
#include "train/dpo.h"

namespace nlm::pipeline {
namespace {
using nlohmann::json;

json summary(const train::DpoRunResult& r, const std::string& dir) {
  json c = read_curves((std::filesystem::path(dir) / "metrics.jsonl").string(),
                       {{"train loss", "loss"},
                        {"eval loss", "eval_loss"},
                        {"accuracy", "rewards/accuracies"},
                        {"eval accuracy", "eval_rewards/accuracies"},
                        {"margin", "rewards/margins"},
                        {"eval margin", "eval_rewards/margins"},
                        {"chosen reward", "rewards/chosen"},
                        {"rejected reward", "rewards/rejected"},
                        {"chosen", "logps/chosen"},
                        {"rejected", "logps/rejected"},
                        {"eval chosen", "eval_logps/chosen"},
                        {"eval rejected", "eval_logps/rejected"}});
  json j = {{"steps", r.train.steps},          {"records", r.records},
            {"pairs", r.pairs},                {"bad", r.bad},
            {"truncated", r.truncated},        {"dropped", r.dropped},
            {"eval_pairs", r.eval_pairs},      {"reference_reused", r.reference_reused},
            {"final_train_loss", r.train.last_loss}, {"final_eval_loss", r.train.last_eval_loss}};
  for (const auto& [name, v] : r.last_eval) j["eval_" + name] = v;
  // The loss is per pair, not per token as the report's "curves" chart says, so it is a chart too.
  j["charts"] = json::array(
      {chart("Loss curves", "DPO loss (mean over pairs)",
             {{"train loss", c["train loss"]}, {"eval loss", c["eval loss"]}}),
       chart("Reward accuracy", "share of pairs (chosen > rejected)",
             {{"train", c["accuracy"]}, {"eval", c["eval accuracy"]}}),
       chart("Rewards", "reward (beta x log-ratio)",
             {{"margin", c["margin"]},
              {"eval margin", c["eval margin"]},
              {"chosen", c["chosen reward"]},
              {"rejected", c["rejected reward"]}}),
       chart("Log-probabilities of the responses", "log-probability (nats)",
             {{"chosen", c["chosen"]},
              {"rejected", c["rejected"]},
              {"eval chosen", c["eval chosen"]},
              {"eval rejected", c["eval rejected"]}})});
  return j;
}

}  // namespace

std::unique_ptr<Stage> make_dpo_stage(const Fields& options) {
  using Sources = BothSources<CorpusSource<train::DpoTrainOptions, DpoCorpusKind>,
                              SynthSource<train::DpoTrainOptions, DpoSynthKind>>;
  return std::make_unique<TuneStage<train::DpoTrainOptions, train::DpoRunResult, Sources>>(options, "dpo", &train::run_dpo,
                                                                                  &summary);
}

}  // namespace nlm::pipeline
