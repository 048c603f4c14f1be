// Helpers for the tensor tests: random vectors, host<->tensor moves on any backend, and a
// central-difference gradient checker for fp64 tensors.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "tensor/backend.h"

namespace nlm::testing {

using Vec = std::vector<double>;

inline Vec random_vec(size_t n, uint32_t seed, double scale = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0.0, scale);
  Vec v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline tensor::Tensor make(const Vec& v, tensor::Shape shape, tensor::DType dt,
                           tensor::Backend& be = tensor::backend_for("cpu")) {
  tensor::Tensor t = be.empty(shape, dt);
  EXPECT_EQ(static_cast<size_t>(t.numel()), v.size());
  be.upload(t, v.data(), tensor::DType::F64);
  return t;
}

inline tensor::Tensor make_ids(const std::vector<int32_t>& v,
                               tensor::Backend& be = tensor::backend_for("cpu")) {
  tensor::Tensor t = be.empty({static_cast<int64_t>(v.size())}, tensor::DType::I32);
  be.upload(t, v.data(), tensor::DType::I32);
  return t;
}

inline Vec get(const tensor::Tensor& t) {
  Vec v(static_cast<size_t>(t.numel()));
  t.backend().download(t, v.data(), tensor::DType::F64);
  return v;
}

inline double max_rel_diff(const Vec& a, const Vec& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i])));
  return worst;
}

// Checks `analytic` (∂L/∂x) against central differences of loss(x), perturbing every element of
// x. x is modified during the check and restored.
inline void expect_gradient(Vec& x, const Vec& analytic, const std::function<double()>& loss,
                            const std::function<void()>& sync_x, double tol = 1e-6,
                            double h = 1e-5) {
  ASSERT_EQ(x.size(), analytic.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double orig = x[i];
    x[i] = orig + h;
    sync_x();
    double lp = loss();
    x[i] = orig - h;
    sync_x();
    double lm = loss();
    x[i] = orig;
    sync_x();
    double numeric = (lp - lm) / (2 * h);
    EXPECT_NEAR(analytic[i], numeric, tol * std::max(1.0, std::abs(numeric))) << "element " << i;
  }
}

inline double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace nlm::testing
