// `nativelm eval run`: evaluates a model on lm-eval-style task files (task_config.h) and reports
// in lm-eval's results shape. Per task: documents of the eval split (first `limit`), few-shot
// contexts from the few-shot split, requests by output_type (multiple_choice, loglikelihood,
// loglikelihood_rolling through LmScorer; generate_until through greedy generation), metrics
// and lm-eval's standard errors: sample standard deviation / sqrt(n) for mean metrics, a
// bootstrap for perplexity.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/loglikelihood.h"
#include "eval/tasks/task_config.h"

namespace nlm::model {
class Llama;
}
namespace nlm::tokenizer {
class Tokenizer;
}

namespace nlm::eval::tasks {

struct TaskRunOptions {
  ScoringOptions scoring;
  int num_fewshot = -1;         // overrides every task's num_fewshot; -1 = the task's (else 0)
  int64_t limit = 0;            // documents per task at most; 0 = all
  uint64_t fewshot_seed = 1234; // seeds the default few-shot sampler (lm-eval's default seed)
  std::string output;           // folder for results.json and samples_TASK.jsonl; empty = none
  std::string device = "cpu";   // compute device, as tensor::backend_for() names it
  int bootstrap_iters = 100000; // resamples for perplexity's standard error (lm-eval's default); 0 = N/A
  std::string mlflow;           // MLflow file store to log to (mlflow_log.h); empty = none
  std::string mlflow_experiment = "nativelm";
};
void declare(opt::Schema& schema, TaskRunOptions& options);

struct TaskResult {
  std::string task;
  int n_shot = 0;
  size_t n_docs = 0;                            // documents evaluated (after skips and limit)
  size_t n_original = 0;                        // rows of the eval split, usable or not
  nlohmann::ordered_json metrics;               // {"acc,none": x, "acc_stderr,none": y, ...}
  std::vector<nlohmann::ordered_json> samples;  // one per document
  std::vector<std::string> skipped;             // "file:line: why"
};

TaskResult run_task(model::Llama& model, const tokenizer::Tokenizer& tok, const TaskConfig& config,
                    const TaskRunOptions& options);

// {"results", "versions", "n-shot", "higher_is_better", "n-samples", "configs", "config"} as lm-eval
// writes them.
nlohmann::ordered_json results_json(const std::vector<TaskConfig>& configs, const std::vector<TaskResult>& results,
                                    const std::string& model_dir, const TaskRunOptions& options);

// The whole command: loads the model and the task files, runs every task, writes the output
// folder (results.json, samples_TASK.jsonl) when set, and prints a table of the metrics to `out`.
void run_eval_tasks(const std::string& model_dir, const std::vector<std::string>& task_files,
                    const TaskRunOptions& options, std::ostream& out);

// lm-eval's helpers, exposed for tests: mean-metric standard error, words as re.split(r"\s+").
double mean_stderr(const std::vector<double>& xs);
// Bootstrap standard error of perplexity = exp(-mean(lls)): the sample standard deviation of
// `iters` resampled (with replacement, seeded) perplexities; NaN for iters < 2 or no items.
double perplexity_bootstrap_stderr(const std::vector<double>& lls, int iters, uint64_t seed);
size_t count_words(const std::string& s);
size_t count_chars(const std::string& s);  // Unicode code points (Python len)

}  // namespace nlm::eval::tasks
