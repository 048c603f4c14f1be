// How every stage's output folder records, skips and publishes finished work, built on
// core/manifest.h: a run is planned as a manifest (stage, options, inputs with size and hash); a
// folder whose manifest.json records the same plan, with its outputs intact, is finished, and a
// rerun skips it; a run retracts the old manifest before it writes and publishes the new one
// last (after report.json), so manifest.json exists only while the folder holds finished output.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/manifest.h"

namespace nlm {

// The manifest a run of `stage` will publish, with its inputs described up front. Outputs,
// seconds and stats are filled when the run ends.
Manifest plan_stage(const std::string& stage, const std::string& options_json, const std::vector<std::string>& inputs);
Manifest plan_stage(const std::string& stage, const std::string& options_json, std::vector<FileEntry> inputs);

// DIR/manifest.json when it records the run `plan` describes (same stage, options and inputs, and
// every output it lists still there with its size): that run is finished and can be skipped.
// nullopt when it is missing, differs or is unreadable, and always with `force`. A finished DIR is
// swept of dead runs' temp files (remove_stale_temps), which a kill right after the manifest
// leaves behind.
std::optional<Manifest> finished_stage(const std::string& dir, const Manifest& plan, bool force);

// Removes DIR/manifest.json, so that a run killed from here on is never taken for a finished one.
void retract_stage(const std::string& dir);

// Publishes a finished run: writes `report` (when not empty) to DIR/report.json as is, then
// DIR/manifest.json, last, with `seconds` and `stats_json`, and removes the temp files that killed
// earlier runs left in DIR (remove_stale_temps). `manifest.outputs` must already list what the run
// wrote.
void publish_stage(const std::string& dir, Manifest manifest, double seconds, const std::string& stats_json,
                   const std::string& report = "");

}  // namespace nlm
