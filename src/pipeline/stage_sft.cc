// The `sft` stage: supervised fine-tuning with the keys of `nativelm sft` (docs/sft.md), run by
// TuneStage (stage_tune.h); its report summary holds the run's counts, losses and loss curves.
// With `from_corpus:` instead of `data:` it trains on "continue this text" chats made from the
// curate or dedup stage's documents (corpus_source.h), written into the stage folder as
// from_corpus.jsonl: a chat model for a language that has no chat data yet. With
// `from_synth: true` it trains on the synth stage's question-answer or translated chats
// (synth_source.h).
#include <filesystem>

#include "pipeline/corpus_source.h"
#include "pipeline/metric_curves.h"
#include "pipeline/stage_tune.h"
#include "pipeline/synth_source.h"
#include "train/sft.h"

namespace nlm::pipeline {
namespace {
using nlohmann::json;

json summary(const train::SftRunResult& r, const std::string& dir) {
  json curves = read_curves((std::filesystem::path(dir) / "metrics.jsonl").string(),
                            {{"train loss", "loss"}, {"eval loss", "eval_loss"}});
  return {{"steps", r.train.steps},          {"records", r.records},
          {"examples", r.examples},          {"bad", r.bad},
          {"truncated", r.truncated},        {"dropped", r.dropped},
          {"eval_examples", r.eval_examples}, {"rows", r.rows},
          {"packing_fill", r.fill},          {"final_train_loss", r.train.last_loss},
          {"final_eval_loss", r.train.last_eval_loss}, {"tokens_per_second", r.train.tokens_per_second},
          {"curves", curves}};
}

}  // namespace

std::unique_ptr<Stage> make_sft_stage(const Fields& options) {
  using Sources = BothSources<CorpusSource<train::SftTrainOptions, SftCorpusKind>,
                              SynthSource<train::SftTrainOptions, SftSynthKind>>;
  return std::make_unique<TuneStage<train::SftTrainOptions, train::SftRunResult, Sources>>(options, "sft", &train::run_sft,
                                                                                  &summary);
}

}  // namespace nlm::pipeline
