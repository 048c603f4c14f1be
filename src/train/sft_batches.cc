// Packing and batching SFT examples (see sft_batches.h).
#include "train/sft_batches.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/json_ints.h"
#include "core/rng.h"

namespace nlm::train {

std::vector<std::vector<uint32_t>> pack_best_fit_decreasing(const std::vector<uint32_t>& sizes,
                                                            uint32_t capacity) {
  std::vector<uint32_t> items(sizes.size());
  for (uint32_t i = 0; i < items.size(); ++i) items[i] = i;
  std::stable_sort(items.begin(), items.end(), [&](uint32_t a, uint32_t b) { return sizes[a] > sizes[b]; });
  std::vector<std::vector<uint32_t>> bins;
  std::set<std::pair<uint32_t, uint32_t>> room;  // (free slots, bin): the best fit is the first ≥ size
  for (uint32_t i : items) {
    if (sizes[i] > capacity)
      usage_error("item of " + std::to_string(sizes[i]) + " exceeds the bin capacity " + std::to_string(capacity),
                  "packing");
    auto it = room.lower_bound({sizes[i], 0});
    uint32_t bin;
    uint32_t left;
    if (it == room.end()) {
      bin = static_cast<uint32_t>(bins.size());
      bins.emplace_back();
      left = capacity;
    } else {
      bin = it->second;
      left = it->first;
      room.erase(it);
    }
    bins[bin].push_back(i);
    left -= sizes[i];
    if (left > 0) room.insert({left, bin});
  }
  return bins;
}

namespace {
uint32_t slots(const SftTokens& e) { return e.ids.empty() ? 0 : static_cast<uint32_t>(e.ids.size() - 1); }
}  // namespace

SftBatches::SftBatches(const std::vector<SftTokens>& examples, int B, int T, SftPacking packing, uint64_t seed,
                       int32_t pad_id)
    : examples_(examples), B_(B), T_(T), packing_(packing), seed_(seed), pad_(pad_id) {
  if (B <= 0 || T <= 0) usage_error("batch size and sequence length must be positive", "sft");
  if (examples.empty()) usage_error("no examples to train on", "sft", "check the data files and the counts above");
  std::vector<uint32_t> sizes;
  for (const auto& e : examples) {
    if (slots(e) > static_cast<uint32_t>(T))
      usage_error("an example of " + std::to_string(e.ids.size()) + " tokens does not fit rows of " +
                      std::to_string(T) + " slots",
                  "sft", "set max_length so that examples are truncated or dropped");
    sizes.push_back(slots(e));
  }
  if (packing == SftPacking::Bfd) {
    rows_ = pack_best_fit_decreasing(sizes, static_cast<uint32_t>(T));
  } else {
    for (uint32_t i = 0; i < examples.size(); ++i) rows_.push_back({i});
  }
}

const std::vector<uint32_t>& SftBatches::order() {
  if (order_epoch_ != epoch_) {
    order_.resize(rows_.size());
    for (uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
    uint64_t r = seed_ ^ (0xd1b54a32d192ed03ull * (epoch_ + 1));
    for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[splitmix64(r) % i]);
    order_epoch_ = epoch_;
  }
  return order_;
}

model::Batch SftBatches::next(int64_t& tokens) {
  std::vector<size_t> picked;
  while (static_cast<int>(picked.size()) < B_) {
    picked.push_back(order()[pos_]);
    if (++pos_ == rows_.size()) {
      pos_ = 0;
      ++epoch_;
    }
  }
  return build(picked, tokens);
}

model::Batch SftBatches::rows_batch(size_t first, size_t count, int64_t& tokens) const {
  std::vector<size_t> picked;
  for (size_t i = first; i < first + count && i < rows_.size(); ++i) picked.push_back(i);
  return build(picked, tokens);
}

model::Batch SftBatches::build(const std::vector<size_t>& picked, int64_t& tokens) const {
  model::Batch b;
  b.B = static_cast<int>(picked.size());
  b.T = T_;
  if (packing_ == SftPacking::None) {  // pad to the longest row of this batch
    uint32_t longest = 1;
    for (size_t r : picked) longest = std::max(longest, slots(examples_[rows_[r][0]]));
    b.T = static_cast<int>(longest);
  }
  const size_t N = static_cast<size_t>(b.B) * b.T;
  b.inputs.assign(N, pad_);
  b.targets.assign(N, -1);
  b.positions.assign(N, 0);
  if (packing_ == SftPacking::Bfd) b.docs.assign(N, -1);
  tokens = 0;
  for (size_t row = 0; row < picked.size(); ++row) {
    size_t at = row * static_cast<size_t>(b.T);
    int32_t doc = 0;
    for (uint32_t ex : rows_[picked[row]]) {
      const SftTokens& e = examples_[ex];
      const uint32_t n = slots(e);
      for (uint32_t j = 0; j < n; ++j, ++at) {
        b.inputs[at] = static_cast<int32_t>(e.ids[j]);
        b.targets[at] = e.mask[j + 1] ? static_cast<int32_t>(e.ids[j + 1]) : -1;
        b.positions[at] = static_cast<int32_t>(j);
        if (!b.docs.empty()) b.docs[at] = doc;
      }
      tokens += n;
      ++doc;
    }
    if (b.docs.empty())  // padding: positions keep counting (the slots are never attended to)
      for (size_t end = (row + 1) * static_cast<size_t>(b.T), p = at - row * static_cast<size_t>(b.T); at < end;
           ++at, ++p)
        b.positions[at] = static_cast<int32_t>(p);
  }
  return b;
}

double SftBatches::fill() const {
  double used = 0;
  for (const auto& e : examples_) used += slots(e);
  return rows_.empty() ? 0 : used / (static_cast<double>(rows_.size()) * T_);
}

std::string SftBatches::state_json() const {
  return nlohmann::json{{"epoch", epoch_}, {"row", pos_}, {"rows", rows_.size()}}.dump();
}

void SftBatches::restore(const std::string& state) {
  try {
    auto j = nlohmann::json::parse(state);
    uint64_t rows = json_uint(j.at("rows"), "rows", "data cursor"), pos = json_uint(j.at("row"), "row", "data cursor");
    if (rows != rows_.size() || pos >= rows_.size())
      usage_error("checkpoint's data cursor is for " + std::to_string(rows) + " rows, the data now packs into " +
                      std::to_string(rows_.size()),
                  "sft", "resume with the same data files and options");
    epoch_ = json_uint(j.at("epoch"), "epoch", "data cursor");
    pos_ = pos;
  } catch (const nlohmann::json::exception& e) {
    runtime_error(std::string("corrupt SFT data cursor: ") + e.what(), "trainer_state.json",
                  "delete this checkpoint to resume from an older one");
  }
}

}  // namespace nlm::train
