// `nativelm build PIPELINE.yaml`: run (or plan) the stages of a pipeline file.
#include <memory>

#include "cli/command.h"
#include "pipeline/pipeline.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  struct Opts {
    std::string file;
    pipeline::BuildOptions build;
    bool print_options = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = root.add_subcommand(
      "build",
      "Run a pipeline file: curate, dedup, synth, tokenizer, tokenize, train, sft, dpo, eval; reruns only what changed, "
      "and writes report.html and report.json in the work folder");
  sub->add_option("pipeline", o->file, "The pipeline file (YAML; see docs/pipeline.md)")->required();
  sub->add_option("--from", o->build.from, "First stage to run; earlier stages must have finished");
  sub->add_option("--until", o->build.until, "Last stage to run");
  sub->add_flag("--dry-run", o->build.dry_run, "Print the plan (what would run and why) and stop");
  sub->add_flag("--force", o->build.force, "Rerun the selected stages even when they are up to date");
  sub->add_flag("--print-options", o->print_options,
                "Print each stage's resolved options as JSON (what its manifest records) and stop");
  actions[sub] = [o] {
    auto spec = pipeline::load_pipeline(o->file);
    if (o->print_options) {
      std::string out = "{";
      for (const auto& stage : spec.stages)
        out += (out.size() > 1 ? "," : "") + std::string("\"") + stage->name() + "\":" + stage->options_json();
      std::printf("%s}\n", out.c_str());
      return 0;
    }
    auto result = pipeline::run_build(spec, o->build);
    std::printf("%-12s %-8s %s\n", "stage", "action", "why");
    for (const auto& p : result.plan) {
      const char* action = p.action == pipeline::StagePlan::Action::Run    ? (o->build.dry_run ? "would run" : "ran")
                           : p.action == pipeline::StagePlan::Action::Skip ? "skipped"
                                                                            : "-";
      std::printf("%-12s %-8s %s\n", p.name.c_str(), action, p.why.c_str());
    }
    if (!o->build.dry_run)
      std::printf("report: %s\n        %s\n", result.report_html.c_str(), result.report_json.c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(80, setup);
