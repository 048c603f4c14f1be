// Plain reference kernels (see reference.h).
#include "tensor/cpu/reference.h"

#include <cmath>

namespace nlm::tensor::reference {

Vec matmul(const Vec& inp, const Vec& w, const Vec& bias, int N, int C, int OC) {
  Vec out(static_cast<size_t>(N) * OC);
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < OC; ++o) {
      double s = bias.empty() ? 0.0 : bias[o];
      for (int c = 0; c < C; ++c) s += inp[n * C + c] * w[o * C + c];
      out[n * OC + o] = s;
    }
  return out;
}

Vec rmsnorm(const Vec& x, const Vec& w, int N, int C, double eps) {
  Vec y(x.size());
  for (int n = 0; n < N; ++n) {
    double ms = 0;
    for (int c = 0; c < C; ++c) ms += x[n * C + c] * x[n * C + c];
    ms /= C;
    for (int c = 0; c < C; ++c) y[n * C + c] = x[n * C + c] / std::sqrt(ms + eps) * w[c];
  }
  return y;
}

Vec rope(const Vec& x, const Ids& pos, int N, int H, int D, double theta) {
  Vec y(x.size());
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < D; ++i) {
        // rotate_half: y = x·cos + rotate_half(x)·sin, rotate_half(x) = (−x2, x1).
        int j = i % (D / 2);
        double ang = pos[n] * std::pow(theta, -2.0 * j / D);
        size_t base = (static_cast<size_t>(n) * H + h) * D;
        double rot = i < D / 2 ? -x[base + i + D / 2] : x[base + i - D / 2];
        y[base + i] = x[base + i] * std::cos(ang) + rot * std::sin(ang);
      }
  return y;
}

Vec attention(const Vec& q, const Vec& k, const Vec& v, const Ids& docs, int B, int T, int NH,
              int NKV, int hs) {
  Vec out(static_cast<size_t>(B) * T * NH * hs, 0.0);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH; ++h) {
      int kvh = h / (NH / NKV);
      for (int t = 0; t < T; ++t) {
        std::vector<double> w(T, 0.0);
        std::vector<bool> allowed(T, false);
        double mx = -1e300;
        for (int u = 0; u < T; ++u) {
          allowed[u] = u <= t && (docs.empty() || docs[b * T + u] == docs[b * T + t]);
          if (!allowed[u]) continue;
          double s = 0;
          for (int i = 0; i < hs; ++i)
            s += q[((b * T + t) * NH + h) * hs + i] * k[((b * T + u) * NKV + kvh) * hs + i];
          w[u] = s / std::sqrt(double(hs));
          if (w[u] > mx) mx = w[u];
        }
        double z = 0;
        for (int u = 0; u < T; ++u) z += allowed[u] ? std::exp(w[u] - mx) : 0.0;
        for (int u = 0; u < T; ++u) {
          if (!allowed[u]) continue;
          double p = std::exp(w[u] - mx) / z;
          for (int i = 0; i < hs; ++i)
            out[((b * T + t) * NH + h) * hs + i] += p * v[((b * T + u) * NKV + kvh) * hs + i];
        }
      }
    }
  return out;
}

Vec swiglu(const Vec& gate, const Vec& up) {
  Vec y(gate.size());
  for (size_t i = 0; i < y.size(); ++i) y[i] = gate[i] / (1 + std::exp(-gate[i])) * up[i];
  return y;
}

Vec cross_entropy(const Vec& logits, const Ids& targets, int N, int V) {
  Vec loss(N, 0.0);
  for (int n = 0; n < N; ++n) {
    if (targets[n] < 0) continue;
    double z = 0;
    for (int i = 0; i < V; ++i) z += std::exp(logits[n * V + i]);
    loss[n] = std::log(z) - logits[n * V + targets[n]];
  }
  return loss;
}

}  // namespace nlm::tensor::reference
