// `nativelm curate`: flags come from curate::declare (src/curate/config.cc); a `--config` YAML file
// is applied first through the same declarations (curate/config.h), flags on top; then one
// library call.
#include <cstdio>
#include <memory>

#include "cli/document_command.h"
#include "cli/option_flags.h"
#include "cli/read_flags.h"
#include "core/runtime.h"
#include "corpus/inputs.h"
#include "core/comm.h"
#include "curate/calibrate.h"
#include "curate/config.h"
#include "curate/curate.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand(
      "curate",
      "Clean and filter document shards: normalise, language ID, quality filters, PII redaction");
  auto c = std::make_shared<cli::Bound<curate::CurateOptions>>("curate");
  auto config = std::make_shared<std::string>();
  auto list_steps = std::make_shared<bool>(false);
  sub->add_option("inputs", c->inputs,
                  "Input shards: files, folders or globs (JSONL, text, WARC/WET, MediaWiki XML; .gz/.zst/.bz2 ok)");
  sub->add_option("--config", *config,
                  "YAML config with steps, profiles, html and any option below (see docs/curate.md); flags override it");
  sub->add_flag("--list-steps", *list_steps, "Print every step with its options and defaults");
  curate::declare(c->schema, c->options);
  cli::add_read_options(c->schema, c->options.read);
  c->bind(*sub);
  actions[sub] = [c, config, list_steps] {
    if (*list_steps) {
      std::string text = curate::describe_steps();
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    }
    if (!config->empty()) c->flags->set_config(curate::load_config_file(c->schema, c->options, *config));
    if (!c->flags->apply()) return 0;
    if (c->inputs.empty()) usage_error("no inputs given", "nativelm curate", "pass input shards");
    auto report = c->run([&] { return curate::run_curate(corpus::expand_inputs(c->inputs), c->options); });
    if (!runtime_options().quiet && Comm::world().rank() == 0) {  // -q: report.json holds the same table
      std::string table = report.to_table();
      std::fwrite(table.data(), 1, table.size(), stdout);
    }
    return 0;
  };

  auto* cal = sub->add_subcommand(
      "calibrate", "Derive a threshold profile for a language from a sample of its clean text (docs/curate.md)");
  auto k = cli::bind_documents<curate::CalibrateOptions>(
      *cal, {"curate calibrate", "Clean text of the language: files, folders or globs (any input curate reads)",
             [](opt::Schema& sc, curate::CalibrateOptions& o) { curate::declare(sc, o); },
             [](curate::CalibrateOptions& o) -> corpus::ReadOptions& { return o.read; }});
  actions[cal] = [k] {
    if (!k->flags->apply()) return 0;
    auto r = k->run([&] { return curate::calibrate_profile(corpus::expand_inputs(k->inputs), k->options); });
    if (k->options.output.empty()) {
      std::string y = r.yaml();
      std::fwrite(y.data(), 1, y.size(), stdout);
    }
    if (!runtime_options().quiet) std::fprintf(stderr, "%s\n", r.summary().c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(20, setup);
