// `nativelm corpus stats|shard`: inspect a corpus, or rewrite it as compressed JSONL shards. Flags
// come from the options' declarations (corpus/stats.h, corpus/reshard.h, corpus::declare for
// reading); this file adds the positional inputs and makes one library call.
#include <cstdio>
#include <memory>

#include "cli/document_command.h"
#include "corpus/reshard.h"
#include "curate/corpus_stats.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& corpus = cli::group(root, "corpus", "Inspect corpora and rewrite them as JSONL shards");

  auto* stats = corpus.add_subcommand(
      "stats", "Count documents, bytes, characters, lines, lengths, scripts and languages of a corpus");
  auto s = cli::bind_documents<curate::CorpusStatsOptions>(
      *stats, {"corpus stats",
               "Files, folders or globs: JSONL or text (.gz/.zst/.bz2 ok), WARC/WET, MediaWiki XML dumps",
               [](opt::Schema& sc, curate::CorpusStatsOptions& o) { curate::declare(sc, o); },
               [](curate::CorpusStatsOptions& o) -> corpus::ReadOptions& { return o.read; }});
  actions[stats] = [s] {
    if (!s->flags->apply()) return 0;
    auto result = s->run([&] { return curate::corpus_stats(corpus::expand_inputs(s->inputs), s->options); });
    std::string out = s->options.json ? result.to_json() : result.to_table();
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  };

  auto* shard = corpus.add_subcommand(
      "shard", "Read any supported input and write it as JSONL shards with a manifest.json");
  auto r = cli::bind_documents<corpus::ReshardOptions>(
      *shard, {"corpus shard", "Files, folders or globs",
               [](opt::Schema& sc, corpus::ReshardOptions& o) { corpus::declare(sc, o); },
               [](corpus::ReshardOptions& o) -> corpus::ReadOptions& { return o.read; },
               [](corpus::ReshardOptions& o) { return &o.shards; },
               {"--output"}});
  actions[shard] = cli::summary_action(r, corpus::reshard);
}

}  // namespace

NLM_REGISTER_COMMAND(10, setup);
