// MLflow logging of a train/sft/dpo run (core/mlflow_store.h), kept out of loop.cc's way: the
// run is started (params from the options JSON) or, on resume, reopened from the id in
// out_dir/mlflow_run_id; each metrics.jsonl record is logged with its step; the run ends
// FINISHED, KILLED (interrupted) or FAILED (any other exception). A no-op when options.mlflow
// is empty.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "train/loop.h"

namespace nlm::mlflow {
class Run;
}

namespace nlm::train {

class RunTracker {
 public:
  RunTracker(const LoopOptions& options, int64_t start_step);
  ~RunTracker();  // marks the run FAILED unless finished() or killed() ran
  RunTracker(const RunTracker&) = delete;
  RunTracker& operator=(const RunTracker&) = delete;

  void log(int64_t step, const Figures& figures) const;
  void finished(const std::string& metrics_path);
  void killed();

 private:
  std::unique_ptr<mlflow::Run> run_;
  bool ended_ = false;
};

}  // namespace nlm::train
