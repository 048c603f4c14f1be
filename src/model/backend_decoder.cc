// One KV cache per slot, swapped into the model for each feed (see backend_decoder.h).
#include "model/backend_decoder.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "tensor/dtype.h"

namespace nlm::model {

namespace {
// Prompt tokens per forward: bounds the activations (and, for every_row, the logits) of one call.
constexpr int kChunk = 256;
}  // namespace

BackendDecoder::BackendDecoder(std::unique_ptr<Llama> model, int slots, int context) : model_(std::move(model)) {
  if (!model_) runtime_error("no model", "decoder");
  if (model_->lora().enabled())
    usage_error("the model has unmerged LoRA adapters", "decoder", "merge them first (nativelm merge)");
  const int64_t positions = model_->config().max_position_embeddings;
  if (context > positions)
    usage_error("a context of " + std::to_string(context) + " is past the model's " + std::to_string(positions) +
                    " positions",
                "decoder", "lower the context");
  init_slots(slots, context);
  model_->freeze();  // serving needs no gradient buffers
  caches_.resize(static_cast<size_t>(slots));
  for (auto& c : caches_) {
    model_->reset_cache(context);
    model_->swap_cache(c);
    for (const auto& t : c.k) cache_bytes_ += t.bytes();
    for (const auto& t : c.v) cache_bytes_ += t.bytes();
  }
}

BackendDecoder::~BackendDecoder() = default;

void BackendDecoder::feed(int slot, const int32_t* ids, int n, float* logits, bool every_row) {
  auto& cached = tokens_[static_cast<size_t>(slot)];
  Llama::KvCache& c = caches_[static_cast<size_t>(slot)];
  c.past = static_cast<int>(cached.size());  // truncate() may have shortened the slot
  const int64_t V = vocab_size();
  model_->swap_cache(c);
  // The slot's cache goes back whatever happens, so a failed feed leaves the other slots intact.
  struct SwapBack {
    Llama& m;
    Llama::KvCache& c;
    ~SwapBack() { m.swap_cache(c); }
  } back{*model_, c};
  for (int start = 0; start < n; start += kChunk) {
    const int m = std::min(kChunk, n - start);
    const std::vector<int32_t> chunk(ids + start, ids + start + m);
    const std::vector<float> z = model_->decode(chunk, every_row);
    if (every_row)
      std::copy(z.begin(), z.end(), logits + int64_t(start) * V);
    else if (start + m == n)
      std::copy(z.begin(), z.end(), logits);
    cached.insert(cached.end(), chunk.begin(), chunk.end());
  }
}

void BackendDecoder::prefill(int slot, const int32_t* ids, int n, float* logits, bool every_row) {
  check_feed(slot, ids, n);
  feed(slot, ids, n, logits, every_row);
}

void BackendDecoder::step(const int32_t* slots, const int32_t* ids, int n, float* logits) {
  if (n < 1) return;
  check_step(slots, ids, n);
  for (int i = 0; i < n; ++i) feed(slots[i], ids + i, 1, logits + int64_t(i) * vocab_size(), false);
}

std::string BackendDecoder::describe() const {
  size_t weights = 0;
  for (const Param& p : model_->params()) weights += p.value.bytes();
  char buf[240];
  std::snprintf(buf, sizeof buf, "%s weights (%.1f MB) on %s, %d slots of %d positions (KV cache %.1f MB), the model's own decode",
                std::string(tensor::dtype_name(model_->dtype())).c_str(), double(weights) / 1e6,
                model_->backend().name().c_str(), slots(), context(), double(cache_bytes_) / 1e6);
  return buf;
}

}  // namespace nlm::model
