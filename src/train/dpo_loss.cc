// The DPO losses and their derivatives (see dpo_loss.h), in double precision.
#include "train/dpo_loss.h"

#include <cmath>

namespace nlm::train {

namespace {

// log σ(x) without overflow.
double log_sigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }
double sigmoid(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

}  // namespace

DpoPairLoss dpo_pair_loss(const DpoLossOptions& o, double pc, double pr, double rc, double rr) {
  DpoPairLoss r;
  const double h = (pc - rc) - (pr - rr), b = o.beta;
  double dh = 0;  // ∂loss/∂h; ∂h/∂πc = 1, ∂h/∂πr = −1
  switch (o.type) {
    case DpoLoss::Sigmoid: {
      const double e = o.label_smoothing;
      r.loss = -(1 - e) * log_sigmoid(b * h) - e * log_sigmoid(-b * h);
      // d/dx −logσ(x) = −σ(−x); d/dx −logσ(−x) = σ(x)
      dh = b * (-(1 - e) * sigmoid(-b * h) + e * sigmoid(b * h));
      break;
    }
    case DpoLoss::Hinge:
      r.loss = std::max(0.0, 1 - b * h);
      dh = 1 - b * h > 0 ? -b : 0;
      break;
    case DpoLoss::Ipo: {
      const double d = h - 1 / (2 * b);
      r.loss = d * d;
      dh = 2 * d;
      break;
    }
  }
  r.d_chosen = dh;
  r.d_rejected = -dh;
  r.reward_chosen = b * (pc - rc);
  r.reward_rejected = b * (pr - rr);
  return r;
}

}  // namespace nlm::train
