// The distillation loss and its gradient (see distill_loss.h). Rows are independent, so they are
// spread over OpenMP threads and their sums added in row order afterwards: the same result on any count.
#include "train/distill_loss.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace nlm::train {

namespace {

// log Σ exp(x_v · k) over a row.
double log_sum_exp(const float* x, int64_t V, double k) {
  double m = -INFINITY;
  for (int64_t v = 0; v < V; ++v) m = std::max(m, x[v] * k);
  double s = 0;
  for (int64_t v = 0; v < V; ++v) s += std::exp(x[v] * k - m);
  return m + std::log(s);
}

// fn must not throw (it runs inside an OpenMP region).
template <class F>
void for_rows(int64_t N, const F& fn) {
#pragma omp parallel for schedule(static) if (N >= 1024)
  for (int64_t n = 0; n < N; ++n) fn(static_cast<size_t>(n));
}

}  // namespace

TeacherTargets teacher_targets(const std::vector<float>& logits, int64_t N, int64_t V, const DistillLossOptions& o) {
  if (static_cast<int64_t>(logits.size()) != N * V) runtime_error("teacher logits do not match N·V", "distill");
  TeacherTargets t;
  t.N = N;
  t.V = V;
  if (o.top_k > V) runtime_error("top_k " + std::to_string(o.top_k) + " is larger than the vocabulary", "distill");
  // top_k = V takes the top-k path (sorted ids) on purpose: it must give the full loss exactly.
  const bool full = o.top_k <= 0;
  t.K = full ? V : o.top_k;
  t.probs.resize(static_cast<size_t>(N * t.K));
  if (!full) t.ids.resize(static_cast<size_t>(N * t.K));
  const double inv_tau = 1.0 / o.temperature;
  for_rows(N, [&](size_t n) {
    const float* x = logits.data() + n * V;
    const double lse = log_sum_exp(x, V, inv_tau);
    float* q = t.probs.data() + n * t.K;
    if (full) {
      for (int64_t v = 0; v < V; ++v) q[v] = static_cast<float>(std::exp(x[v] * inv_tau - lse));
      return;
    }
    std::vector<int32_t> order(static_cast<size_t>(V));
    std::iota(order.begin(), order.end(), 0);
    auto higher = [x](int32_t a, int32_t b) { return x[a] != x[b] ? x[a] > x[b] : a < b; };
    std::partial_sort(order.begin(), order.begin() + t.K, order.end(), higher);
    double mass = 0;
    std::vector<double> p(static_cast<size_t>(t.K));
    for (int64_t i = 0; i < t.K; ++i) mass += p[size_t(i)] = std::exp(x[order[size_t(i)]] * inv_tau - lse);
    int32_t* ids = t.ids.data() + n * t.K;
    for (int64_t i = 0; i < t.K; ++i) {
      ids[i] = order[size_t(i)];
      q[i] = static_cast<float>(p[size_t(i)] / mass);
    }
  });
  return t;
}

DistillLoss distill_loss(const std::vector<float>& student, const std::vector<int32_t>& targets,
                         const TeacherTargets& teacher, const DistillLossOptions& o, double scale,
                         std::vector<float>* grad) {
  const int64_t N = teacher.N, V = teacher.V, K = teacher.K;
  if (static_cast<int64_t>(student.size()) != N * V || static_cast<int64_t>(targets.size()) != N)
    runtime_error("student logits or targets do not match the teacher's N·V", "distill");
  DistillLoss r;
  for (int32_t t : targets) {
    if (t >= V) runtime_error("target id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(V), "distill");
    r.positions += t >= 0;
  }
  if (grad) grad->assign(static_cast<size_t>(N * V), 0.0f);
  if (r.positions == 0) return r;
  const double tau = o.temperature, inv_tau = 1.0 / tau, a = o.alpha;
  const double per = scale / static_cast<double>(r.positions);
  std::vector<double> kd(static_cast<size_t>(N), 0.0), ce(static_cast<size_t>(N), 0.0);
  for_rows(N, [&](size_t n) {
    const int32_t target = targets[n];
    if (target < 0) return;
    const float* s = student.data() + n * V;
    const float* q = teacher.probs.data() + n * K;
    const int32_t* ids = teacher.ids.empty() ? nullptr : teacher.ids.data() + n * K;
    const double lse_tau = log_sum_exp(s, V, inv_tau);
    double k = 0;
    for (int64_t i = 0; i < K; ++i) {
      if (q[i] <= 0) continue;
      const int64_t v = ids ? ids[i] : i;
      k += q[i] * (std::log(static_cast<double>(q[i])) - (s[v] * inv_tau - lse_tau));
    }
    kd[n] = tau * tau * k;
    const double lse = log_sum_exp(s, V, 1.0);
    ce[n] = lse - s[target];
    if (!grad) return;
    float* g = grad->data() + n * V;
    // α·τ·(softmax(s/τ) − q) + (1 − α)·(softmax(s) − onehot), each scaled by scale / positions.
    for (int64_t v = 0; v < V; ++v)
      g[v] = static_cast<float>(per * (a * tau * std::exp(s[v] * inv_tau - lse_tau) + (1 - a) * std::exp(s[v] - lse)));
    for (int64_t i = 0; i < K; ++i) {
      const int64_t v = ids ? ids[i] : i;
      g[v] -= static_cast<float>(per * a * tau * q[i]);
    }
    g[target] -= static_cast<float>(per * (1 - a));
  });
  for (int64_t n = 0; n < N; ++n) {
    r.kd += kd[size_t(n)];
    r.ce += ce[size_t(n)];
  }
  r.kd /= static_cast<double>(r.positions);
  r.ce /= static_cast<double>(r.positions);
  r.total = a * r.kd + (1 - a) * r.ce;
  return r;
}

double kl_sum(const std::vector<float>& teacher, const std::vector<float>& student, const std::vector<int32_t>& targets,
              int64_t V) {
  const int64_t N = static_cast<int64_t>(targets.size());
  if (static_cast<int64_t>(teacher.size()) != N * V || static_cast<int64_t>(student.size()) != N * V)
    runtime_error("teacher and student logits do not match N·V", "distill eval");
  std::vector<double> kl(static_cast<size_t>(N), 0.0);
  for_rows(N, [&](size_t n) {
    if (targets[n] < 0) return;
    const float* t = teacher.data() + n * V;
    const float* s = student.data() + n * V;
    const double lt = log_sum_exp(t, V, 1.0), ls = log_sum_exp(s, V, 1.0);
    double k = 0;
    for (int64_t v = 0; v < V; ++v) {
      const double lp = t[v] - lt;
      k += std::exp(lp) * (lp - (s[v] - ls));
    }
    kl[n] = std::max(0.0, k);
  });
  return std::accumulate(kl.begin(), kl.end(), 0.0);
}

}  // namespace nlm::train
