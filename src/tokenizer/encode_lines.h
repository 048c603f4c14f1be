// `tokenizer encode` and `tokenizer decode` as library calls: texts (arguments, or stdin lines)
// to lines of token ids or token strings, and lines of ids back to text. Ids are parsed by
// opt::parse_id_list ("5 17 42", "5,17,42" or ranges "5-7"), range-checked against the vocabulary.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/options.h"
#include "tokenizer/tokenizer.h"

namespace nlm::tokenizer {

struct EncodeOptions {
  // tokenizer.json or a folder holding one.
  std::string tokenizer;
  // Add the post-processor's BOS/EOS tokens (HF add_special_tokens).
  bool add_special = false;
  // Print token strings (tokenizer.json form) instead of ids.
  bool tokens = false;
};
void declare(opt::Schema& schema, EncodeOptions& options);

struct DecodeOptions {
  // tokenizer.json or a folder holding one.
  std::string tokenizer;
  // Leave special tokens out of the text.
  bool skip_special = false;
};
void declare(opt::Schema& schema, DecodeOptions& options);

// One output line per text: each of `texts`, or each line of `in` when `texts` is empty. Texts
// are taken literally ("[Uile]" and "a,b" are one text each).
void encode_lines(const EncodeOptions& options, const std::vector<std::string>& texts, std::istream& in,
                  std::ostream& out);
// One output line per argument group: all of `ids` together (each may hold several ids), or each
// line of `in` when `ids` is empty. A bad or out-of-vocabulary id throws opt::OptionError("ids").
void decode_lines(const DecodeOptions& options, const std::vector<std::string>& ids, std::istream& in,
                  std::ostream& out);

// The ids of one text of whitespace-separated items, each item an opt::parse_id_list item; every
// id below `vocab_size`. Throws opt::OptionError for the key "ids".
std::vector<uint32_t> parse_token_ids(const std::string& text, uint32_t vocab_size);

}  // namespace nlm::tokenizer
