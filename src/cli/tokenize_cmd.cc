// `nativelm tokenize`: documents -> .tok token shards. The flags come from data::declare
// (src/data/tokenize_shards.cc); this file adds the positional inputs and makes one library call.
#include <cstdio>
#include <memory>

#include "cli/document_command.h"
#include "data/tokenize_shards.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("tokenize", "Tokenize documents into .tok shards (train/val) for training");
  auto c = cli::bind_documents<data::TokenizeOptions>(
      *sub, {"tokenize", "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)",
             [](opt::Schema& s, data::TokenizeOptions& o) { data::declare(s, o); },
             [](data::TokenizeOptions& o) -> corpus::ReadOptions& { return o.read; },
             {},
             {"--tokenizer", "--output"}});
  actions[sub] = cli::summary_action(c, data::tokenize_to_shards);
}

}  // namespace

NLM_REGISTER_COMMAND(40, setup);
