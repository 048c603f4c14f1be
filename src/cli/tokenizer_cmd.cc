// `nativelm tokenizer encode|decode|train|stats|extend`: flag parsing only; the work is in
// src/tokenizer/.
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/read_flags.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace nlm;

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

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "tokenizer", "Train, inspect, extend and run BPE tokenizers (tokenizer.json)");
  setup_encode_decode(group, actions);
}

}  // namespace

NLM_REGISTER_COMMAND(40, setup);
