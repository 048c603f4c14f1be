// `nativelm dedup` and `nativelm dedup-lines`: flags come from the options' declarations
// (dedup::declare in src/curate/dedup/options.cc); this file adds the positional inputs and makes
// one library call.
#include "cli/option_flags.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "curate/dedup/dedup.h"
#include "curate/dedup/segments.h"
#include "curate/dedup/options.h"

namespace {

using namespace nlm;

template <class Options>
std::shared_ptr<cli::Bound<Options>> bind_dedup(CLI::App& sub, const char* name) {
  auto c = std::make_shared<cli::Bound<Options>>(name);
  sub.add_option("inputs", c->inputs, "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)")->required();
  dedup::declare(c->schema, c->options);
  cli::add_read_options(c->schema, c->options.read, &c->options.shards);
  c->bind(sub);
  sub.get_option("--output")->required();
  return c;
}

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("dedup", "Remove exact and near-duplicate documents (MinHash + LSH)");
  auto c = bind_dedup<dedup::DedupOptions>(*sub, "dedup");
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    auto result = c->run([&] { return dedup::run_dedup(corpus::expand_inputs(c->inputs), c->options); });
    if (result.rank == 0) std::printf("%s\n", result.summary().c_str());
    return 0;
  };

  auto* lines = root.add_subcommand(
      "dedup-lines", "Remove lines or paragraphs repeated across documents (C4 / datatrove style)");
  auto l = bind_dedup<dedup::SegmentDedupOptions>(*lines, "dedup-lines");
  actions[lines] = [l] {
    if (!l->flags->apply()) return 0;
    auto result = l->run([&] { return dedup::run_segment_dedup(corpus::expand_inputs(l->inputs), l->options); });
    std::printf("%s\n", result.summary().c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(30, setup);
