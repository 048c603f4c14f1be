// Curves for the report from a training run's metrics.jsonl (one JSON object per step or eval,
// written by train/loop.cc). The train, sft and dpo stages all put their loss curves (and dpo
// its reward figures) into their summaries; this reads them one way for all three.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace nlm::pipeline {

// A curve's name in the report and the metrics.jsonl key it plots against "step".
struct CurveKey {
  std::string name, key;
};

// name -> [[step, value], ...] for each of `keys`, in metrics.jsonl order. Every name is in
// the object, empty when no line holds its key; a missing file gives empty curves, and lines
// that are not JSON objects with a numeric step are skipped.
nlohmann::json read_curves(const std::string& metrics_path, const std::vector<CurveKey>& keys);

// The last value of a curve, or `fallback` when it has no point.
nlohmann::json last_value(const nlohmann::json& curve, const nlohmann::json& fallback);

// One chart of a summary's "charts" list (report.cc draws each): a title, the y axis label, and
// its curves (name -> points). Curves without a point are left out.
nlohmann::json chart(const std::string& title, const std::string& y_label, const nlohmann::json& curves);

}  // namespace nlm::pipeline
