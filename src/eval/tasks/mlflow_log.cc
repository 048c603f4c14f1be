// eval run's MLflow logging (see mlflow_log.h).
#include "eval/tasks/mlflow_log.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/mlflow_store.h"

namespace nlm::eval::tasks {

namespace fs = std::filesystem;

std::string mlflow_metric_key(const std::string& task, const std::string& key) {
  const auto comma = key.find(',');
  std::string name = key.substr(0, comma);
  if (comma != std::string::npos && key.substr(comma + 1) != "none") name += "." + key.substr(comma + 1);
  return task + "/" + name;
}

std::string log_to_mlflow(const nlohmann::ordered_json& j, const std::string& model_dir, const TaskRunOptions& o) {
  std::string tasks;
  for (auto& [task, r] : j["results"].items()) tasks += (tasks.empty() ? "" : ",") + task;
  const std::string model = fs::path(model_dir).lexically_normal().filename().string();
  auto run = mlflow::Run::start(o.mlflow, o.mlflow_experiment, "eval " + model + " " + tasks, "nativelm eval run");
  run.tag("nativelm.command", "eval run");
  run.tag("nativelm.tasks", tasks);
  run.param("tasks", tasks);
  run.param("num_fewshot", std::to_string(o.num_fewshot));
  nlohmann::ordered_json params = {{"config", j["config"]}};
  for (auto& [task, c] : j["configs"].items()) params[task] = c;
  for (auto& [task, n] : j["n-shot"].items()) params[task]["n_shot"] = n;
  run.params_from_json(params.dump());
  const int64_t t = mlflow::now_ms();
  for (auto& [task, r] : j["results"].items())
    for (auto& [key, v] : r.items())
      if (v.is_number()) run.metric(mlflow_metric_key(task, key), v.get<double>(), 0, t);
  if (!o.output.empty()) {
    run.artifact(o.output + "/results.json");
    for (auto& [task, r] : j["results"].items())
      if (fs::exists(o.output + "/samples_" + task + ".jsonl")) run.artifact(o.output + "/samples_" + task + ".jsonl");
  } else {
    write_file_atomic(run.dir() + "/artifacts/results.json", j.dump(2) + "\n");
  }
  run.end(mlflow::RunStatus::Finished);
  return run.id();
}

}  // namespace nlm::eval::tasks
