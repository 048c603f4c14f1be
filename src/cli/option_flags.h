// Command-line flags from an opt::Schema: one CLI11 flag per declared field, with the field's doc,
// default and type in --help. Values are only recorded while CLI11 parses; apply() assigns them
// after any config file was read, so flags override the file, and names the flag in errors.
// Every command with options is built from this: a cli/ file declares positionals, binds the
// schema, and makes one library call.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.h"
#include "core/options.h"

namespace nlm::cli {

// Makes a list option (or positional) take each argument as typed. CLI11 otherwise reads an
// argument in square brackets as a list ("[Uile]" becomes "Uile", "[PAD]" "PAD", "[a,b]" two
// items); with extra arguments off and every argument expected, each argument is one item.
CLI::Option* literal_list(CLI::Option* option);

class FlagBinding {
 public:
  // Adds a flag for every field with flags (and `--print-options`) to `app`.
  FlagBinding(CLI::App& app, opt::Schema& schema);
  // Assigns the given flags (apply_first fields first), then resolves the schema. Returns false
  // when --print-options was given: the options JSON was printed and the command should stop.
  bool apply();
  // Whether the flag of `key` was given.
  bool given(const std::string& key) const;
  // Names keys as flags ("--memory"), for rethrowing library OptionErrors; a key the command
  // line did not give but a config file did is named as the file names it (`set_config`).
  opt::Namer namer() const;
  void set_config(opt::Namer config) { config_ = std::move(config); }

 private:
  opt::Schema* schema_;
  std::vector<std::pair<const opt::Field*, std::vector<std::string>>> given_;
  bool print_ = false;
  opt::Namer config_;
};

// A command's options struct, its schema and its flags, kept alive together for the command's
// action (CLI11 and the schema bind by reference). Usage:
//   auto c = std::make_shared<cli::Bound<dedup::DedupOptions>>("dedup");
//   sub->add_option("inputs", c->inputs, ...);        // positionals stay in the cli/ file
//   dedup::declare(c->schema, c->options);            // one declaration, in the library
//   c->bind(*sub);                                    // flags for every declared field
//   actions[sub] = [c] { if (!c->flags->apply()) return 0; c->run([&] { return lib(...); }); ... };
template <class T>
struct Bound {
  T options;
  std::vector<std::string> inputs;  // positional inputs, for the commands that take them
  opt::Schema schema;
  std::unique_ptr<FlagBinding> flags;
  explicit Bound(std::string name) : schema(std::move(name)) {}
  void bind(CLI::App& app) { flags = std::make_unique<FlagBinding>(app, schema); }
  // Runs `fn` (the library call) with OptionErrors renamed to this command's flags.
  template <class F>
  auto run(F&& fn) -> decltype(fn()) {
    return opt::named(flags->namer(), std::forward<F>(fn));
  }
};

}  // namespace nlm::cli
