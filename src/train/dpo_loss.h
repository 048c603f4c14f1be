// The DPO family of preference losses on one chosen/rejected pair, as TRL's DPOTrainer defines
// them, with their derivatives by the two policy log-probabilities (what the backward turns into
// per-token weights) and the reward figures it logs. h = (πc − rc) − (πr − rr), the policy's
// log-ratio margin over the reference:
//   sigmoid: −(1−ε)·logσ(βh) − ε·logσ(−βh)   (ε = label_smoothing; 0 = the DPO paper's loss)
//   hinge:   max(0, 1 − βh)                   (SLiC)
//   ipo:     (h − 1/(2β))²                    with π and r averaged over the response tokens
// For ipo the log-probabilities passed in must already be per-token averages (TRL divides the
// summed log-probs by the response length for ipo only); the loss itself does not know lengths.
#pragma once

namespace nlm::train {

enum class DpoLoss { Sigmoid, Hinge, Ipo };

struct DpoLossOptions {
  DpoLoss type = DpoLoss::Sigmoid;
  double beta = 0.1;
  double label_smoothing = 0;  // sigmoid only
};

struct DpoPairLoss {
  double loss = 0;
  double d_chosen = 0, d_rejected = 0;      // ∂loss/∂πc, ∂loss/∂πr
  double reward_chosen = 0, reward_rejected = 0;  // β(πc − rc), β(πr − rr)
};

// policy_* and ref_*: log-probabilities of the responses (sums, or per-token means for ipo).
DpoPairLoss dpo_pair_loss(const DpoLossOptions& options, double policy_chosen, double policy_rejected,
                          double ref_chosen, double ref_rejected);

}  // namespace nlm::train
