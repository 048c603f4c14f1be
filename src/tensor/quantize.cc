// Symmetric int8 / int4 quantisers (see quantize.h).
#include "tensor/quantize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace nlm::tensor {

namespace {

// Quantises w[0, n) with absmax/levels into q; returns the scale.
float quantize_span(const float* w, int64_t n, int levels, int8_t* q, int64_t row) {
  float amax = 0;
  for (int64_t c = 0; c < n; ++c) {
    if (!std::isfinite(w[c]))
      runtime_error("cannot quantise: weight row " + std::to_string(row) + " holds a non-finite value", "quantize",
                    "the model is damaged; check it with nativelm eval ppl");
    amax = std::max(amax, std::fabs(w[c]));
  }
  const float inv = amax > 0 ? float(levels) / amax : 0.0f;
  for (int64_t c = 0; c < n; ++c)
    q[c] = static_cast<int8_t>(std::clamp(std::lrint(w[c] * inv), -long(levels), long(levels)));
  return amax / float(levels);
}

}  // namespace

void quantize_int8_rows(const float* w, int64_t rows, int64_t cols, int8_t* q, float* scale) {
  for (int64_t r = 0; r < rows; ++r) scale[r] = quantize_span(w + r * cols, cols, 127, q + r * cols, r);
}

void quantize_int4_groups(const float* w, int64_t rows, int64_t cols, int64_t group, int8_t* q, float* scale) {
  if (group <= 0 || cols % group)
    runtime_error("int4 groups of " + std::to_string(group) + " do not divide " + std::to_string(cols) + " columns",
                  "quantize");
  const int64_t groups = cols / group;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g)
      scale[r * groups + g] = quantize_span(w + r * cols + g * group, group, 7, q + r * cols + g * group, r);
}

void pack_int4(const int8_t* q, int64_t n, uint8_t* out) {
  for (int64_t k = 0; k < n / 2; ++k)
    out[k] = static_cast<uint8_t>(((q[2 * k] + 8) & 0xF) | (((q[2 * k + 1] + 8) & 0xF) << 4));
}

void unpack_int4(const uint8_t* in, int64_t n, int8_t* q) {
  for (int64_t k = 0; k < n / 2; ++k) {
    q[2 * k] = static_cast<int8_t>(int(in[k] & 0xF) - 8);
    q[2 * k + 1] = static_cast<int8_t>(int(in[k] >> 4) - 8);
  }
}

float fp8_scale(float amax) { return amax > 0 && std::isfinite(amax) ? amax / 448.0f : 1.0f; }

}  // namespace nlm::tensor
