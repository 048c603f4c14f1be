// `nativelm corpus stats|shard`: inspect a corpus, or rewrite it as compressed JSONL shards. Flags
// come from the options' declarations (corpus/stats.h, corpus/reshard.h, corpus::declare for
// reading); this file adds the positional inputs and makes one library call.
#include <cstdio>
#include <memory>

#include "cli/option_flags.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "corpus/reshard.h"
#include "corpus/stats.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& corpus = cli::group(root, "corpus", "Inspect corpora and rewrite them as JSONL shards");

  auto* stats = corpus.add_subcommand(
      "stats", "Count documents, bytes, characters, lines, lengths and scripts of a corpus");
  auto s = std::make_shared<cli::Bound<corpus::StatsOptions>>("corpus stats");
  stats->add_option("inputs", s->inputs, "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)")->required();
  corpus::declare(s->schema, s->options);
  cli::add_read_options(s->schema, s->options.read);
  s->bind(*stats);
  actions[stats] = [s] {
    if (!s->flags->apply()) return 0;
    auto result = s->run([&] { return corpus::compute_corpus_stats(corpus::expand_inputs(s->inputs), s->options.read); });
    std::string out = s->options.json ? result.to_json() : result.to_table();
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  };

  auto* shard = corpus.add_subcommand(
      "shard", "Read any supported input and write it as JSONL shards with a manifest.json");
  auto r = std::make_shared<cli::Bound<corpus::ReshardOptions>>("corpus shard");
  shard->add_option("inputs", r->inputs, "Files, folders or globs")->required();
  corpus::declare(r->schema, r->options);
  cli::add_read_options(r->schema, r->options.read, &r->options.shards);
  r->bind(*shard);
  shard->get_option("--output")->required();
  actions[shard] = [r] {
    if (!r->flags->apply()) return 0;
    auto result = r->run([&] { return corpus::reshard(corpus::expand_inputs(r->inputs), r->options); });
    std::printf("%s\n", result.summary().c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(10, setup);
