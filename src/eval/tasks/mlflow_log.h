// `eval run --mlflow DIR`: one MLflow run per evaluation (core/mlflow_store.h). Params are
// results.json's "config" (model, batch_size, limit, ...) and each task's config as
// TASK.key; metrics are every number of "results" as TASK/metric (the filter appended as
// TASK/metric.FILTER when it is not "none"), logged at step 0; artifacts are results.json and
// the samples files of --output (or results.json alone without it).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "eval/tasks/run_tasks.h"

namespace nlm::eval::tasks {

// Logs and ends (FINISHED) the run; returns its id.
std::string log_to_mlflow(const nlohmann::ordered_json& results, const std::string& model_dir,
                          const TaskRunOptions& options);

// The MLflow metric key of a results key of `task`: "acc,none" -> "TASK/acc",
// "exact_match,strict-match" -> "TASK/exact_match.strict-match".
std::string mlflow_metric_key(const std::string& task, const std::string& results_key);

}  // namespace nlm::eval::tasks
