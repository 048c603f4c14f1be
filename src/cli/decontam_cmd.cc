// `nativelm decontam`: flags come from dedup::declare(DecontamOptions) in
// src/curate/dedup/options.cc; this file names the command and makes one library call.
#include "cli/document_command.h"
#include "curate/dedup/decontam.h"
#include "curate/dedup/options.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("decontam", "Remove or flag training text that overlaps benchmark test items");
  auto c = cli::bind_documents<dedup::DecontamOptions>(
      *sub, {"decontam", "Training corpus: files, folders or globs",
             [](opt::Schema& s, dedup::DecontamOptions& o) { dedup::declare(s, o); },
             [](dedup::DecontamOptions& o) -> corpus::ReadOptions& { return o.read; },
             [](dedup::DecontamOptions& o) { return &o.shards; },
             {"--output", "--benchmark"}});
  actions[sub] = cli::summary_action(c, dedup::run_decontam);
}

}  // namespace

NLM_REGISTER_COMMAND(31, setup);
