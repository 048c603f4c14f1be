// The DPO pieces on the model: pairs as batches (each pair's chosen and rejected sequences two
// padded rows of one micro-batch, pairs in a seeded order per epoch), the per-sequence response
// log-probabilities (reference ones once before training), and the training step: forward both
// rows, the pair loss on the summed (ipo: averaged) log-probs, and the backward through the
// model's per-token weighted cross-entropy, weight = −∂loss/∂logp_seq (÷ length for ipo).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/llama.h"
#include "train/dpo_data.h"
#include "train/dpo_loss.h"
#include "train/loop.h"
#include "train/sft_batches.h"

namespace nlm::train {

// Log-probabilities of a set of sequences (examples[2i] chosen, [2i+1] rejected): the sum over
// each response, and the response length in tokens.
struct SeqLogps {
  std::vector<double> sum;
  std::vector<int64_t> tokens;
  // What the loss uses for sequence k: the sum, or the per-token mean for ipo.
  double value(size_t k, DpoLoss type) const {
    return type == DpoLoss::Ipo ? sum[k] / static_cast<double>(std::max<int64_t>(tokens[k], 1)) : sum[k];
  }
};

class DpoBatches : public LoopData {
 public:
  // `split` must outlive this object; B = pairs per micro-batch, T = the longest sequence.
  DpoBatches(const DpoSplit& split, int B, int T, uint64_t seed);
  model::Batch next(int64_t& tokens) override;
  std::string state_json() const override;
  void restore(const std::string& state_json) override;
  // Pairs [first, first+count) in file order; and the pairs of the last next().
  model::Batch pairs_batch(size_t first, size_t count, int64_t& tokens) const;
  const std::vector<size_t>& last_pairs() const { return last_; }
  size_t pairs() const { return pairs_; }

 private:
  model::Batch of_pairs(const std::vector<size_t>& pairs, int64_t& tokens) const;
  SftBatches rows_;
  size_t pairs_;
  int B_;
  uint64_t seed_, epoch_ = 0, pos_ = 0;
  std::vector<size_t> order_, last_;
  uint64_t order_epoch_ = UINT64_MAX;
};

// Appends to `out` the response log-probs of the last forward's rows (targets ≥ 0 are the
// response tokens).
void append_seq_logps(const model::Llama& model, const model::Batch& batch, SeqLogps& out);

// Scores every pair of `data` with the model as it is (forward only), B pairs at a time. On one
// of several data-parallel ranks, only batches with index ≡ rank (mod ranks); the other pairs'
// entries are left 0 (summed over the ranks, the result is one rank's).
SeqLogps score_pairs(model::Llama& model, const DpoBatches& data, int B, int rank = 0, int ranks = 1);

// The running means a DPO step or eval reports (TRL's names).
struct DpoFigures {
  double loss = 0, chosen = 0, rejected = 0, accuracy = 0, margin = 0, logp_chosen = 0, logp_rejected = 0;
  int64_t pairs = 0;
  void add(const DpoPairLoss& p, double policy_chosen, double policy_rejected);
  // rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins, logps/chosen, logps/rejected.
  Figures named() const;
};

// One micro-batch of pairs (the batch of `pairs`): forward, pair losses against `ref` (indexed
// by pair), backward scaled by `scale`, figures added to `figures`. Returns the mean pair loss.
double dpo_micro_step(model::Llama& model, const model::Batch& batch, const std::vector<size_t>& pairs,
                      const SeqLogps& ref, const DpoLossOptions& loss, double scale, DpoFigures& figures);

// Mean loss and figures over every pair of `data` with the model as it is (no backward).
EvalFigures evaluate_pairs(model::Llama& model, const DpoBatches& data, const SeqLogps& ref,
                           const DpoLossOptions& loss, int B);

}  // namespace nlm::train
