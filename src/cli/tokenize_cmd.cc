// `nativelm tokenize`: documents -> .tok token shards; flag parsing only (data/tokenize_shards.h).
#include <memory>

#include "cli/command.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "data/tokenize_shards.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  struct Opts {
    std::vector<std::string> inputs;
    cli::ReadFlags read;
    data::TokenizeOptions t;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = root.add_subcommand("tokenize", "Tokenize documents into .tok shards (train/val) for training");
  sub->add_option("inputs", o->inputs, "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)")->required();
  sub->add_option("-t,--tokenizer", o->t.tokenizer, "tokenizer.json or a folder holding one")->required();
  sub->add_option("-o,--output", o->t.output, "Output folder")->required();
  sub->add_option("--eos", o->t.eos_token, "Token after each document (default: the tokenizer's EOS)");
  sub->add_option("--bos", o->t.bos_token, "Token before each document ('auto' = the tokenizer's BOS; default none)");
  sub->add_option("--val-fraction", o->t.val_fraction, "Fraction of documents held out as validation")
      ->capture_default_str();
  sub->add_option("--max-shard-tokens", o->t.max_shard_tokens, "Tokens per shard before starting a new one")
      ->capture_default_str();
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    o->t.read = o->read.resolve();
    auto r = data::tokenize_to_shards(corpus::expand_inputs(o->inputs), o->t);
    std::printf("%s\n", r.summary().c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(40, setup);
