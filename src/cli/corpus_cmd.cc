// `nativelm corpus stats|shard`: inspect a corpus, or rewrite it as compressed JSONL shards.
#include <memory>

#include "cli/command.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "corpus/reshard.h"
#include "corpus/stats.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& corpus = cli::group(root, "corpus", "Inspect corpora and rewrite them as JSONL shards");

  {
    struct Opts {
      std::vector<std::string> inputs;
      cli::ReadFlags read;
      bool json = false;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = corpus.add_subcommand(
        "stats", "Count documents, bytes, characters, lines, lengths and scripts of a corpus");
    sub->add_option("inputs", o->inputs, "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)")
        ->required();
    cli::add_read_flags(*sub, o->read);
    sub->add_flag("--json", o->json, "Print JSON instead of a table");
    actions[sub] = [o] {
      auto files = corpus::expand_inputs(o->inputs);
      auto stats = corpus::compute_corpus_stats(files, o->read.resolve());
      std::string out = o->json ? stats.to_json() : stats.to_table();
      std::fwrite(out.data(), 1, out.size(), stdout);
      return 0;
    };
  }

  {
    struct Opts {
      std::vector<std::string> inputs;
      cli::ReadFlags read;
      corpus::ReshardOptions reshard;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = corpus.add_subcommand(
        "shard", "Read any supported input and write it as JSONL shards with a manifest.json");
    sub->add_option("inputs", o->inputs, "Files, folders or globs")->required();
    sub->add_option("-o,--output", o->reshard.shards.dir, "Output folder")->required();
    sub->add_option("--max-docs", o->reshard.shards.max_docs, "Documents per shard (0 = no cap)")
        ->capture_default_str();
    sub->add_option("--max-bytes", o->reshard.shards.max_bytes,
                    "Uncompressed bytes per shard (0 = no cap)")
        ->capture_default_str();
    sub->add_option("--extension", o->reshard.shards.extension,
                    "Shard file extension; picks the codec: .jsonl, .jsonl.gz, .jsonl.zst, .jsonl.bz2")
        ->capture_default_str();
    sub->add_option("--level", o->reshard.shards.write.level, "Compression level (-1 = codec default)")
        ->capture_default_str();
    cli::add_read_flags(*sub, o->read);
    actions[sub] = [o] {
      o->reshard.read = o->read.resolve();
      o->reshard.shards.write.text_field = o->reshard.read.text_field;
      o->reshard.shards.write.id_field = o->reshard.read.id_field;
      auto result = corpus::reshard(corpus::expand_inputs(o->inputs), o->reshard);
      std::printf("%s\n", result.summary().c_str());
      return 0;
    };
  }
}

}  // namespace

NLM_REGISTER_COMMAND(10, setup);
