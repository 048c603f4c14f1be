// `tokenizer extend`: add target-language tokens to an existing tokenizer.json. Words of the new
// corpus are segmented by the existing merges and BPE continues from there, so the new merges are
// appended after all existing ones and existing text tokenizes the same except where a new merge
// applies. Also reports, for each new token, its ids under the old tokenizer, for initialising
// new embedding rows as the mean of the old ones.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/trainer.h"

namespace nlm::tokenizer {

struct ExtendOptions {
  // How many tokens to add at most (fewer when no pair reaches train.min_frequency, or no pair is
  // left; the result says which); at least 1.
  uint32_t new_tokens = 1000;
  // Counting and merge options (min_frequency, max_token_bytes, max_word_bytes, lang_alpha,
  // lang_field, read); vocab size, mode and split rule come from the base tokenizer.
  TrainOptions train;
};
// new_tokens, then the counting options of `train` (tokenizer::declare_counting).
void declare(opt::Schema& schema, ExtendOptions& options);

struct NewToken {
  uint32_t id = 0;
  std::string text;                 // tokenizer.json form
  std::vector<uint32_t> old_pieces; // the token's bytes encoded by the base model
};

struct ExtendResult {
  std::vector<NewToken> added;
  uint32_t requested = 0;        // options.new_tokens
  uint32_t base_vocab_size = 0;  // vocab size before extension
  // Why fewer tokens than requested were added ("" when all were).
  std::string shortfall;
  TrainStats stats;
  // JSON array [{"id", "token", "pieces"}], written as new_tokens.json.
  std::string to_json() const;
  // The manifest's stats: the counting and merge figures, requested and added tokens, and the
  // shortfall's reason.
  std::string stats_json() const;
};

// Extends `tok` in place.
ExtendResult extend_tokenizer(Tokenizer& tok, const std::vector<std::string>& files, const ExtendOptions& options);

}  // namespace nlm::tokenizer
