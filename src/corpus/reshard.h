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
  // Output folder, shard size caps, extension and codec level; written records keep the text and
  // id field names they were read with (cli::add_read_options propagates them).
  ShardOptions shards;
};
// Its keys and flags: the shard options (corpus::declare) and the codec level. The read options
// are added by the caller (cli::add_read_options).
void declare(opt::Schema& schema, ReshardOptions& options);

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
