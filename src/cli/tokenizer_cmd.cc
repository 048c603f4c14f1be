// `nativelm tokenizer encode|decode|train|stats|extend`: the flags come from the options'
// declarations (src/tokenizer/: publish.h, stats.h, encode_lines.h); this file adds the positional
// arguments and makes one library call per command.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/document_command.h"
#include "tokenizer/encode_lines.h"
#include "tokenizer/publish.h"
#include "tokenizer/stats.h"

namespace {

using namespace nlm;

const char* kInputsDoc = "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)";

void setup_encode_decode(CLI::App& group, cli::Actions& actions) {
  {
    auto* sub = group.add_subcommand(
        "encode", "Print token ids of each TEXT argument (or of each stdin line), one line per text");
    auto c = std::make_shared<cli::Bound<tokenizer::EncodeOptions>>("tokenizer encode");
    cli::literal_list(sub->add_option("texts", c->inputs, "Texts to encode, each taken literally; stdin lines when none"));
    tokenizer::declare(c->schema, c->options);
    c->bind(*sub);
    sub->get_option("--tokenizer")->required();
    actions[sub] = [c] {
      if (!c->flags->apply()) return 0;
      c->run([&] { tokenizer::encode_lines(c->options, c->inputs, std::cin, std::cout); });
      return 0;
    };
  }
  {
    auto* sub = group.add_subcommand(
        "decode", "Print the text of space-separated ids given as arguments (or of each stdin line)");
    auto c = std::make_shared<cli::Bound<tokenizer::DecodeOptions>>("tokenizer decode");
    cli::literal_list(sub->add_option("ids", c->inputs, "Token ids (5 17 42, or lists and ranges 5,17,40-42); stdin lines when none"));
    tokenizer::declare(c->schema, c->options);
    c->bind(*sub);
    sub->get_option("--tokenizer")->required();
    actions[sub] = [c] {
      if (!c->flags->apply()) return 0;
      c->run([&] { tokenizer::decode_lines(c->options, c->inputs, std::cin, std::cout); });
      return 0;
    };
  }
}

void setup_train(CLI::App& group, cli::Actions& actions) {
  auto* sub = group.add_subcommand("train", "Train a BPE tokenizer and write tokenizer.json + tokenizer_config.json");
  using Options = tokenizer::TrainTokenizerOptions;
  auto c = cli::bind_documents<Options>(
      *sub, {"tokenizer train", kInputsDoc, [](opt::Schema& s, Options& o) { tokenizer::declare(s, o); },
             [](Options& o) -> corpus::ReadOptions& { return o.train.read; }, {}, {"--output"}});
  actions[sub] = cli::summary_action(c, tokenizer::train_and_publish);
}

void setup_stats(CLI::App& group, cli::Actions& actions) {
  auto* sub = group.add_subcommand(
      "stats", "Per-language fertility, bytes/chars per token, continued words, byte-fallback/unknown rates, parity");
  auto json = std::make_shared<bool>(false);
  auto c = cli::bind_documents<tokenizer::StatsOptions>(
      *sub, {"tokenizer stats", "Files, folders or globs (JSONL or text)",
             [](opt::Schema& s, tokenizer::StatsOptions& o) { tokenizer::declare(s, o); },
             [](tokenizer::StatsOptions& o) -> corpus::ReadOptions& { return o.read; }, {}, {"--tokenizer"}});
  sub->add_flag("--json", *json, "Print JSON instead of a table");  // how to print, not what to measure
  actions[sub] = [c, json] {
    if (!c->flags->apply()) return 0;
    auto r = c->run([&] { return tokenizer::tokenizer_stats(corpus::expand_inputs(c->inputs), c->options); });
    std::string out = *json ? r.to_json() : r.to_table();
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  };
}

void setup_extend(CLI::App& group, cli::Actions& actions) {
  auto* sub = group.add_subcommand(
      "extend", "Append target-language tokens and merges to a tokenizer; writes new_tokens.json (old pieces)");
  using Options = tokenizer::ExtendTokenizerOptions;
  auto c = cli::bind_documents<Options>(
      *sub, {"tokenizer extend", "Target-language corpus: files, folders or globs",
             [](opt::Schema& s, Options& o) { tokenizer::declare(s, o); },
             [](Options& o) -> corpus::ReadOptions& { return o.extend.train.read; }, {}, {"--tokenizer", "--output"}});
  actions[sub] = cli::summary_action(c, tokenizer::extend_and_publish);
}

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "tokenizer", "Train, inspect, extend and run BPE tokenizers (tokenizer.json)");
  setup_encode_decode(group, actions);
  setup_train(group, actions);
  setup_stats(group, actions);
  setup_extend(group, actions);
}

}  // namespace

NLM_REGISTER_COMMAND(40, setup);
