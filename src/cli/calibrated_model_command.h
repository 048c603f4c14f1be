// The shape `prune` and `quantize` share: a model folder, calibration files, the options'
// declared flags, one library call and its summary() on standard output. Kept here so each
// cli/ file says only its name, help and library call.
#pragma once
#include <cstdio>
#include <memory>
#include <string>

#include "cli/option_flags.h"

namespace nlm::cli {

// Options: a struct with `calibration` (files) and a declare(Schema&, Options&); run(model_dir,
// options) returns a result with summary().
template <class Options, class Run>
void add_calibrated_model_command(CLI::App& root, Actions& actions, const char* name, const char* help,
                                  const char* model_help, Run run) {
  auto* sub = root.add_subcommand(name, help);
  auto c = std::make_shared<Bound<Options>>(name);
  auto model_dir = std::make_shared<std::string>();
  sub->add_option("model", *model_dir, model_help)->required();
  literal_list(sub->add_option("calibration", c->options.calibration,
                               "Calibration text, JSONL or .tok files in the model's language")
                   ->required());
  declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, model_dir, run] {
    if (!c->flags->apply()) return 0;
    auto r = c->run([&] { return run(*model_dir, c->options); });
    std::string text = r.summary();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  };
}

}  // namespace nlm::cli
