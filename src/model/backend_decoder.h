// The server's slots on any backend: the training model's own KV-cache decode (Llama::decode,
// the same layer function as training) with one cache per slot, swapped in for each feed. This
// is what `nativelm serve --device cuda` (and `chat --device cuda`) decode with; on the CPU the
// packed inference engine (decoder.h) is faster and stays the default. Slots are fed one after
// another, not batched into one forward: a GPU runs each slot's step at full width anyway, and
// the results match an unbatched run token for token.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "model/llama.h"
#include "model/slot_decoder.h"

namespace nlm::model {

class BackendDecoder final : public SlotDecoder {
 public:
  // Takes the model; allocates slots × context positions of KV cache on its backend. Throws a
  // usage error for a model with unmerged LoRA adapters (merge them first) or a context past
  // the model's positions.
  BackendDecoder(std::unique_ptr<Llama> model, int slots, int context);
  ~BackendDecoder() override;

  int64_t vocab_size() const override { return model_->config().vocab_size; }
  void prefill(int slot, const int32_t* ids, int n, float* logits, bool every_row = false) override;
  void step(const int32_t* slots, const int32_t* ids, int n, float* logits) override;
  std::string describe() const override;

 private:
  // Runs n checked tokens through one slot's cache; logits as prefill() writes them.
  void feed(int slot, const int32_t* ids, int n, float* logits, bool every_row);

  std::unique_ptr<Llama> model_;
  std::vector<Llama::KvCache> caches_;  // per slot; the model holds none between feeds
  size_t cache_bytes_ = 0;
};

}  // namespace nlm::model
