// Parsing of pipeline files and the make-like build loop: fingerprints chain from the raw inputs
// through every stage, stage.json is published last, and only changed stages (and what follows
// them) run again.
#include "pipeline/pipeline.h"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/manifest.h"
#include "core/options_yaml.h"
#include "corpus/inputs.h"
#include "pipeline/report.h"
#include "pipeline/stages.h"
#include "pipeline/yaml_fields.h"

namespace nlm::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

PipelineSpec parse_pipeline(const std::string& text, const std::string& path) {
  YAML::Node root = opt::load_yaml(text, path);
  if (!root.IsMap()) usage_error("a pipeline file must be a mapping", path, "see docs/pipeline.md");
  PipelineSpec spec;
  spec.path = path;
  spec.name = fs::path(path).stem().string();
  opt::Schema top_schema("");
  top_schema.add("name", spec.name, "Shown in the report (default: the file name)");
  top_schema.add("work_dir", spec.work_dir, "Folder of the stage outputs, report.html and report.json");
  top_schema.add("inputs", spec.inputs, "Raw input files, folders or globs");
  top_schema.check([&spec] {
    if (spec.work_dir.empty()) opt::fail("work_dir", "is required", "name the folder for stage outputs");
    if (spec.inputs.empty()) opt::fail("inputs", "is required", "list input files, folders or globs");
  });
  opt::YamlSource top_src{path, ""};
  opt::apply_yaml(top_schema, root, top_src, {"read", "stages"});
  opt::named(opt::yaml_namer(root, top_src), [&] { top_schema.resolve(); });
  Fields top(root, "", path);

  opt::Schema read_schema("read");
  corpus::declare(read_schema, spec.read);
  opt::YamlSource read_src{path, "read"};
  opt::apply_yaml(read_schema, top.get("read"), read_src);
  opt::named(opt::yaml_namer(top.get("read"), read_src), [&] { read_schema.resolve(); });

  YAML::Node stages = top.get("stages");
  if (!stages.IsDefined() || stages.IsNull()) top.fail("stages", "is required", "name at least one stage");
  if (!stages.IsMap()) top.fail("stages", "must be a mapping of stage name: options");
  for (const auto& kv : stages) {
    // A key that is no scalar (`? [a]`, `? :`) has no name; yaml-cpp's as<string>() would throw.
    std::string name = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    bool known = false;
    for (const auto& n : stage_order()) known = known || n == name;
    if (!known) {
      std::string list;
      for (const auto& n : stage_order()) list += (list.empty() ? "" : ", ") + n;
      usage_error(kv.first.IsScalar() ? "unknown stage '" + name + "'" : std::string("a stage name must be a word"),
                  opt::yaml_where(kv.first, path), "stages are: " + list);
    }
  }
  for (const auto& name : stage_order()) {
    if (!stages[name].IsDefined()) continue;
    spec.stages.push_back(make_stage(name, Fields(stages[name], name, path)));
  }
  if (spec.stages.empty()) top.fail("stages", "is empty", "name at least one stage");
  std::set<std::string> provided;
  for (const auto& stage : spec.stages) {
    stage->check_needs(provided);
    for (const auto& p : stage->provides()) provided.insert(p);
  }
  return spec;
}

PipelineSpec load_pipeline(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) usage_error("pipeline file not found", path, "check the path");
  return parse_pipeline(read_file(path), path);
}

namespace {

std::string source_fingerprint(const PipelineSpec& spec, const std::vector<std::string>& files) {
  json j;
  j["read"] = {{"format", corpus::input_format_name(spec.read.format)},
               {"text_mode", corpus::text_mode_name(spec.read.text_mode)},
               {"text_field", spec.read.text_field},
               {"id_field", spec.read.id_field}};
  json in = json::array();
  for (const auto& f : files) {
    FileEntry e = describe_file(f);
    in.push_back({e.path, e.bytes, e.hash});
  }
  j["inputs"] = in;
  return hash128(j.dump()).hex();
}

struct StageState {
  std::string fingerprint;
  json summary;
  double seconds = 0;
};

std::optional<StageState> read_state(const std::string& dir) {
  std::string path = (fs::path(dir) / "stage.json").string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  try {
    std::string text = read_file(path);
    check_json_depth(text, path);
    json j = json::parse(text);
    return StageState{j.at("fingerprint").get<std::string>(), j.value("summary", json::object()),
                      j.value("seconds", 0.0)};
  } catch (const std::exception&) {
    return std::nullopt;  // a damaged state file means the stage reruns
  }
}

size_t stage_index(const PipelineSpec& spec, const std::string& name, const char* flag) {
  if (name.empty()) return std::string(flag) == "--from" ? 0 : spec.stages.size() - 1;
  for (size_t i = 0; i < spec.stages.size(); ++i)
    if (spec.stages[i]->name() == name) return i;
  std::string list;
  for (const auto& s : spec.stages) list += (list.empty() ? "" : ", ") + s->name();
  usage_error("stage '" + name + "' is not in this pipeline", flag, "its stages are: " + list);
}

}  // namespace

BuildResult run_build(PipelineSpec& spec, const BuildOptions& options) {
  if (spec.stages.empty()) usage_error("the pipeline has no stages", spec.path);
  size_t from = stage_index(spec, options.from, "--from");
  size_t until = stage_index(spec, options.until, "--until");
  if (from > until) usage_error("--from comes after --until", spec.path, "swap them");

  BuildResult result;
  std::vector<std::string> files = corpus::expand_inputs(spec.inputs);
  std::string prev = source_fingerprint(spec, files);
  Artifacts artifacts;
  artifacts.documents = files;
  artifacts.read = spec.read;
  if (!options.dry_run) make_dirs(spec.work_dir);
  ReportData report;
  report.name = spec.name;
  report.pipeline = spec.path;

  // False in a dry run once a stage would run: the stages after it have no inputs to prepare from.
  bool inputs_ready = true;
  for (size_t i = 0; i < spec.stages.size(); ++i) {
    Stage& stage = *spec.stages[i];
    std::string dir = (fs::path(spec.work_dir) / stage.name()).string();
    StagePlan plan;
    plan.name = stage.name();
    if (inputs_ready && i <= until) stage.prepare(dir, artifacts);
    plan.fingerprint = hash128(stage.name() + "\n" + stage.options_json() + "\n" + prev).hex();
    auto state = read_state(dir);

    if (i > until) {
      plan.action = StagePlan::Action::OutOfRange;
      plan.why = "after --until";
      result.plan.push_back(plan);
      continue;
    }
    if (i < from) {
      if (!state)
        usage_error("stage '" + stage.name() + "' has no finished output in " + dir,
                    "--from " + options.from, "run the earlier stages first (drop --from)");
      plan.action = StagePlan::Action::OutOfRange;
      plan.why = state->fingerprint == plan.fingerprint ? "before --from" : "before --from (stale: its inputs or options changed)";
      plan.fingerprint = state->fingerprint;
    } else if (!options.force && state && state->fingerprint == plan.fingerprint) {
      plan.action = StagePlan::Action::Skip;
      plan.why = "up to date";
    } else {
      plan.action = StagePlan::Action::Run;
      plan.why = options.force ? "forced" : !state ? "not run before" : "its inputs or options changed";
    }
    result.plan.push_back(plan);
    prev = plan.fingerprint;
    if (options.dry_run) {
      // A finished stage's outputs are there to read; a stage that would run has none yet.
      if (plan.action == StagePlan::Action::Run) inputs_ready = false;
      else artifacts = stage.outputs(dir, artifacts);
      continue;
    }

    if (plan.action == StagePlan::Action::Run) {
      log::info("build: stage " + stage.name() + " (" + plan.why + ")");
      // A folder left by a killed run of the same fingerprint is resumed; anything else starts
      // clean, so outputs of other options never leak into this run.
      std::string pending = (fs::path(dir) / ".pending-fingerprint").string();
      std::error_code ec;
      bool resume = !options.force && fs::exists(pending, ec) && read_file(pending) == plan.fingerprint;
      if (!resume) fs::remove_all(dir, ec);
      fs::remove(fs::path(dir) / "stage.json", ec);
      make_dirs(dir);
      write_file_atomic(pending, plan.fingerprint);
      auto start = std::chrono::steady_clock::now();
      std::string summary = stage.run(dir, artifacts, resume);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      json st = {{"stage", stage.name()},
                 {"fingerprint", plan.fingerprint},
                 {"options", json::parse(stage.options_json())},
                 {"seconds", seconds},
                 {"summary", json::parse(summary.empty() ? "{}" : summary)}};
      write_file_atomic((fs::path(dir) / "stage.json").string(), st.dump(2) + "\n");
      fs::remove(pending, ec);
      remove_stale_temps(dir);
      state = StageState{plan.fingerprint, st["summary"], seconds};
      ++result.ran;
    } else {
      // A kill between stage.json and removing the marker leaves it; the stage is finished.
      std::error_code ec;
      if (plan.action == StagePlan::Action::Skip) fs::remove(fs::path(dir) / ".pending-fingerprint", ec);
      log::info("build: stage " + stage.name() + " skipped (" + plan.why + ")");
      ++result.skipped;
    }
    artifacts = stage.outputs(dir, artifacts);
    report.stages.push_back({stage.name(), plan.why, state->seconds, state->summary.dump(),
                             plan.action == StagePlan::Action::Run});
  }
  if (!options.dry_run) {
    result.report_json = (fs::path(spec.work_dir) / "report.json").string();
    result.report_html = (fs::path(spec.work_dir) / "report.html").string();
    write_file_atomic(result.report_json, report_json(report));
    write_file_atomic(result.report_html, report_html(report));
    remove_stale_temps(spec.work_dir);
  }
  return result;
}

}  // namespace nlm::pipeline
