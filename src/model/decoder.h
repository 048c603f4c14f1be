// The inference engine: a Llama's weights packed for decoding (F32, BF16 or int8 per-row) and a
// preallocated KV cache of `slots` sequences, so that generating a token allocates nothing.
// One forward handles any set of rows — a prompt's tokens in one slot (prefill, through sgemm)
// or one new token for each of several slots (a continuous-batching step, through the
// matrix-vector kernels) — with the same layer arithmetic as Llama::layer_forward:
//   x += o(attn(rope(q,k), v)(rmsnorm(x))); x += down(silu(gate)·up)(rmsnorm(x)); logits = head(rmsnorm(x))
// It runs on the CPU; the training model (llama.h) stays the reference it is tested against.
// The slot bookkeeping (lengths, prefix reuse) is SlotDecoder's, shared with backend_decoder.h.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/slot_decoder.h"
#include "tensor/cpu/packed_linear.h"

namespace nlm::model {

class Llama;

struct DecoderOptions {
  tensor::cpu::WeightFormat weights = tensor::cpu::WeightFormat::F32;
  int threads = 0;        // <= 0: nlm::thread_count()
  int slots = 1;          // sequences held at once (the server's parallel requests)
  int context = 0;        // positions per slot; <= 0: the model's max_position_embeddings
  int prefill_chunk = 256;  // prompt tokens per forward (bounds the activation buffers)
};

// Linears of a quantised folder packed as stored (model/quantized_checkpoint.h's
// load_packed_linears), keyed by parameter name.
using QuantizedLinears = std::shared_ptr<const std::map<std::string, tensor::cpu::PackedMatrix>>;

// Called with the input rows of each layer's linears before they multiply (calibration:
// `nativelm quantize` collects activation statistics through it): site 0 = q/k/v (after
// input_layernorm), 1 = o_proj, 2 = gate/up (after post_attention_layernorm), 3 = down_proj.
using LinearInputObserver = std::function<void(int layer, int site, const float* x, int rows, int64_t cols)>;

class Decoder final : public SlotDecoder {
 public:
  // Copies (and packs) the model's weights; the Llama may be freed afterwards. Throws a usage
  // error for a model with unmerged LoRA adapters. `quantized` linears replace those weights of
  // the model; the rest pack as options.weights says (null: every matrix packs from the model).
  Decoder(const Llama& model, const DecoderOptions& options = {}, QuantizedLinears quantized = nullptr);
  ~Decoder() override;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  const ModelConfig& config() const { return config_; }
  const DecoderOptions& options() const { return options_; }
  int64_t vocab_size() const override { return config_.vocab_size; }

  void prefill(int slot, const int32_t* ids, int n, float* logits, bool every_row = false) override;
  void step(const int32_t* slots, const int32_t* ids, int n, float* logits) override;
  std::string describe() const override;

  // Observes every linear's input from the next forward on (empty: none).
  void set_observer(LinearInputObserver observer) { observe_ = std::move(observer); }

  size_t weight_bytes() const;
  size_t cache_bytes() const;

 private:
  struct Layer;
  struct Row {
    int slot, pos;
    int32_t id;
  };
  // Runs rows through every layer; writes logits for rows[want[i]] into logits + i·V.
  void forward(const Row* rows, int n, const int* want, int nwant, float* logits, bool gemm);
  // The same as forward without sgemm, every op split over one thread team (decode steps).
  void forward_team(const Row* rows, int n, const int* want, int nwant, float* logits);
  void attention(int l, const Row* rows, int n);
  // One query row's attention in one head over the slot's cached keys 0 .. pos; sc holds ctx
  // floats of scores.
  void attend(int l, const Row& r, int i, int64_t h, float* sc);
  // RoPE on head h of row i's q/k/v (h < NH: a query head, else key head h − NH), and a key head
  // goes into the cache with its value head.
  void rope_and_store(int l, const Row& r, float* qkv_row, int64_t h);
  // Prompt rows of one slot at positions p0 .. p0 + n − 1: the scores of a tile of query rows
  // against all its keys, and their product with V, each one sgemm per head.
  void attention_prefill(int l, int slot, int p0, int n);
  // Key (or value) head kh of a slot's layer: ctx positions of hs floats, one after the other.
  float* kv(int slot, int l, bool v, int64_t kh) const;

  ModelConfig config_;
  DecoderOptions options_;
  LinearInputObserver observe_;
  int threads_ = 1;
  std::vector<Layer> layers_;
  tensor::cpu::PackedMatrix embed_, head_;  // head_ unused (rows 0) when tied
  bool tied_ = false;
  std::vector<float> final_norm_, cos_, sin_;
  // [slot][layer][k|v][NKV][ctx][hs]: a head's keys are contiguous, so decode attention streams
  // them (with all heads of a position side by side it read 256 bytes every 1,280).
  std::vector<float> cache_;
  std::vector<Row> rows_;   // the current forward's rows, reused (no allocation per step)
  std::vector<int> want_;
  // Activations for up to `cap_` rows.
  int cap_ = 0;
  std::vector<float> x_, ln_, q_, k_, v_, att_, gate_, up_, lnf_, scores_;
  std::vector<float> tile_scores_;  // attention_prefill's per-thread score tiles, sized on first use
  std::vector<float> lnt_;          // forward_team's per-thread norm outputs (cap_ rows each)
  // forward_team's chunk counters, one per matrix product of a step (reset at its start).
  std::vector<std::atomic<int64_t>> pool_next_;
};

}  // namespace nlm::model
