// LmBatches as the training loop's data: every token of a row is real, so a batch counts B·T
// tokens. Shared by `train` and `distill`, which read the same .tok shards the same way.
#pragma once
#include <cstdint>
#include <string>

#include "train/lm_batches.h"
#include "train/loop.h"

namespace nlm::train {

class LmLoopData : public LoopData {
 public:
  LmLoopData(LmBatches& batches, int64_t tokens_per_batch) : batches_(batches), tokens_(tokens_per_batch) {}
  model::Batch next(int64_t& tokens) override {
    tokens = tokens_;
    return batches_.next();
  }
  std::string state_json() const override { return batches_.state_json(); }
  void restore(const std::string& state) override { batches_.restore(state); }

 private:
  LmBatches& batches_;
  int64_t tokens_;
};

}  // namespace nlm::train
