// What the server's scheduler decodes with: `slots` sequences, each a list of cached tokens, fed a
// prompt chunk at a time (prefill) or one new token for each of several slots at once (step).
// Two engines implement it: the CPU inference engine (decoder.h), and the training model's own
// KV-cache path on any backend (backend_decoder.h), which is how `serve --device cuda` decodes.
// The token bookkeeping (prefix reuse, truncation) is the same for both, so it lives here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nlm::model {

class SlotDecoder {
 public:
  virtual ~SlotDecoder() = default;

  int slots() const { return static_cast<int>(tokens_.size()); }
  int context() const { return ctx_; }
  virtual int64_t vocab_size() const = 0;
  // Cached positions of a slot.
  int length(int slot) const;
  // Keeps the first `length` cached positions of a slot (0 clears it): a new request that shares
  // a prefix with the slot's previous one only feeds the rest.
  void truncate(int slot, int length);
  // The tokens cached in a slot, in order.
  const std::vector<int32_t>& tokens(int slot) const;
  // Prefix reuse: truncates the slot to the longest common prefix of its tokens and `prompt`,
  // leaving at least the prompt's last token to feed (its logits are needed), and returns how
  // many prompt tokens are already cached.
  int reuse_prefix(int slot, const std::vector<int32_t>& prompt);

  // Feeds n tokens to `slot` after its cached ones and writes the last one's logits [V], or with
  // every_row the logits of each fed token [n, V] (scoring a prompt: row i predicts ids[i + 1]).
  // Throws a usage error when they do not fit the slot's context or an id is outside the
  // vocabulary.
  virtual void prefill(int slot, const int32_t* ids, int n, float* logits, bool every_row = false) = 0;
  // One token for each of n distinct slots at once; writes logits [n, V].
  virtual void step(const int32_t* slots, const int32_t* ids, int n, float* logits) = 0;
  // One line on the engine for the server's log: weights, slots, cache size, where it runs.
  virtual std::string describe() const = 0;

 protected:
  SlotDecoder() = default;
  // Sizes the bookkeeping: `slots` empty sequences of up to `context` positions.
  void init_slots(int slots, int context);
  // The checks every feed makes: n ≥ 1 tokens that fit the slot's context, ids in the vocabulary.
  void check_feed(int slot, const int32_t* ids, int n) const;
  // The checks of a step: distinct slots, each with room for one more position.
  void check_step(const int32_t* slots, const int32_t* ids, int n) const;

  std::vector<std::vector<int32_t>> tokens_;  // per slot; its size is the slot's length
  int ctx_ = 0;
};

}  // namespace nlm::model
