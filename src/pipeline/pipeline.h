// `nativelm build PIPELINE.yaml`: the whole path from raw text to an evaluated model, described
// once in a pipeline file. Stages run in a fixed order (curate, dedup, synth, tokenizer, tokenize,
// train, sft, dpo, eval); each writes into WORK/<stage>/ and records WORK/<stage>/stage.json
// last. A rerun skips a stage whose fingerprint (kind, options, raw inputs, and the fingerprints
// of the stages it depends on) is unchanged, like make: change a training option and only train
// and eval rerun.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "pipeline/stage.h"

namespace nlm::pipeline {

struct PipelineSpec {
  std::string path;                       // the pipeline file
  std::string name;                       // shown in the report
  std::string work_dir;                   // stage folders, report.html, report.json
  std::vector<std::string> inputs;        // raw input files, folders or globs
  corpus::ReadOptions read;               // how raw inputs are read
  std::vector<std::unique_ptr<Stage>> stages;  // in run order
};

// Parses and validates a pipeline file. A malformed file is a usage error naming the key and line.
PipelineSpec load_pipeline(const std::string& path);
PipelineSpec parse_pipeline(const std::string& yaml, const std::string& path);

struct BuildOptions {
  std::string from;     // first stage to run ("" = the first); earlier stages must be complete
  std::string until;    // last stage to run ("" = the last)
  bool dry_run = false; // print the plan and what would run, run nothing
  bool force = false;   // rerun the selected stages even when up to date
};

struct StagePlan {
  std::string name;
  std::string fingerprint;
  enum class Action { Run, Skip, OutOfRange } action = Action::Run;
  std::string why;  // "up to date", "options changed", "not run before", ...
};

struct BuildResult {
  std::vector<StagePlan> plan;
  int ran = 0, skipped = 0;
  std::string report_html, report_json;  // paths (empty on a dry run)
};

BuildResult run_build(PipelineSpec& spec, const BuildOptions& options);

}  // namespace nlm::pipeline
