// `nativelm lid train`: flags → curate::LidTrainOptions.
#include <memory>

#include "cli/command.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "curate/lid_train.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& lid = cli::group(root, "lid", "Language identification models");
  struct Opts {
    std::vector<std::string> inputs;
    cli::ReadFlags read;
    curate::LidTrainOptions train;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = lid.add_subcommand(
      "train", "Train a fastText language-ID model from labelled JSONL (use it with curate --lid-model)");
  sub->add_option("inputs", o->inputs, "Labelled JSONL files, folders or globs")->required();
  sub->add_option("-o,--output", o->train.output, "Model file to write")->capture_default_str();
  sub->add_option("--label-field", o->train.label_field, "JSON member with each document's label")
      ->capture_default_str();
  sub->add_option("--epoch", o->train.epoch, "Passes over the data")->capture_default_str();
  sub->add_option("--lr", o->train.lr, "Learning rate")->capture_default_str();
  sub->add_option("--dim", o->train.dim, "Vector size")->capture_default_str();
  sub->add_option("--word-ngrams", o->train.word_ngrams, "Word n-gram length")->capture_default_str();
  sub->add_option("--minn", o->train.minn, "Shortest character n-gram")->capture_default_str();
  sub->add_option("--maxn", o->train.maxn, "Longest character n-gram")->capture_default_str();
  sub->add_option("--train-threads", o->train.threads, "Training threads (1 is deterministic)")
      ->capture_default_str();
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    auto result = curate::train_lid(corpus::expand_inputs(o->inputs), o->read.resolve(), o->train);
    std::printf("%s; model written to %s\n", result.summary().c_str(), o->train.output.c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(20, setup);
