// The `sft` stage: supervised fine-tuning with the keys of `nativelm sft` (docs/sft.md), run by
// TuneStage (stage_tune.h); its report summary holds the run's counts, losses and loss curves.
// With `from_corpus:` instead of `data:` it trains on "continue this text" chats made from the
// curate or dedup stage's documents (data/corpus_pairs.h), written into the stage folder as
// from_corpus.jsonl: a chat model for a language that has no chat data yet.
#include <filesystem>

#include "core/log.h"
#include "data/corpus_pairs.h"
#include "pipeline/metric_curves.h"
#include "pipeline/stage_tune.h"
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

// `from_corpus:`: the chats are made from the newest curated documents before the run.
class CorpusPairsSource {
 public:
  void declare(opt::Schema& s, const Fields& f, train::SftTrainOptions& o) {
    data::declare(s, options_);
    const YAML::Node& node = f.node();
    on_ = node.IsMap() && node["from_corpus"].IsDefined();  // `from_corpus:` alone (null): the defaults
    if (!on_) return;
    where_ = f.where("from_corpus");
    if (f.has("data"))
      f.fail("from_corpus", "and data are both given", "drop data to train on pairs made from the corpus, or drop from_corpus");
    o.data = {"(from_corpus.jsonl in the stage folder)"};
  }

  json prepare(train::SftTrainOptions& o, const std::string& dir, const Artifacts& in) const {
    if (!on_) return nullptr;
    if (in.documents_stage.empty())
      usage_error("the sft stage's from_corpus has no curated documents", where_,
                  "add a curate or dedup stage before it, or list chat JSONL files in data:");
    const std::string path = (std::filesystem::path(dir) / "from_corpus.jsonl").string();
    data::CorpusPairsResult r = data::write_corpus_pairs(in.documents, in.read, options_, path);
    log::info("sft from_corpus: " + std::to_string(r.pairs) + " pairs from " + std::to_string(r.documents) +
              " " + in.documents_stage + " documents (" + std::to_string(r.too_short) + " too short, " +
              std::to_string(r.too_long) + " too long) in " + path);
    if (r.pairs == 0)
      usage_error("the sft stage's from_corpus made no pairs from " + std::to_string(r.documents) + " documents",
                  where_, "lower from_corpus.min_words or raise from_corpus.max_words");
    o.data = {path};
    return {{"from_corpus", {{"documents", r.documents},
                             {"pairs", r.pairs},
                             {"too_short", r.too_short},
                             {"too_long", r.too_long},
                             {"source_stage", in.documents_stage}}}};
  }

 private:
  data::CorpusPairsOptions options_;
  bool on_ = false;
  std::string where_;
};

}  // namespace

std::unique_ptr<Stage> make_sft_stage(const Fields& options) {
  return std::make_unique<TuneStage<train::SftTrainOptions, train::SftRunResult, CorpusPairsSource>>(
      options, "sft", &train::run_sft, &summary);
}

}  // namespace nlm::pipeline
