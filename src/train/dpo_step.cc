// DPO batches, sequence scoring, the training micro-step and the eval (see dpo_step.h).
#include "train/dpo_step.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_ints.h"
#include "core/rng.h"

namespace nlm::train {

namespace {

int longest(const DpoSplit& s) {
  size_t n = 2;
  for (const auto& e : s.examples) n = std::max(n, e.ids.size());
  return static_cast<int>(n - 1);
}

}  // namespace

DpoBatches::DpoBatches(const DpoSplit& split, int B, int T, uint64_t seed)
    : rows_(split.examples, 2 * B, std::max(T, longest(split)), SftPacking::None, 0, 0),
      pairs_(split.pairs()),
      B_(B),
      seed_(seed) {}

model::Batch DpoBatches::of_pairs(const std::vector<size_t>& pairs, int64_t& tokens) const {
  std::vector<size_t> rows;
  for (size_t p : pairs) {
    rows.push_back(2 * p);
    rows.push_back(2 * p + 1);
  }
  return rows_.build(rows, tokens);
}

model::Batch DpoBatches::next(int64_t& tokens) {
  last_.clear();
  while (static_cast<int>(last_.size()) < B_) {
    if (order_epoch_ != epoch_) {
      order_.resize(pairs_);
      for (size_t i = 0; i < pairs_; ++i) order_[i] = i;
      uint64_t r = seed_ ^ (0xd1b54a32d192ed03ull * (epoch_ + 1));
      for (size_t i = pairs_; i > 1; --i) std::swap(order_[i - 1], order_[splitmix64(r) % i]);
      order_epoch_ = epoch_;
    }
    last_.push_back(order_[pos_]);
    if (++pos_ == pairs_) {
      pos_ = 0;
      ++epoch_;
    }
  }
  return of_pairs(last_, tokens);
}

model::Batch DpoBatches::pairs_batch(size_t first, size_t count, int64_t& tokens) const {
  std::vector<size_t> picked;
  for (size_t i = first; i < first + count && i < pairs_; ++i) picked.push_back(i);
  return of_pairs(picked, tokens);
}

std::string DpoBatches::state_json() const {
  return nlohmann::json{{"epoch", epoch_}, {"pair", pos_}, {"pairs", pairs_}}.dump();
}

void DpoBatches::restore(const std::string& state) {
  auto j = nlohmann::json::parse(state, nullptr, false);
  if (j.is_discarded() || !j.contains("pairs") || !j.contains("pair") || !j.contains("epoch"))
    runtime_error("corrupt DPO data cursor", "trainer_state.json", "delete this checkpoint to resume from an older one");
  if (json_uint(j["pairs"], "pairs", "data cursor") != pairs_ || json_uint(j["pair"], "pair", "data cursor") >= pairs_)
    usage_error("checkpoint's data cursor is for " + j["pairs"].dump() + " pairs, the data now has " +
                    std::to_string(pairs_),
                "dpo", "resume with the same data files and options");
  epoch_ = json_uint(j["epoch"], "epoch", "data cursor");
  pos_ = json_uint(j["pair"], "pair", "data cursor");
}

void append_seq_logps(const model::Llama& m, const model::Batch& b, SeqLogps& out) {
  const std::vector<double> losses = m.token_losses();
  for (int r = 0; r < b.B; ++r) {
    double sum = 0;
    int64_t n = 0;
    for (int t = 0; t < b.T; ++t) {
      const size_t k = static_cast<size_t>(r) * b.T + t;
      if (b.targets[k] < 0) continue;
      sum -= losses[k];
      ++n;
    }
    out.sum.push_back(sum);
    out.tokens.push_back(n);
  }
}

SeqLogps score_pairs(model::Llama& m, const DpoBatches& data, int B, int rank, int ranks) {
  SeqLogps out;
  size_t batch = 0;
  for (size_t first = 0; first < data.pairs(); first += static_cast<size_t>(B), ++batch) {
    if (batch % static_cast<size_t>(ranks) != static_cast<size_t>(rank)) {  // another rank's
      const size_t rows = 2 * std::min(static_cast<size_t>(B), data.pairs() - first);
      out.sum.insert(out.sum.end(), rows, 0.0);
      out.tokens.insert(out.tokens.end(), rows, 0);
      continue;
    }
    int64_t tokens = 0;
    model::Batch b = data.pairs_batch(first, static_cast<size_t>(B), tokens);
    m.forward(b);
    append_seq_logps(m, b, out);
  }
  return out;
}

void DpoFigures::add(const DpoPairLoss& p, double pc, double pr) {
  loss += p.loss;
  chosen += p.reward_chosen;
  rejected += p.reward_rejected;
  accuracy += p.reward_chosen > p.reward_rejected ? 1 : 0;
  margin += p.reward_chosen - p.reward_rejected;
  logp_chosen += pc;
  logp_rejected += pr;
  ++pairs;
}

Figures DpoFigures::named() const {
  const double n = pairs > 0 ? static_cast<double>(pairs) : 1;
  return {{"rewards/chosen", chosen / n},     {"rewards/rejected", rejected / n},
          {"rewards/accuracies", accuracy / n}, {"rewards/margins", margin / n},
          {"logps/chosen", logp_chosen / n},  {"logps/rejected", logp_rejected / n}};
}

namespace {

// Forward of a batch of pairs and their losses; `grads` (when given) gets ∂loss/∂(chosen, rejected
// value) per pair.
double pair_losses(model::Llama& m, const model::Batch& b, const std::vector<size_t>& pairs, const SeqLogps& ref,
                   const DpoLossOptions& o, DpoFigures& figures, SeqLogps& policy,
                   std::vector<DpoPairLoss>* grads) {
  m.forward(b);
  append_seq_logps(m, b, policy);
  double total = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const size_t p = pairs[i];
    if (2 * p + 1 >= ref.sum.size()) runtime_error("no reference log-probs for pair " + std::to_string(p), "dpo");
    const double pc = policy.value(2 * i, o.type), pr = policy.value(2 * i + 1, o.type);
    DpoPairLoss l = dpo_pair_loss(o, pc, pr, ref.value(2 * p, o.type), ref.value(2 * p + 1, o.type));
    figures.add(l, pc, pr);
    total += l.loss;
    if (grads) grads->push_back(l);
  }
  return pairs.empty() ? 0 : total / static_cast<double>(pairs.size());
}

}  // namespace

double dpo_micro_step(model::Llama& m, const model::Batch& b, const std::vector<size_t>& pairs, const SeqLogps& ref,
                      const DpoLossOptions& o, double scale, DpoFigures& figures) {
  SeqLogps policy;
  std::vector<DpoPairLoss> grads;
  const double loss = pair_losses(m, b, pairs, ref, o, figures, policy, &grads);
  // loss = mean over pairs; logp_seq = −Σ token losses (÷ n for ipo), so ∂loss/∂token loss =
  // −∂loss/∂value · scale / pairs (÷ n).
  std::vector<double> w(b.inputs.size(), 0.0);
  const double per_pair = scale / static_cast<double>(std::max<size_t>(pairs.size(), 1));
  for (size_t i = 0; i < pairs.size(); ++i)
    for (size_t s = 0; s < 2; ++s) {
      const size_t row = 2 * i + s;
      double d = -(s == 0 ? grads[i].d_chosen : grads[i].d_rejected) * per_pair;
      if (o.type == DpoLoss::Ipo) d /= static_cast<double>(std::max<int64_t>(policy.tokens[row], 1));
      for (int t = 0; t < b.T; ++t) w[row * b.T + t] = d;
    }
  m.backward_weighted(w);
  return loss;
}

EvalFigures evaluate_pairs(model::Llama& m, const DpoBatches& data, const SeqLogps& ref, const DpoLossOptions& o,
                           int B) {
  DpoFigures f;
  for (size_t first = 0; first < data.pairs(); first += static_cast<size_t>(B)) {
    int64_t tokens = 0;
    model::Batch b = data.pairs_batch(first, static_cast<size_t>(B), tokens);
    std::vector<size_t> pairs;
    for (size_t i = first; i < first + static_cast<size_t>(B) && i < data.pairs(); ++i) pairs.push_back(i);
    SeqLogps policy;
    pair_losses(m, b, pairs, ref, o, f, policy, nullptr);
  }
  EvalFigures e;
  e.loss = f.pairs ? f.loss / static_cast<double>(f.pairs) : 0;
  e.extra = f.named();
  return e;
}

}  // namespace nlm::train
