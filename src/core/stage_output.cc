// The one skip-if-done and publish mechanism of the stages (see stage_output.h).
#include "core/stage_output.h"

#include <cstdio>

#include "core/atomic_file.h"

namespace nlm {

Manifest plan_stage(const std::string& stage, const std::string& options_json, const std::vector<std::string>& inputs) {
  std::vector<FileEntry> described;
  described.reserve(inputs.size());
  for (const auto& f : inputs) described.push_back(describe_file(f));
  return plan_stage(stage, options_json, std::move(described));
}

Manifest plan_stage(const std::string& stage, const std::string& options_json, std::vector<FileEntry> inputs) {
  Manifest plan;
  plan.stage = stage;
  plan.options_json = options_json;
  plan.inputs = std::move(inputs);
  return plan;
}

std::optional<Manifest> finished_stage(const std::string& dir, const Manifest& plan, bool force) {
  if (force) return std::nullopt;
  auto old = read_manifest(dir);
  if (!old || !manifest_matches(*old, dir, plan.stage, plan.options_json, plan.inputs)) return std::nullopt;
  // A run killed between its manifest and its sweep (publish_stage) is finished, but the temps of
  // runs killed before it are still there; the skipping rerun sweeps them.
  remove_stale_temps(dir);
  return old;
}

void retract_stage(const std::string& dir) { std::remove((dir + "/manifest.json").c_str()); }

void publish_stage(const std::string& dir, Manifest manifest, double seconds, const std::string& stats_json,
                   const std::string& report) {
  manifest.seconds = seconds;
  manifest.stats_json = stats_json;
  if (!report.empty()) write_file_atomic(dir + "/report.json", report);
  write_manifest(dir, manifest);
  remove_stale_temps(dir);
}

}  // namespace nlm
