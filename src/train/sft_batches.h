// Batches of SFT examples. Packing (the default) places whole examples into rows of T tokens by
// best-fit decreasing bin packing and gives each example its own document id and positions from
// 0, so attention stays inside the example (the backend's document masking) and a packed row
// computes exactly what the examples would alone. Without packing each row holds one example,
// padded to the longest row of its batch. An example of L tokens takes L−1 slots: inputs
// ids[0..L−2], targets ids[1..L−1] where the mask is 1, else −1. Padding slots have target −1.
// Rows are drawn in a seeded order that changes every epoch; the cursor (epoch, row) is the
// state checkpoints save.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/loop.h"
#include "train/sft_data.h"

namespace nlm::train {

using data::SftPacking;

// Best-fit decreasing: items (sizes ≤ capacity) in decreasing size (ties by index), each into the
// open bin with the least room that still fits it, else a new bin. Returns the bins as item
// indices in placement order.
std::vector<std::vector<uint32_t>> pack_best_fit_decreasing(const std::vector<uint32_t>& sizes,
                                                            uint32_t capacity);

class SftBatches : public LoopData {
 public:
  // T: slots per row; every example must have at most T+1 tokens (usage error otherwise).
  // `examples` must outlive this object.
  SftBatches(const std::vector<SftTokens>& examples, int B, int T, SftPacking packing, uint64_t seed,
             int32_t pad_id);

  model::Batch next(int64_t& tokens) override;
  std::string state_json() const override;
  void restore(const std::string& state_json) override;

  size_t rows() const { return rows_.size(); }
  // Rows [first, first+count) in packing order (no shuffle): eval batches.
  model::Batch rows_batch(size_t first, size_t count, int64_t& tokens) const;
  // The given rows (packing-order indices), in that order: DPO's chosen/rejected row pairs.
  model::Batch build(const std::vector<size_t>& rows, int64_t& tokens) const;
  // Real tokens over all rows / slots of all rows (packing efficiency with fixed-width rows).
  double fill() const;

 private:
  const std::vector<uint32_t>& order();
  const std::vector<SftTokens>& examples_;
  std::vector<std::vector<uint32_t>> rows_;  // example indices per row
  int B_, T_;
  SftPacking packing_;
  uint64_t seed_;
  int32_t pad_;
  uint64_t epoch_ = 0, pos_ = 0;  // cursor: row `pos_` of epoch `epoch_`'s order
  std::vector<uint32_t> order_;
  uint64_t order_epoch_ = UINT64_MAX;
};

}  // namespace nlm::train
