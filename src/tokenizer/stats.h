// `tokenizer stats`: how well tokenizers fit each language. Per language (from the `lang` field,
// or one given language) and per tokenizer: fertility (tokens per ICU word), bytes and characters
// per token, the share of words split into 2+ tokens ("continued words", each word encoded alone
// with its leading space), byte-fallback and unknown-token rates, and parity: tokens relative to a
// reference language over parallel documents (documents sharing an id across languages).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/options.h"
#include "corpus/read_options.h"

namespace nlm::tokenizer {

struct StatsOptions {
  // tokenizer.json files or folders; two or more are compared side by side.
  std::vector<std::string> tokenizers;
  // JSON field with the language.
  std::string lang_field = "lang";
  // Treat every document as this language ("" = read lang_field).
  std::string lang;
  // Language of documents without the field.
  std::string default_lang = "und";
  // Reference language for parity (empty = no parity column).
  std::string reference_lang;
  // Stop after this many documents (0 = all).
  uint64_t max_docs = 0;
  corpus::ReadOptions read;
};
// Every field but `read` (front ends add the read options themselves).
void declare(opt::Schema& schema, StatsOptions& options);

struct LangStats {
  uint64_t docs = 0, bytes = 0, chars = 0, words = 0, tokens = 0;
  uint64_t continued_words = 0, byte_fallback = 0, unknown = 0;
  double parity = -1;  // tokens / reference tokens on parallel docs; -1 when not computed
  double fertility() const { return words ? double(tokens) / words : 0; }
  double bytes_per_token() const { return tokens ? double(bytes) / tokens : 0; }
  double chars_per_token() const { return tokens ? double(chars) / tokens : 0; }
  double continued() const { return words ? double(continued_words) / words : 0; }
};

struct StatsReport {
  std::vector<std::string> tokenizers;
  // lang -> per-tokenizer stats (same order as `tokenizers`).
  std::map<std::string, std::vector<LangStats>> langs;
  std::string to_json() const;
  // Fixed decimals, rounded (parity too).
  std::string to_table() const;
};

StatsReport tokenizer_stats(const std::vector<std::string>& files, const StatsOptions& options);

}  // namespace nlm::tokenizer
