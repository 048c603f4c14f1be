// The registry of documented option sets: one entry per declare() function.
#include "pipeline/option_tables.h"

#include "core/options.h"
#include "corpus/read_options.h"
#include "corpus/reshard.h"
#include "curate/calibrate.h"
#include "curate/corpus_stats.h"
#include "corpus/writer.h"
#include "curate/curate.h"
#include "curate/lid.h"
#include "curate/lid_eval.h"
#include "curate/lid_train.h"
#include "curate/quality.h"
#include "curate/quality_train.h"
#include "curate/dedup/decontam.h"
#include "curate/dedup/options.h"
#include "curate/dedup/segments.h"
#include "eval/judge/judge_options.h"
#include "synth/synth_options.h"
#include "eval/compare/leaderboard.h"
#include "eval/logprobs.h"
#include "eval/tasks/run_tasks.h"
#include "eval/metrics/bleu.h"
#include "eval/metrics/chrf.h"
#include "eval/metrics/rouge.h"
#include "eval/perplexity.h"
#include "model/gguf_export.h"
#include "compress/prune.h"
#include "compress/quantize.h"
#include "model/hf_export.h"
#include "model/peft_merge.h"
#include "model/text_generation.h"
#include "plan/auto_size.h"
#include "pipeline/synth_stage_options.h"
#include "plan/plan.h"
#include "serve/chat.h"
#include "serve/options.h"
#include "train/distill.h"
#include "train/dpo.h"
#include "train/sft.h"
#include "train/trainer.h"
#include "data/corpus_pairs.h"
#include "data/sft_options.h"
#include "data/tokenize_shards.h"
#include "tokenizer/encode_lines.h"
#include "tokenizer/publish.h"
#include "tokenizer/stats.h"

namespace nlm::pipeline {

namespace {

// The table of T's declaration over a default-constructed T.
template <class T>
std::function<std::string()> table_of() {
  return [] {
    T defaults;
    opt::Schema schema("");
    declare(schema, defaults);
    return schema.markdown();
  };
}

// The same for options that are only YAML keys (a curate step's options under `steps:` or
// `profiles:`): no flag column entries.
template <class T>
std::function<std::string()> yaml_table_of() {
  return [] {
    T defaults;
    opt::Schema schema("");
    declare(schema, defaults);
    for (auto& f : schema.fields()) f.no_flag();
    return schema.markdown();
  };
}

}  // namespace

const std::vector<OptionTable>& option_tables() {
  static const std::vector<OptionTable> tables = {
      {"read", "docs/corpus.md", table_of<corpus::ReadOptions>()},
      {"dedup", "docs/dedup.md", table_of<dedup::DedupOptions>()},
      {"dedup-lines", "docs/dedup.md", table_of<dedup::SegmentDedupOptions>()},
      {"decontam", "docs/dedup.md", table_of<dedup::DecontamOptions>()},
      {"corpus-stats", "docs/corpus.md", table_of<curate::CorpusStatsOptions>()},
      {"corpus-shard", "docs/corpus.md", table_of<corpus::ReshardOptions>()},
      {"curate", "docs/curate.md", table_of<curate::CurateOptions>()},
      {"curate.normalize", "docs/curate.md", yaml_table_of<curate::NormalizeOptions>()},
      {"curate.lid", "docs/curate.md", yaml_table_of<curate::LidOptions>()},
      {"curate.c4", "docs/curate.md", yaml_table_of<curate::C4Options>()},
      {"curate.gopher_quality", "docs/curate.md", yaml_table_of<curate::GopherQualityOptions>()},
      {"curate.gopher_repetition", "docs/curate.md", yaml_table_of<curate::GopherRepetitionOptions>()},
      {"curate.fineweb", "docs/curate.md", yaml_table_of<curate::FineWebOptions>()},
      {"curate.nemo", "docs/curate.md", yaml_table_of<curate::NemoOptions>()},
      {"curate.quality", "docs/curate.md", yaml_table_of<curate::QualityOptions>()},
      {"curate.pii", "docs/curate.md", yaml_table_of<curate::PiiOptions>()},
      {"curate.html", "docs/curate.md", yaml_table_of<curate::HtmlOptions>()},
      {"lid-train", "docs/curate.md", table_of<curate::LidTrainOptions>()},
      {"lid-labels", "docs/curate.md", table_of<curate::LidLabelsOptions>()},
      {"lid-predict", "docs/curate.md", table_of<curate::LidPredictOptions>()},
      {"lid-eval", "docs/curate.md", table_of<curate::LidEvalOptions>()},
      {"curate-calibrate", "docs/curate.md", table_of<curate::CalibrateOptions>()},
      {"quality-train", "docs/curate.md", table_of<curate::QualityTrainOptions>()},
      {"quality-eval", "docs/curate.md", table_of<curate::QualityEvalOptions>()},
      {"train", "docs/train.md", table_of<train::TrainOptions>()},
      {"plan", "docs/plan.md", table_of<plan::PlanOptions>()},
      {"train-size-auto", "docs/pipeline.md", yaml_table_of<plan::AutoSizeOptions>()},
      {"generate", "docs/train.md", table_of<model::GenerateOptions>()},
      {"ppl", "docs/train.md", table_of<eval::PerplexityOptions>()},
      {"eval", "docs/train.md", table_of<eval::EvalOptions>()},
      {"tokenizer-train", "docs/tokenizer.md", table_of<tokenizer::TrainTokenizerOptions>()},
      {"tokenizer-extend", "docs/tokenizer.md", table_of<tokenizer::ExtendTokenizerOptions>()},
      {"tokenizer-stats", "docs/tokenizer.md", table_of<tokenizer::StatsOptions>()},
      {"tokenizer-encode", "docs/tokenizer.md", table_of<tokenizer::EncodeOptions>()},
      {"tokenizer-decode", "docs/tokenizer.md", table_of<tokenizer::DecodeOptions>()},
      {"tokenize", "docs/tokenizer.md", table_of<data::TokenizeOptions>()},
      {"sft", "docs/sft.md", table_of<train::SftTrainOptions>()},
      {"sft-examples", "docs/sft.md", table_of<data::SftOptions>()},
      {"from-corpus", "docs/pipeline.md", yaml_table_of<data::CorpusPairsOptions>()},
      {"dpo", "docs/dpo.md", table_of<train::DpoTrainOptions>()},
      {"eval-bleu", "docs/eval.md", table_of<eval::metrics::BleuOptions>()},
      {"eval-chrf", "docs/eval.md", table_of<eval::metrics::ChrfOptions>()},
      {"eval-rouge", "docs/eval.md", table_of<eval::metrics::RougeOptions>()},
      {"eval-logprobs", "docs/eval.md", table_of<eval::LogprobsOptions>()},
      {"eval-run", "docs/eval.md", table_of<eval::tasks::TaskRunOptions>()},
      {"eval-judge", "docs/judge.md", table_of<eval::judge::JudgeOptions>()},
      {"eval-compare", "docs/eval.md", table_of<eval::CompareOptions>()},
      {"synth", "docs/synth.md", table_of<synth::SynthOptions>()},
      {"synth-stage", "docs/pipeline.md", yaml_table_of<SynthStageOptions>()},
      {"export-gguf", "docs/export.md", table_of<model::ExportGgufOptions>()},
      {"export-hf", "docs/export.md", table_of<model::ExportHfOptions>()},
      {"prune", "docs/compress.md", table_of<compress::PruneOptions>()},
      {"quantize", "docs/compress.md", table_of<compress::QuantizeOptions>()},
      {"distill", "docs/compress.md", table_of<train::DistillOptions>()},
      {"merge", "docs/lora.md", table_of<model::MergeOptions>()},
      {"serve", "docs/serve.md", table_of<serve::ServeOptions>()},
      {"chat", "docs/chat.md", table_of<serve::ChatOptions>()},
  };
  return tables;
}

}  // namespace nlm::pipeline
