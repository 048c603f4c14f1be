// `corpus shard`: read inputs in any supported format and write them as JSONL shards with a
// manifest. This is also how plain text or foreign JSONL enters the pipeline's format.
#pragma once
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "corpus/writer.h"

namespace nlm::corpus {

struct ReshardOptions {
  ReadOptions read;
  ShardOptions shards;
};

struct ReshardResult {
  ReadStats read;
  uint64_t docs = 0;
  size_t shards = 0;
  double seconds = 0;
  std::string summary() const;
};

// Inputs are read in the order given (one thread: the output order is the input order).
ReshardResult reshard(const std::vector<std::string>& files, const ReshardOptions& options);

}  // namespace nlm::corpus
