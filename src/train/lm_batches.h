// Language-modelling batches from token shards (*.tok): one or more shard sets ("sources"),
// mixed by weight row by row, each read as one continuous stream of tokens (shards in order,
// wrapping around for another epoch). A row is T+1 consecutive tokens: inputs are the first T,
// targets the last T. With document masking, each row carries document ids and positions that
// restart at each document start, taken from the shards' offset tables. With shuffle_documents,
// each source instead reads its documents (across all its shards) in a seeded random order that
// changes every epoch: a Fisher–Yates permutation drawn from splitmix64 seeded by (seed, source,
// epoch), so it is rebuilt, not stored, on resume. The cursor and RNG state serialise to JSON, so
// a resumed run draws exactly the batches an uninterrupted run would.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/llama.h"

namespace nlm::data {
class TokShardReader;
}

namespace nlm::train {

struct DataSource {
  // .tok files, read in this order.
  std::vector<std::string> shards;
  // Relative share of rows drawn from this source.
  double weight = 1.0;
};

class LmBatches {
 public:
  // Opens every shard; throws usage errors for missing/empty shards, tokens beyond
  // `model_vocab`, or non-positive weights.
  LmBatches(const std::vector<DataSource>& sources, int B, int T, bool doc_masking, uint64_t seed,
            int64_t model_vocab, bool shuffle_documents = false);
  ~LmBatches();

  model::Batch next();
  std::string state_json() const;
  void restore(const std::string& state_json);

 private:
  struct Source;
  void read_row(Source& s, std::vector<uint32_t>& tok, std::vector<int32_t>& doc_start);
  void read_shuffled_row(size_t source, std::vector<uint32_t>& tok, std::vector<int32_t>& doc_start);
  // Shuffled reading: the token at the source's cursor, then the cursor moves on.
  uint32_t shuffled_token(size_t source, uint64_t& epoch, uint64_t& pos, uint64_t& off, bool& doc_start);
  const std::vector<uint64_t>& order(Source& s, size_t index, uint64_t epoch);
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<double> cumulative_;
  int B_, T_;
  bool doc_masking_;
  bool shuffle_;
  uint64_t seed_;
  uint64_t rng_;
};

}  // namespace nlm::train
