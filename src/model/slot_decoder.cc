// The token bookkeeping shared by the inference engines (see slot_decoder.h).
#include "model/slot_decoder.h"

#include <algorithm>

#include "core/error.h"

namespace nlm::model {

void SlotDecoder::init_slots(int slots, int context) {
  if (slots < 1) usage_error("slots must be at least 1", "decoder", "");
  if (context < 1) usage_error("context must be at least 1", "decoder", "");
  ctx_ = context;
  tokens_.assign(static_cast<size_t>(slots), {});
  for (auto& t : tokens_) t.reserve(static_cast<size_t>(ctx_));
}

int SlotDecoder::length(int slot) const {
  if (slot < 0 || slot >= slots()) runtime_error("slot " + std::to_string(slot) + " out of range", "decoder");
  return static_cast<int>(tokens_[static_cast<size_t>(slot)].size());
}

const std::vector<int32_t>& SlotDecoder::tokens(int slot) const {
  length(slot);  // range check
  return tokens_[static_cast<size_t>(slot)];
}

void SlotDecoder::truncate(int slot, int length) {
  const int now = this->length(slot);
  tokens_[static_cast<size_t>(slot)].resize(static_cast<size_t>(std::clamp(length, 0, now)));
}

int SlotDecoder::reuse_prefix(int slot, const std::vector<int32_t>& prompt) {
  const auto& have = tokens(slot);
  size_t n = 0;
  const size_t limit = prompt.empty() ? 0 : prompt.size() - 1;
  while (n < limit && n < have.size() && have[n] == prompt[n]) ++n;
  truncate(slot, static_cast<int>(n));
  return static_cast<int>(n);
}

namespace {
void check_id(int32_t id, int64_t V) {
  if (id < 0 || id >= V)
    usage_error("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(V), "generate",
                "use ids below the vocabulary size");
}
}  // namespace

void SlotDecoder::check_feed(int slot, const int32_t* ids, int n) const {
  const int have = length(slot);
  if (n < 1) usage_error("an empty prompt", "generate", "give at least one token");
  if (int64_t(have) + n > ctx_)
    usage_error("sequence of " + std::to_string(int64_t(have) + n) + " tokens exceeds the context of " +
                    std::to_string(ctx_),
                "generate", "shorten the prompt or raise the context");
  const int64_t V = vocab_size();
  for (int i = 0; i < n; ++i) check_id(ids[i], V);
}

void SlotDecoder::check_step(const int32_t* slots, const int32_t* ids, int n) const {
  const int64_t V = vocab_size();
  for (int i = 0; i < n; ++i) {
    const int s = slots[i];
    if (length(s) >= ctx_)
      usage_error("sequence exceeds the context of " + std::to_string(ctx_), "generate",
                  "lower max_tokens or raise the context");
    for (int j = 0; j < i; ++j)
      if (slots[j] == s) runtime_error("slot " + std::to_string(s) + " twice in one step", "decoder");
    check_id(ids[i], V);
  }
}

}  // namespace nlm::model
