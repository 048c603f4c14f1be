// The shape most commands share: positional document inputs, the command's declared options, the
// read flags, and one library call over the expanded inputs whose result prints a summary line.
// Kept here so each cli/ file says only what differs: names, docs and the library call.
#pragma once
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/option_flags.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"

namespace nlm::cli {

template <class T>
struct DocumentCommand {
  std::string name;        // "tokenizer extend": the schema's name
  std::string inputs_doc;  // help of the positional inputs
  std::function<void(opt::Schema&, T&)> declare;
  std::function<corpus::ReadOptions&(T&)> read;          // where the read options live in T
  std::function<corpus::ShardOptions*(T&)> output = {};  // written records keep read field names
  std::vector<std::string> required = {};                // flags the command cannot run without
};

// Binds `spec` to `sub` and returns the bound options for the command's action.
template <class T>
std::shared_ptr<Bound<T>> bind_documents(CLI::App& sub, const DocumentCommand<T>& spec) {
  auto c = std::make_shared<Bound<T>>(spec.name);
  sub.add_option("inputs", c->inputs, spec.inputs_doc)->required();
  spec.declare(c->schema, c->options);
  add_read_options(c->schema, spec.read(c->options), spec.output ? spec.output(c->options) : nullptr);
  c->bind(sub);
  for (const auto& flag : spec.required) sub.get_option(flag)->required();
  return c;
}

// An action that applies the flags, runs `run(files, options)` and prints the result's summary().
template <class T, class Run>
Action summary_action(std::shared_ptr<Bound<T>> c, Run run) {
  return [c, run] {
    if (!c->flags->apply()) return 0;
    auto result = c->run([&] { return run(corpus::expand_inputs(c->inputs), c->options); });
    std::printf("%s\n", result.summary().c_str());
    return 0;
  };
}

}  // namespace nlm::cli
