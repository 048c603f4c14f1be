// RunTracker (see tracking.h).
#include "train/tracking.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/log.h"
#include "core/mlflow_store.h"

namespace nlm::train {

namespace fs = std::filesystem;

RunTracker::RunTracker(const LoopOptions& o, int64_t start) {
  if (o.mlflow.empty()) return;
  const std::string id_file = o.out_dir + "/mlflow_run_id";
  if (start > 0 && fs::exists(id_file)) {
    std::string id = read_file(id_file);
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    run_ = std::make_unique<mlflow::Run>(mlflow::Run::reopen(o.mlflow, id));
    run_->drop_metrics_after(start);
    return;
  }
  const std::string name = fs::path(o.out_dir).lexically_normal().filename().string();
  run_ = std::make_unique<mlflow::Run>(
      mlflow::Run::start(o.mlflow, o.mlflow_experiment, name.empty() ? o.command : name, "nativelm " + o.command));
  run_->tag("nativelm.command", o.command);
  run_->tag("nativelm.out_dir", fs::absolute(o.out_dir).lexically_normal().string());
  if (!o.config_json.empty()) run_->params_from_json(o.config_json);
  make_dirs(o.out_dir);
  write_file_atomic(id_file, run_->id() + "\n");
}

RunTracker::~RunTracker() {
  if (!run_ || ended_) return;
  try {
    run_->end(mlflow::RunStatus::Failed);
  } catch (const std::exception& e) {
    log::warn(std::string("could not mark the MLflow run failed: ") + e.what());
  }
}

void RunTracker::log(int64_t step, const Figures& figures) const {
  if (!run_) return;
  const int64_t t = mlflow::now_ms();
  for (const auto& [key, value] : figures) run_->metric(key, value, step, t);
}

void RunTracker::finished(const std::string& metrics_path) {
  if (!run_) return;
  if (fs::exists(metrics_path)) run_->artifact(metrics_path);
  run_->end(mlflow::RunStatus::Finished);
  ended_ = true;
}

void RunTracker::killed() {
  if (!run_) return;
  run_->end(mlflow::RunStatus::Killed);
  ended_ = true;
}

}  // namespace nlm::train
