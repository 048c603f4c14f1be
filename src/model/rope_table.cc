// RoPE frequency tables (see rope_table.h).
#include "model/rope_table.h"

#include <cmath>

namespace nlm::model {

std::vector<double> rope_inv_freq(const ModelConfig& c) {
  const int64_t hs = c.hs();
  std::vector<double> inv(hs / 2);
  for (int64_t i = 0; i < hs / 2; ++i)
    inv[i] = 1.0 / std::pow(c.rope_theta, static_cast<double>(2 * i) / static_cast<double>(hs));
  if (c.rope_scaling.type == "llama3") {
    // Llama 3.1: keep high frequencies, divide low ones by `factor`, blend in between.
    const auto& s = c.rope_scaling;
    const double old_ctx = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelen = old_ctx / s.low_freq_factor;
    const double high_wavelen = old_ctx / s.high_freq_factor;
    for (double& f : inv) {
      double wavelen = 2 * M_PI / f;
      if (wavelen < high_wavelen) continue;
      if (wavelen > low_wavelen) {
        f /= s.factor;
      } else {
        double smooth = (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        f = (1 - smooth) * f / s.factor + smooth * f;
      }
    }
  }
  return inv;
}

void rope_tables(const ModelConfig& c, int positions, std::vector<float>& cos,
                 std::vector<float>& sin) {
  std::vector<double> inv = rope_inv_freq(c);
  const size_t half = inv.size();
  cos.resize(static_cast<size_t>(positions) * half);
  sin.resize(cos.size());
  for (int p = 0; p < positions; ++p)
    for (size_t i = 0; i < half; ++i) {
      // HF computes the angle as an fp32 product; do the same so tables match bit for bit.
      float ang = static_cast<float>(p) * static_cast<float>(inv[i]);
      cos[p * half + i] = std::cos(ang);
      sin[p * half + i] = std::sin(ang);
    }
}

}  // namespace nlm::model
