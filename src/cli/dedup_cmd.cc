// `nativelm dedup` and `nativelm dedup-lines`: flags come from the options' declarations
// (dedup::declare in src/curate/dedup/options.cc); this file names the commands and makes one
// library call each.
#include "cli/document_command.h"
#include "curate/dedup/dedup.h"
#include "curate/dedup/options.h"
#include "curate/dedup/segments.h"

namespace {

using namespace nlm;

template <class Options>
cli::DocumentCommand<Options> dedup_command(const char* name) {
  return {name,
          "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)",
          [](opt::Schema& s, Options& o) { dedup::declare(s, o); },
          [](Options& o) -> corpus::ReadOptions& { return o.read; },
          [](Options& o) { return &o.shards; },
          {"--output"}};
}

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("dedup", "Remove exact and near-duplicate documents (MinHash + LSH)");
  auto c = cli::bind_documents(*sub, dedup_command<dedup::DedupOptions>("dedup"));
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    auto result = c->run([&] { return dedup::run_dedup(corpus::expand_inputs(c->inputs), c->options); });
    if (result.rank == 0) std::printf("%s\n", result.summary().c_str());  // one summary under MPI
    return 0;
  };

  auto* lines = root.add_subcommand(
      "dedup-lines", "Remove lines or paragraphs repeated across documents (C4 / datatrove style)");
  auto l = cli::bind_documents(*lines, dedup_command<dedup::SegmentDedupOptions>("dedup-lines"));
  actions[lines] = cli::summary_action(l, dedup::run_segment_dedup);
}

}  // namespace

NLM_REGISTER_COMMAND(30, setup);
