// `nativelm decontam`: remove or flag training documents that share n-grams with benchmark test
// items (flags map onto dedup::DecontamOptions in src/curate/dedup/decontam.h).
#include <memory>

#include "cli/command.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "curate/dedup/decontam.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  struct Opts {
    std::vector<std::string> inputs;
    cli::ReadFlags read;
    dedup::DecontamOptions d;
    std::string action = "remove";
  };
  auto o = std::make_shared<Opts>();
  auto* sub = root.add_subcommand("decontam", "Remove or flag training text that overlaps benchmark test items");
  sub->add_option("inputs", o->inputs, "Training corpus: files, folders or globs")->required();
  sub->add_option("-o,--output", o->d.shards.dir, "Output folder (shards, manifest.json, report.json)")->required();
  sub->add_option("-b,--benchmark", o->d.benchmarks, "Benchmark JSONL files (one test item a line)")->required();
  sub->add_option("--fields", o->d.fields, "Item members to check (default: every string in the item)");
  sub->add_option("--item-id-field", o->d.item_id_field, "Item member that names it in the report")->capture_default_str();
  sub->add_option("--ngram", o->d.ngram, "n-gram length in words")->capture_default_str();
  sub->add_option("--action", o->action, "remove (cut matched spans), flag (add a field) or drop (whole document)")
      ->capture_default_str();
  sub->add_option("--remove-chars", o->d.remove_chars, "Characters cut on each side of a match")->capture_default_str();
  sub->add_option("--min-piece-chars", o->d.min_piece_chars, "Shorter pieces left after cutting are dropped")
      ->capture_default_str();
  sub->add_option("--max-splits", o->d.max_splits, "Drop a document cut into more pieces than this")
      ->capture_default_str();
  sub->add_option("--flag-field", o->d.flag_field, "Field listing matched items (--action flag)")->capture_default_str();
  sub->add_option("--max-docs", o->d.shards.max_docs, "Documents per output shard (0 = no cap)")->capture_default_str();
  sub->add_option("--extension", o->d.shards.extension, "Output shard extension (picks the codec)")->capture_default_str();
  sub->add_flag("--force", o->d.force, "Redo even when the output is up to date");
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    o->d.read = o->read.resolve();
    o->d.shards.write.text_field = o->d.read.text_field;
    o->d.shards.write.id_field = o->d.read.id_field;
    o->d.action = dedup::parse_decontam_action(o->action);
    auto result = dedup::run_decontam(corpus::expand_inputs(o->inputs), o->d);
    std::printf("%s\n", result.summary().c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(31, setup);
