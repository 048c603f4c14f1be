// `nativelm curate`: flags → curate::CurateOptions (a YAML config first, then flags on top).
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/read_flags.h"
#include "core/error.h"
#include "corpus/inputs.h"
#include "curate/config.h"
#include "curate/curate.h"

namespace {

using namespace nlm;

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

void setup(CLI::App& root, cli::Actions& actions) {
  struct Opts {
    std::vector<std::string> inputs;
    cli::ReadFlags read;
    curate::CurateOptions curate;
    std::string config, steps, langs, lid_model, opencc;
    double min_lang_score = -1;
    bool list_steps = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = root.add_subcommand(
      "curate",
      "Clean and filter document shards: normalise, language ID, quality filters, PII redaction");
  sub->add_option("inputs", o->inputs, "Input shards: files, folders or globs (JSONL, text, WARC/WET, MediaWiki XML; .gz/.zst/.bz2 ok)");
  sub->add_option("-o,--output", o->curate.output_dir, "Output folder (one shard per input shard)");
  sub->add_option("--rejects", o->curate.rejects_dir,
                  "Folder for removed documents, with reject_reason and reject_value");
  sub->add_option("--config", o->config, "YAML config with steps and profiles (see docs/curate.md)");
  sub->add_option("--steps", o->steps,
                  "Comma-separated chain, overriding the config (default "
                  "normalize,lid,gopher_quality,gopher_repetition,fineweb,pii)");
  sub->add_option("--lang", o->langs, "Keep only these languages, comma-separated (lid step)");
  sub->add_option("--min-lang-score", o->min_lang_score, "Minimum language score (lid step)");
  sub->add_option("--lid-model", o->lid_model, "fastText model for the lid step (instead of CLD2)");
  sub->add_option("--opencc", o->opencc, "OpenCC conversion in the normalize step, e.g. s2hk, t2s");
  sub->add_option("--extension", o->curate.extension,
                  "Output extension; picks the codec: .jsonl, .jsonl.gz, .jsonl.zst, .jsonl.bz2")
      ->capture_default_str();
  sub->add_option("--level", o->curate.level, "Compression level (-1 = codec default)")
      ->capture_default_str();
  sub->add_option("--max-doc-bytes", o->curate.max_doc_bytes,
                  "Remove larger documents before any step")
      ->capture_default_str();
  sub->add_flag("--force", o->curate.force, "Redo shards even when their manifest says done");
  sub->add_flag("--list-steps", o->list_steps, "Print every step with its options and defaults");
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    if (o->list_steps) {
      std::string text = curate::describe_steps();
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    }
    if (o->inputs.empty()) usage_error("no inputs given", "nativelm curate", "pass input shards");
    if (o->curate.output_dir.empty()) usage_error("no output folder given", "nativelm curate", "pass -o DIR");
    auto& c = o->curate;
    c.read = o->read.resolve();
    if (!o->config.empty()) curate::load_config_file(o->config, c.chain);
    if (!o->steps.empty()) c.chain.steps = split_list(o->steps);
    if (!o->langs.empty()) c.chain.lid.languages = split_list(o->langs);
    if (o->min_lang_score >= 0) c.chain.lid.min_score = o->min_lang_score;
    if (!o->lid_model.empty()) {
      c.chain.lid.backend = "fasttext";
      c.chain.lid.model = o->lid_model;
    }
    if (!o->opencc.empty()) c.chain.normalize.opencc = o->opencc;
    c.chain.validate();
    auto report = curate::run_curate(corpus::expand_inputs(o->inputs), c);
    std::string table = report.to_table();
    std::fwrite(table.data(), 1, table.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(20, setup);
