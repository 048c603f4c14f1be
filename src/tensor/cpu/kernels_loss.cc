// CPU cross-entropy (with an ignore mask: targets < 0) and the AdamW update.
#include <algorithm>
#include <cmath>

#include "tensor/cpu/kernels.h"

namespace nlm::tensor::cpu {

// loss_n = log Σ_v exp(z_v) − z_target, computed with the max subtracted for stability.
template <class T>
void cross_entropy_forward(T* losses, const T* logits, const int32_t* targets, int N, int V) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n) {
    if (targets[n] < 0) {
      losses[n] = 0;
      continue;
    }
    const T* z = logits + static_cast<int64_t>(n) * V;
    T mx = z[0];
    for (int i = 1; i < V; ++i) mx = std::max(mx, z[i]);
    T s = 0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < V; ++i) s += std::exp(z[i] - mx);
    losses[n] = std::log(s) + mx - z[targets[n]];
  }
}

// ∂loss_n/∂z_v = softmax(z)_v − [v = target]; scaled by `scale` (e.g. 1/valid tokens).
// Safe in place (dlogits == logits): max and sum are read before any write to the row.
template <class T>
void cross_entropy_backward(T* dlogits, const T* logits, const int32_t* targets, int N, int V,
                            T scale) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n) {
    const T* z = logits + static_cast<int64_t>(n) * V;
    T* d = dlogits + static_cast<int64_t>(n) * V;
    if (targets[n] < 0) {
      std::fill(d, d + V, T(0));
      continue;
    }
    T mx = z[0];
    for (int i = 1; i < V; ++i) mx = std::max(mx, z[i]);
    T s = 0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < V; ++i) s += std::exp(z[i] - mx);
    T inv = scale / s;
#pragma omp simd
    for (int i = 0; i < V; ++i) d[i] = std::exp(z[i] - mx) * inv;
    d[targets[n]] -= scale;
  }
}

template <class T>
void adamw_update(T* param, const T* grad, T* m, T* v, int64_t n, double lr, double beta1,
                  double beta2, double eps, double weight_decay, int64_t t) {
  const T b1 = T(beta1), b2 = T(beta2);
  const T c1 = T(1.0 / (1.0 - std::pow(beta1, double(t))));
  const T c2 = T(1.0 / (1.0 - std::pow(beta2, double(t))));
  const T lr_ = T(lr), eps_ = T(eps), wd = T(weight_decay);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    T g = grad[i];
    T mi = b1 * m[i] + (T(1) - b1) * g;
    T vi = b2 * v[i] + (T(1) - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= lr_ * ((mi * c1) / (std::sqrt(vi * c2) + eps_) + wd * param[i]);
  }
}

template void cross_entropy_forward<float>(float*, const float*, const int32_t*, int, int);
template void cross_entropy_forward<double>(double*, const double*, const int32_t*, int, int);
template void cross_entropy_backward<float>(float*, const float*, const int32_t*, int, int, float);
template void cross_entropy_backward<double>(double*, const double*, const int32_t*, int, int,
                                             double);
template void adamw_update<float>(float*, const float*, float*, float*, int64_t, double, double,
                                  double, double, double, int64_t);
template void adamw_update<double>(double*, const double*, double*, double*, int64_t, double,
                                   double, double, double, double, int64_t);

}  // namespace nlm::tensor::cpu
