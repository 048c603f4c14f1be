// `nativelm tokenizer encode|decode|train|stats|extend`: flag parsing only; the work is in
// src/tokenizer/.
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/read_flags.h"
#include "core/error.h"
#include "core/json_escape.h"
#include "core/progress.h"
#include "corpus/inputs.h"
#include "core/atomic_file.h"
#include "tokenizer/extend.h"
#include "tokenizer/publish.h"
#include "tokenizer/stats.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/trainer.h"

namespace {

using namespace nlm;

// An empty -o would write DIR + "/tokenizer.json" to the filesystem root.
void require_folder(const std::string& dir) {
  if (dir.empty()) usage_error("empty output folder", "--output", "name a folder");
}

void setup_encode_decode(CLI::App& group, cli::Actions& actions) {
  {
    struct Opts {
      std::string tokenizer;
      std::vector<std::string> texts;
      bool add_special = false, tokens = false;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = group.add_subcommand(
        "encode", "Print token ids of each TEXT argument (or of each stdin line), one line per text");
    sub->add_option("-t,--tokenizer", o->tokenizer, "tokenizer.json or a folder holding one")->required();
    sub->add_option("texts", o->texts, "Texts to encode; stdin lines when none");
    sub->add_flag("--add-special", o->add_special, "Add the post-processor's BOS/EOS tokens");
    sub->add_flag("--tokens", o->tokens, "Print token strings instead of ids");
    actions[sub] = [o] {
      auto tok = tokenizer::Tokenizer::load(o->tokenizer);
      auto emit = [&](const std::string& text) {
        std::string line;
        for (uint32_t id : tok.encode(text, o->add_special)) {
          if (!line.empty()) line += ' ';
          line += o->tokens ? tok.token_text(id) : std::to_string(id);
        }
        std::cout << line << '\n';
      };
      if (!o->texts.empty()) {
        for (auto& t : o->texts) emit(t);
      } else {
        for (std::string l; std::getline(std::cin, l);) emit(l);
      }
      return 0;
    };
  }
  {
    struct Opts {
      std::string tokenizer;
      std::vector<std::string> ids;
      bool skip_special = false;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = group.add_subcommand(
        "decode", "Print the text of space-separated ids given as arguments (or of each stdin line)");
    sub->add_option("-t,--tokenizer", o->tokenizer, "tokenizer.json or a folder holding one")->required();
    sub->add_option("ids", o->ids, "Token ids; stdin lines of ids when none");
    sub->add_flag("--skip-special", o->skip_special, "Leave special tokens out of the text");
    actions[sub] = [o] {
      auto tok = tokenizer::Tokenizer::load(o->tokenizer);
      auto parse = [](const std::string& s, std::vector<uint32_t>& out) {
        std::istringstream in(s);
        std::string w;
        while (in >> w) {
          char* end = nullptr;
          unsigned long v = std::strtoul(w.c_str(), &end, 10);
          if (!end || *end || w.empty() || v > UINT32_MAX)
            usage_error("not a token id: '" + w + "'", "decode", "pass non-negative integers");
          out.push_back(static_cast<uint32_t>(v));
        }
      };
      if (!o->ids.empty()) {
        std::vector<uint32_t> ids;
        for (auto& s : o->ids) parse(s, ids);
        std::cout << tok.decode(ids, o->skip_special) << '\n';
      } else {
        for (std::string l; std::getline(std::cin, l);) {
          std::vector<uint32_t> ids;
          parse(l, ids);
          std::cout << tok.decode(ids, o->skip_special) << '\n';
        }
      }
      return 0;
    };
  }
}

void setup_train(CLI::App& group, cli::Actions& actions) {
  struct Opts {
    std::vector<std::string> inputs;
    std::string output, mode = "byte-level", pretokenizer = "llama3";
    cli::ReadFlags read;
    tokenizer::TrainOptions train;
  };
  auto o = std::make_shared<Opts>();
  auto& t = o->train;
  auto* sub = group.add_subcommand("train", "Train a BPE tokenizer and write tokenizer.json + tokenizer_config.json");
  sub->add_option("inputs", o->inputs, "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)")->required();
  sub->add_option("-o,--output", o->output, "Output folder")->required();
  sub->add_option("--vocab-size", t.vocab_size, "Total vocabulary size incl. special tokens")->capture_default_str();
  sub->add_option("--min-frequency", t.min_frequency, "Least (weighted) count of a merged pair")->capture_default_str();
  sub->add_option("--mode", o->mode, "byte-level (GPT-2/Llama 3 style) or sentencepiece (metaspace + byte fallback)")
      ->capture_default_str();
  sub->add_option("--pretokenizer", o->pretokenizer, "Byte-level split rule: gpt2, llama3 (= cl100k), qwen2, o200k, none")
      ->capture_default_str();
  sub->add_flag("--split-digits", t.split_digits, "One token per digit (llama3/qwen2 rules)");
  sub->add_option("--special", t.special_tokens,
                  "Special tokens (default <|begin_of_text|> <|end_of_text|>, or <unk> <s> </s> in sentencepiece mode)");
  sub->add_option("--reserved", t.reserved_tokens, "Reserved control tokens <|reserved_special_token_N|>")->capture_default_str();
  sub->add_option("--max-token-bytes", t.max_token_bytes, "Longest token in bytes (0 = no limit)")->capture_default_str();
  sub->add_option("--whitespace-runs", t.whitespace_runs, "Add tokens for runs of 2..N spaces (0 = none)")->capture_default_str();
  sub->add_option("--max-word-bytes", t.max_word_bytes, "Cut longer unspaced runs (CJK, Thai) into chunks for counting")
      ->capture_default_str();
  sub->add_option("--lang-alpha", t.lang_alpha, "Per-language weight exponent: share^alpha (1 = as is, 0.3 = flatter)")
      ->capture_default_str();
  sub->add_option("--lang-field", t.lang_field, "JSON field with the document language")->capture_default_str();
  sub->add_option("--char-coverage", t.char_coverage, "sentencepiece mode: character coverage of the alphabet")
      ->capture_default_str();
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    require_folder(o->output);
    auto& t = o->train;
    t.read = o->read.resolve();
    if (o->mode == "byte-level") t.mode = tokenizer::TrainMode::ByteLevel;
    else if (o->mode == "sentencepiece") t.mode = tokenizer::TrainMode::SentencePiece;
    else usage_error("unknown mode '" + o->mode + "'", "--mode", "use byte-level or sentencepiece");
    t.rule = tokenizer::parse_split_rule(o->pretokenizer);
    auto files = corpus::expand_inputs(o->inputs);
    Progress timer("", 0);
    tokenizer::TrainStats stats;
    auto tok = tokenizer::train_bpe(files, t, &stats);
    timer.finish();
    std::string opts = "{\"vocab_size\":" + std::to_string(t.vocab_size) + ",\"min_frequency\":" +
                       std::to_string(t.min_frequency) + ",\"mode\":\"" + o->mode + "\",\"pretokenizer\":\"" +
                       o->pretokenizer + "\",\"split_digits\":" + (t.split_digits ? "true" : "false") +
                       ",\"reserved\":" + std::to_string(t.reserved_tokens) + ",\"max_token_bytes\":" +
                       std::to_string(t.max_token_bytes) + ",\"whitespace_runs\":" + std::to_string(t.whitespace_runs) +
                       ",\"lang_alpha\":" + std::to_string(t.lang_alpha) + "}";
    tokenizer::publish_tokenizer(tok, o->output, "tokenizer.train", opts, files, stats.to_json(), timer.seconds());
    std::printf("trained %u tokens (%llu merges) from %llu docs, %s in %.1f s -> %s/tokenizer.json\n", tok.vocab_size(),
                static_cast<unsigned long long>(stats.merges), static_cast<unsigned long long>(stats.docs),
                human_bytes(static_cast<double>(stats.bytes)).c_str(), timer.seconds(), o->output.c_str());
    return 0;
  };
}

void setup_stats(CLI::App& group, cli::Actions& actions) {
  struct Opts {
    std::vector<std::string> inputs;
    std::string lang;
    bool json = false;
    cli::ReadFlags read;
    tokenizer::StatsOptions s;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = group.add_subcommand(
      "stats", "Per-language fertility, bytes/chars per token, continued words, byte-fallback/unknown rates, parity");
  sub->add_option("inputs", o->inputs, "Files, folders or globs (JSONL or text)")->required();
  sub->add_option("-t,--tokenizer", o->s.tokenizers, "tokenizer.json or folder; repeat to compare")->required();
  sub->add_option("--lang", o->lang, "Treat every document as this language (default: the lang field)");
  sub->add_option("--lang-field", o->s.lang_field, "JSON field with the language")->capture_default_str();
  sub->add_option("--reference", o->s.reference_lang,
                  "Reference language for parity over parallel documents (same id across languages)");
  sub->add_option("--max-docs", o->s.max_docs, "Stop after this many documents (0 = all)")->capture_default_str();
  sub->add_flag("--json", o->json, "Print JSON instead of a table");
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    o->s.read = o->read.resolve();
    if (!o->lang.empty()) {
      o->s.default_lang = o->lang;
      o->s.force_lang = true;
    }
    auto r = tokenizer::tokenizer_stats(corpus::expand_inputs(o->inputs), o->s);
    std::string out = o->json ? r.to_json() : r.to_table();
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  };
}

void setup_extend(CLI::App& group, cli::Actions& actions) {
  struct Opts {
    std::vector<std::string> inputs;
    std::string base, output;
    cli::ReadFlags read;
    tokenizer::ExtendOptions e;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = group.add_subcommand(
      "extend", "Append target-language tokens and merges to a tokenizer; writes new_tokens.json (old pieces)");
  sub->add_option("inputs", o->inputs, "Target-language corpus: files, folders or globs")->required();
  sub->add_option("-t,--tokenizer", o->base, "Base tokenizer.json or folder")->required();
  sub->add_option("-o,--output", o->output, "Output folder")->required();
  sub->add_option("--new-tokens", o->e.new_tokens, "Tokens to add at most")->capture_default_str();
  sub->add_option("--min-frequency", o->e.train.min_frequency, "Least count of a merged pair")->capture_default_str();
  sub->add_option("--max-token-bytes", o->e.train.max_token_bytes, "Longest new token in bytes (0 = no limit)")
      ->capture_default_str();
  sub->add_option("--lang-alpha", o->e.train.lang_alpha, "Per-language weight exponent")->capture_default_str();
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    require_folder(o->output);
    o->e.train.read = o->read.resolve();
    Progress timer("", 0);
    auto files = corpus::expand_inputs(o->inputs);
    auto tok = tokenizer::Tokenizer::load(o->base);
    auto r = tokenizer::extend_tokenizer(tok, files, o->e);
    timer.finish();
    make_dirs(o->output);
    write_file_atomic(o->output + "/new_tokens.json", r.to_json());
    std::string opts = "{\"base\":" + json_quote(o->base) + ",\"new_tokens\":" + std::to_string(o->e.new_tokens) + "}";
    tokenizer::publish_tokenizer(tok, o->output, "tokenizer.extend", opts, files, r.stats.to_json(), timer.seconds(),
                                 {"new_tokens.json"});
    std::printf("added %zu tokens (vocab now %u) -> %s/tokenizer.json, new_tokens.json\n", r.added.size(),
                tok.vocab_size(), o->output.c_str());
    return 0;
  };
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
