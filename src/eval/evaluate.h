// Whole evaluations as single calls, so the `eval ppl` command and the pipeline's eval stage are
// front ends over the same code: load the model on its device, read the documents, score them.
#pragma once
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "eval/perplexity.h"

namespace nlm::eval {

// `nativelm eval ppl`: perplexity of the model in `model_dir` over `files` (.tok shards, or
// documents encoded with the folder's tokenizer.json).
PerplexityResult perplexity_of_files(const std::string& model_dir, const std::vector<std::string>& files,
                                     const corpus::ReadOptions& read, const PerplexityOptions& options);

// The pipeline's eval stage: bits per byte on `val_shards` (when given), a sampled completion of
// each of options.samples through `tokenizer` (when given), and options.tasks at each of
// options.task_shots (through the model folder's tokenizer.json): "leaderboard" rows (task,
// n_shot, metric, value, stderr) and, under "task_results", lm-eval's results.json object per
// few-shot count (keyed "0", "5", ...). Returns eval.json's object.
std::string evaluate_model(const std::string& model_dir, const std::vector<std::string>& val_shards,
                           const std::string& tokenizer, const EvalOptions& options);

}  // namespace nlm::eval
