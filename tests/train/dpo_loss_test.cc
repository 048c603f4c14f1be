// DPO's losses against their definitions (TRL's sigmoid with label smoothing, hinge, ipo) and
// their derivatives against finite differences, then the whole DPO step on a tiny fp64 Llama:
// the gradients backward_weighted gives every parameter match central differences of the pair
// loss, for sigmoid and for ipo (per-token averaged log-probs).
#include "train/dpo_loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../model/model_helpers.h"
#include "tensor/backend.h"
#include "tensor/cpu/cpu_backend.h"
#include "train/dpo_step.h"

namespace nlm::testing {
namespace {

using train::DpoLoss;
using train::DpoLossOptions;

double sig(double x) { return 1 / (1 + std::exp(-x)); }

TEST(DpoLoss, MatchesTheDefinitions) {
  const double pc = -10, pr = -12, rc = -11, rr = -11.5;  // h = 1 − (−0.5) = 1.5
  DpoLossOptions o;
  o.beta = 0.1;
  auto s = train::dpo_pair_loss(o, pc, pr, rc, rr);
  EXPECT_NEAR(s.loss, -std::log(sig(0.15)), 1e-12);
  EXPECT_NEAR(s.reward_chosen, 0.1, 1e-12);
  EXPECT_NEAR(s.reward_rejected, -0.05, 1e-12);
  o.label_smoothing = 0.2;
  s = train::dpo_pair_loss(o, pc, pr, rc, rr);
  EXPECT_NEAR(s.loss, -0.8 * std::log(sig(0.15)) - 0.2 * std::log(sig(-0.15)), 1e-12);
  o = {DpoLoss::Hinge, 0.5, 0};
  EXPECT_NEAR(train::dpo_pair_loss(o, pc, pr, rc, rr).loss, 0.25, 1e-12);
  EXPECT_EQ(train::dpo_pair_loss(o, pc, pr - 10, rc, rr).loss, 0);  // margin past 1/β: no loss
  o = {DpoLoss::Ipo, 0.5, 0};
  EXPECT_NEAR(train::dpo_pair_loss(o, pc, pr, rc, rr).loss, 0.25, 1e-12);  // (1.5 − 1)²
  // Large margins stay finite.
  o = {DpoLoss::Sigmoid, 1, 0};
  EXPECT_TRUE(std::isfinite(train::dpo_pair_loss(o, 0, -5000, 0, 0).loss));
  EXPECT_NEAR(train::dpo_pair_loss(o, -5000, 0, 0, 0).loss, 5000, 1e-9);
}

TEST(DpoLoss, DerivativesMatchFiniteDifferences) {
  const double e = 1e-6;
  for (auto o : {DpoLossOptions{DpoLoss::Sigmoid, 0.3, 0}, DpoLossOptions{DpoLoss::Sigmoid, 0.3, 0.1},
                 DpoLossOptions{DpoLoss::Hinge, 0.3, 0}, DpoLossOptions{DpoLoss::Ipo, 0.3, 0}}) {
    const double pc = -3.2, pr = -2.9, rc = -3.0, rr = -3.1;
    auto l = train::dpo_pair_loss(o, pc, pr, rc, rr);
    double dc = (train::dpo_pair_loss(o, pc + e, pr, rc, rr).loss - train::dpo_pair_loss(o, pc - e, pr, rc, rr).loss) / (2 * e);
    double dr = (train::dpo_pair_loss(o, pc, pr + e, rc, rr).loss - train::dpo_pair_loss(o, pc, pr - e, rc, rr).loss) / (2 * e);
    EXPECT_NEAR(l.d_chosen, dc, 1e-7) << static_cast<int>(o.type);
    EXPECT_NEAR(l.d_rejected, dr, 1e-7) << static_cast<int>(o.type);
    EXPECT_NE(l.d_chosen, 0);
  }
}

// A pair as a batch of two rows: prompt tokens (target −1) then 2 or 3 response tokens.
model::Batch pair_batch(int V) {
  model::Batch b;
  b.B = 2;
  b.T = 6;
  b.inputs = {1, 4, 2, 5, 3, 0, 1, 4, 6, 7, 0, 0};
  for (auto& x : b.inputs) x %= V;
  b.targets = {-1, -1, 2, 5, 3, 1, -1, -1, 6, 7, -1, -1};
  for (auto& x : b.targets) x = x < 0 ? x : x % V;
  for (int r = 0; r < 2; ++r)
    for (int t = 0; t < 6; ++t) b.positions.push_back(t);
  return b;
}

void check_step_gradients(DpoLoss type) {
  auto& be = tensor::cpu_backend();
  auto& cpu = static_cast<tensor::CpuBackend&>(be);
  int threads = cpu.threads();
  cpu.set_threads(1);
  auto cfg = tiny_config(true);
  model::Llama m(cfg, be, {tensor::DType::F64, false});
  m.init_random(11);
  model::Batch b = pair_batch(static_cast<int>(cfg.vocab_size));
  train::SeqLogps ref{{-7.0, -5.5}, {4, 2}};
  DpoLossOptions o{type, 0.7, 0};
  train::DpoFigures f;
  m.zero_grad();
  const double scale = 0.5;  // as with grad_accum 2
  const double loss = train::dpo_micro_step(m, b, {0}, ref, o, scale, f);
  EXPECT_EQ(f.pairs, 1);
  auto loss_now = [&] {
    train::DpoFigures g;
    train::SeqLogps policy;
    m.forward(b);
    train::append_seq_logps(m, b, policy);
    return train::dpo_pair_loss(o, policy.value(0, type), policy.value(1, type), ref.value(0, type), ref.value(1, type))
        .loss;
  };
  EXPECT_NEAR(loss_now(), loss, 1e-12);
  const double h = 1e-6;
  int checked = 0;
  for (auto& p : m.params()) {
    std::vector<double> value(p.value.numel()), grad(p.value.numel());
    be.download(p.value, value.data(), tensor::DType::F64);
    be.download(p.grad, grad.data(), tensor::DType::F64);
    for (size_t i = 0; i < value.size(); i += 7) {  // every 7th element of every tensor
      const double orig = value[i];
      value[i] = orig + h;
      be.upload(p.value, value.data(), tensor::DType::F64);
      const double lp = loss_now();
      value[i] = orig - h;
      be.upload(p.value, value.data(), tensor::DType::F64);
      const double lm = loss_now();
      value[i] = orig;
      be.upload(p.value, value.data(), tensor::DType::F64);
      const double numeric = scale * (lp - lm) / (2 * h);
      ASSERT_NEAR(grad[i], numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << p.name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 50);
  cpu.set_threads(threads);
}

TEST(DpoStep, SigmoidGradientsMatchFiniteDifferences) { check_step_gradients(DpoLoss::Sigmoid); }
TEST(DpoStep, IpoGradientsMatchFiniteDifferences) { check_step_gradients(DpoLoss::Ipo); }

}  // namespace
}  // namespace nlm::testing
