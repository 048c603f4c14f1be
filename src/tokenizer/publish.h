// One library call per tokenizer-building command: `tokenizer train` (train, then publish) and
// `tokenizer extend` (extend a base, then publish). The CLI and the pipeline's `tokenizer` stage
// both call these, so the folder they write (tokenizer.json, tokenizer_config.json, new_tokens.json,
// manifest.json with the declared options) is the same whoever asks.
#pragma once
#include <string>
#include <vector>

#include "core/options.h"
#include "tokenizer/extend.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/trainer.h"

namespace nlm::tokenizer {

// `tokenizer train`: the trainer's options and the folder to publish into.
struct TrainTokenizerOptions {
  // Output folder for tokenizer.json, tokenizer_config.json and manifest.json.
  std::string output;
  TrainOptions train;
};
// output (a flag only), then tokenizer::declare(train).
void declare(opt::Schema& schema, TrainTokenizerOptions& options);

// `tokenizer extend`: the base tokenizer, the folder to publish into, and the extension options.
struct ExtendTokenizerOptions {
  // tokenizer.json of the base, or its folder. A tokenizer_config.json beside it is carried over.
  std::string base;
  // Output folder; must not be the base's folder (that would overwrite the base).
  std::string output;
  ExtendOptions extend;
};
// base, output (a flag only), then tokenizer::declare(extend).
void declare(opt::Schema& schema, ExtendTokenizerOptions& options);

struct TrainTokenizerResult {
  std::string output;
  uint32_t requested = 0;   // options.vocab_size
  uint32_t vocab_size = 0;  // what the tokenizer got (less when merges ran out)
  std::string shortfall;    // why vocab_size < requested ("" otherwise)
  TrainStats stats;
  double seconds = 0;
  std::string summary() const;  // one line for the terminal
  std::string to_json() const;  // the manifest's stats
};

struct ExtendTokenizerResult {
  std::string output;
  ExtendResult extend;
  uint32_t vocab_size = 0;
  double seconds = 0;
  std::string summary() const;
  std::string to_json() const;
};

// Trains on `files` and publishes options.output. Bad options throw opt::OptionError naming the
// option's key; callers rename it (opt::named).
TrainTokenizerResult train_and_publish(const std::vector<std::string>& files, const TrainTokenizerOptions& options);
// Loads options.base, extends it on `files` and publishes options.output with new_tokens.json.
// Logs a warning when fewer tokens than asked were added, with the reason.
ExtendTokenizerResult extend_and_publish(const std::vector<std::string>& files, const ExtendTokenizerOptions& options);

// Writes `tok` into `dir` (tokenizer.json and tokenizer_config.json, from `base_config` when
// given) and manifest.json recording `stage`, its options, the inputs and the outputs.
// `inputs` are described (size + hash) in the manifest; `extra_outputs` are file names already
// written in `dir` that the manifest should list too.
void publish_tokenizer(const Tokenizer& tok, const std::string& dir, const std::string& stage,
                       const std::string& options_json, const std::vector<std::string>& inputs,
                       const std::string& stats_json, double seconds,
                       const std::vector<std::string>& extra_outputs = {}, const std::string& base_config = {});

}  // namespace nlm::tokenizer
