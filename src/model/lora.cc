// LoRA adapters' forward and backward on the Backend (see lora.h).
#include "model/lora.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/rng.h"
#include "model/llama.h"

namespace nlm::model {

using tensor::DType;
using tensor::Tensor;

const std::vector<std::string>& lora_target_names() {
  static const std::vector<std::string> names = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                 "gate_proj", "up_proj", "down_proj"};
  return names;
}

void validate(const LoraConfig& c, const std::string& where) {
  if (!c.enabled()) return;
  if (c.rank > 65536) usage_error("lora.rank " + std::to_string(c.rank) + " is out of range (1..65536)", where);
  if (!(c.alpha > 0) || !std::isfinite(c.alpha)) usage_error("lora.alpha must be a positive number", where);
  if (!(c.dropout >= 0 && c.dropout < 1)) usage_error("lora.dropout must be in [0, 1)", where);
  if (c.targets.empty())
    usage_error("lora.targets is empty", where, "name projections, e.g. q_proj,v_proj, or all-linear");
  std::set<std::string> seen;
  for (const auto& t : c.targets) {
    bool known = false;
    for (const auto& n : lora_target_names()) known |= n == t;
    if (!known)
      usage_error("lora.targets names " + echoed(t) + ", which is not a projection of a Llama layer", where,
                  "known: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (or all-linear)");
    if (!seen.insert(t).second) usage_error("lora.targets names " + t + " twice", where);
  }
}

std::vector<double> lora_init_a(int64_t rank, int64_t in, uint64_t seed) {
  std::vector<double> a(static_cast<size_t>(rank * in));
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  uint64_t state = seed;
  for (double& x : a) x = (2 * uniform01(state) - 1) * bound;
  return a;
}

namespace {

// (Re)allocates t as [rows, cols] when its shape differs.
void ensure(tensor::Backend& be, Tensor& t, int64_t rows, int64_t cols, DType dt) {
  if (t.defined() && t.dtype() == dt && t.rank() == 2 && t.dim(0) == rows && t.dim(1) == cols) return;
  t = be.empty({rows, cols}, dt);
}

}  // namespace

void lora_forward(tensor::Backend& be, LoraLinear& L, Tensor& out, const Tensor& x, uint64_t mask_seed) {
  const DType dt = x.dtype();
  const int64_t in = L.A->value.dim(1), r = L.A->value.dim(0), outdim = L.B->value.dim(0);
  const int64_t N = x.numel() / in;
  ensure(be, L.xa, N, r, dt);
  ensure(be, L.tmp, N, outdim, dt);
  const Tensor* input = &x;
  L.dropped = mask_seed != 0 && L.dropout > 0;
  if (L.dropped) {
    ensure(be, L.xd, N, in, dt);
    ensure(be, L.mask, N, in, dt);
    std::vector<float> mask(static_cast<size_t>(N * in));
    uint64_t state = mask_seed;
    const float keep = static_cast<float>(1.0 / (1.0 - L.dropout));
    for (float& m : mask) m = uniform01(state) < L.dropout ? 0.0f : keep;
    be.upload(L.mask, mask.data(), DType::F32);
    be.copy_range(L.xd, 0, x, 0, x.numel());
    be.mul(L.xd, L.mask);
    input = &L.xd;
  }
  Tensor x2 = input->reshaped({N, in});
  be.matmul_forward(L.xa, x2, L.A->value, nullptr);
  be.matmul_forward(L.tmp, L.xa, L.B->value, nullptr);
  be.scale(L.tmp, L.scale);
  Tensor out2 = out.reshaped({N, outdim});
  be.add(out2, L.tmp);
}

void lora_backward(tensor::Backend& be, LoraLinear& L, Tensor& dx, const Tensor& dout, const Tensor& x) {
  const int64_t in = L.A->value.dim(1), r = L.A->value.dim(0);
  const int64_t N = x.numel() / in;
  ensure(be, L.dxa, N, r, x.dtype());
  // tmp = scale·dout; dB += tmpᵀ·xa; dxa = tmp·B.
  be.copy_range(L.tmp, 0, dout, 0, dout.numel());
  be.scale(L.tmp, L.scale);
  be.matmul_backward(&L.dxa, &L.B->grad, nullptr, L.tmp, L.xa, L.B->value, false);
  Tensor dx2 = dx.reshaped({N, in});
  if (!L.dropped) {
    // dA += dxaᵀ·x; dx += dxa·A.
    Tensor x2 = x.reshaped({N, in});
    be.matmul_backward(&dx2, &L.A->grad, nullptr, L.dxa, x2, L.A->value, true);
    return;
  }
  ensure(be, L.dxd, N, in, x.dtype());
  be.matmul_backward(&L.dxd, &L.A->grad, nullptr, L.dxa, L.xd, L.A->value, false);
  be.mul(L.dxd, L.mask);
  be.add(dx2, L.dxd);
}

}  // namespace nlm::model
