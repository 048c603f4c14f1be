// `nativelm lid train`: flags come from curate::declare(Schema&, LidTrainOptions&) and the read
// options; this file adds the positional inputs and makes one library call.
#include <cstdio>
#include <memory>

#include "cli/document_command.h"
#include "curate/lid_train.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& lid = cli::group(root, "lid", "Language identification models");
  auto* sub = lid.add_subcommand(
      "train", "Train a fastText language-ID model from labelled JSONL (use it with curate --lid-model)");
  auto c = cli::bind_documents<curate::LidTrainOptions>(
      *sub, {"lid train", "Labelled JSONL files, folders or globs",
             [](opt::Schema& s, curate::LidTrainOptions& o) { curate::declare(s, o); },
             [](curate::LidTrainOptions& o) -> corpus::ReadOptions& { return o.read; }});
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    auto result = c->run([&] { return curate::train_lid(corpus::expand_inputs(c->inputs), c->options); });
    std::printf("%s; model written to %s\n", result.summary().c_str(), c->options.output.c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(20, setup);
