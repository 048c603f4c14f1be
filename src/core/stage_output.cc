// Manifest bookkeeping shared by the stages that skip finished work (dedup, dedup-lines, decontam).
#include "core/stage_output.h"

#include "core/atomic_file.h"

namespace nlm {

Manifest begin_stage(const std::string& stage, const std::string& options_json, const std::vector<std::string>& files,
                     const std::string& dir, bool force, bool& up_to_date, const std::vector<std::string>& extra_inputs) {
  Manifest manifest;
  manifest.stage = stage;
  manifest.options_json = options_json;
  for (const auto& f : files) manifest.inputs.push_back(describe_file(f));
  for (const auto& f : extra_inputs) manifest.inputs.push_back(describe_file(f));
  up_to_date = false;
  if (!force) {
    auto old = read_manifest(dir);
    up_to_date = old && manifest_matches(*old, dir, stage, options_json, manifest.inputs);
  }
  return manifest;
}

void publish_stage(Manifest manifest, const std::string& dir, double seconds, const std::string& report_json) {
  manifest.seconds = seconds;
  manifest.stats_json = report_json;
  write_file_atomic(dir + "/report.json", report_json + "\n");
  write_manifest(dir, manifest);
}

}  // namespace nlm
