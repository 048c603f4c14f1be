// Writes runs in MLflow's file-store layout, so `mlflow ui --backend-store-uri DIR` shows what
// nativelm trained and evaluated without an MLflow client in the process:
//   DIR/<experiment_id>/meta.yaml                     the experiment (name, artifact_location, ...)
//   DIR/<experiment_id>/<run_id>/meta.yaml            the run (status, start_time, end_time, ...)
//   DIR/<experiment_id>/<run_id>/params/<key>         the value, no newline
//   DIR/<experiment_id>/<run_id>/metrics/<key>        lines "timestamp_ms value step"
//   DIR/<experiment_id>/<run_id>/tags/<key>           the value
//   DIR/<experiment_id>/<run_id>/artifacts/           copied files
// Keys with '/' are sub-folders, as in MLflow's FileStore. Experiment 0 "Default" is created
// with the store, as MLflow does; other experiments are found by name or get the next number.
#pragma once
#include <cstdint>
#include <string>

namespace nlm::mlflow {

// MLflow's RunStatus numbers, as meta.yaml stores them.
enum class RunStatus { Running = 1, Scheduled = 2, Finished = 3, Failed = 4, Killed = 5 };

// Milliseconds since the Unix epoch (MLflow's timestamps).
int64_t now_ms();

// The id of the experiment named `name` under `root`, created (with root and experiment 0) if
// no experiment folder's meta.yaml has that name.
std::string experiment_id(const std::string& root, const std::string& name);

// Turns a key into a valid MLflow name: ASCII characters other than letters, digits and
// "_-. /:" become '_', ".." and leading '/' are removed; UTF-8 letters stay.
std::string clean_key(const std::string& key);

class Run {
 public:
  // Starts a RUNNING run named `run_name` in experiment `experiment` (by name) with the tags
  // mlflow.runName, mlflow.source.name (`source`), mlflow.source.type and mlflow.user.
  static Run start(const std::string& root, const std::string& experiment, const std::string& run_name,
                   const std::string& source);
  // Reopens run `run_id` (found in any experiment under root) and marks it RUNNING again;
  // a usage error names root when there is no such run.
  static Run reopen(const std::string& root, const std::string& run_id);

  const std::string& id() const { return id_; }
  const std::string& dir() const { return dir_; }  // root/<experiment_id>/<run_id>

  void param(const std::string& key, const std::string& value) const;
  // One param per scalar of a JSON object, keys dotted by nesting ("schedule.lr"), strings
  // unquoted, arrays as JSON text. Throws on text that is not JSON.
  void params_from_json(const std::string& json_text) const;
  void tag(const std::string& key, const std::string& value) const;
  void metric(const std::string& key, double value, int64_t step, int64_t timestamp_ms = now_ms()) const;
  // Drops metric lines with step > `step` (a resumed run rewrites those steps).
  void drop_metrics_after(int64_t step) const;
  // Copies `file` into artifacts/ (as `name`, default its file name).
  void artifact(const std::string& file, const std::string& name = "") const;
  // Sets status and end_time in meta.yaml.
  void end(RunStatus status) const;

 private:
  void write_meta(RunStatus status, int64_t end_time) const;
  std::string id_, dir_, experiment_id_, run_name_, user_, artifact_uri_;
  int64_t start_time_ = 0;
};

}  // namespace nlm::mlflow
