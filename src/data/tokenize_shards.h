// `nativelm tokenize`: documents -> *.tok token shards (format in data/token_shard.h), with EOS
// (and optionally BOS) around each document and a hold-out validation split by document.
// Documents are read in input order, encoded in parallel batches and written in order, so the
// output bytes do not depend on the thread count. A document goes to validation when a hash of
// its text falls under `val_fraction`, which is stable across reruns and input orderings.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "corpus/read_options.h"

namespace nlm::data {

struct TokenizeOptions {
  // tokenizer.json, or a folder holding one.
  std::string tokenizer;
  // Output folder for train-NNNNN.tok, val-NNNNN.tok and manifest.json.
  std::string output;
  // Token appended after every document; empty = auto (<|end_of_text|>, </s>, <eos>, <|endoftext|>).
  std::string eos_token;
  // Token put before every document; empty = none, "auto" = <|begin_of_text|>, <s> or <bos>.
  std::string bos_token;
  // Fraction of documents held out for validation (0 = no val shards).
  double val_fraction = 0.0;
  // Start a new shard after this many tokens (documents are never split; at least 1). Default
  // 256M tokens.
  uint64_t max_shard_tokens = 256ull << 20;
  // Documents encoded per parallel batch (memory, not output: shards are the same for any value).
  uint64_t batch_docs = 2048;
  corpus::ReadOptions read;
};
// Every field but `read`. tokenizer and output are flags only: a pipeline fills them in.
void declare(opt::Schema& schema, TokenizeOptions& options);

struct TokenizeResult {
  uint64_t docs = 0, train_docs = 0, val_docs = 0, train_tokens = 0, val_tokens = 0, bytes = 0;
  size_t shards = 0;
  double seconds = 0;
  std::string summary() const;
};

TokenizeResult tokenize_to_shards(const std::vector<std::string>& files, const TokenizeOptions& options);

}  // namespace nlm::data
