// The start and end a stage's output folder goes through: a manifest naming the stage, options
// and inputs (with the up-to-date check that lets a rerun skip finished work), and publication of
// report.json plus manifest.json (written last, so its presence means "finished").
#pragma once
#include <string>
#include <vector>

#include "core/manifest.h"

namespace nlm {

// Describes `files` (and `extra_inputs`, such as benchmark files) into a manifest for `stage`.
// `up_to_date` is set when `dir` already holds the output of the same stage, options and inputs
// and `force` is off.
Manifest begin_stage(const std::string& stage, const std::string& options_json, const std::vector<std::string>& files,
                     const std::string& dir, bool force, bool& up_to_date,
                     const std::vector<std::string>& extra_inputs = {});

// Writes DIR/report.json, then DIR/manifest.json (with the report as stats). `manifest.outputs`
// must already list what the run wrote.
void publish_stage(Manifest manifest, const std::string& dir, double seconds, const std::string& report_json);

}  // namespace nlm
