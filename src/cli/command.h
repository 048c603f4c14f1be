// How subcommand files plug into the `nativelm` executable. Each cli/*.cc file defines a setup
// function that adds its CLI11 subcommand and stores the action to run, and registers it with
// NLM_REGISTER_COMMAND; main.cc never needs editing when a command is added. Included only by
// cli/ files (it pulls in CLI11, which is heavy).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>

namespace nlm::cli {

// The work a leaf subcommand does once its flags are parsed; returns the exit code.
using Action = std::function<int()>;
using Actions = std::map<const CLI::App*, Action>;
using Setup = void (*)(CLI::App& root, Actions& actions);

struct Registration {
  Registration(int order, Setup setup);
};
void setup_all(CLI::App& root, Actions& actions);

// Returns the group subcommand `name` (e.g. "corpus"), creating it on first use.
CLI::App& group(CLI::App& root, const std::string& name, const std::string& description);

}  // namespace nlm::cli

#define NLM_CLI_CONCAT2(a, b) a##b
#define NLM_CLI_CONCAT(a, b) NLM_CLI_CONCAT2(a, b)
// `order` sorts commands in --help (lower first): 10 corpus, 20 curate, 30 dedup, 40 tokenizer,
// 50 train, 60 eval, 70 generate/serve, 80 build, 90 version.
#define NLM_REGISTER_COMMAND(order, setup) \
  static ::nlm::cli::Registration NLM_CLI_CONCAT(nlm_registration_, __LINE__)(order, setup)
