// The CUDA backend's kernels on their own: bf16 matmul throughput (forward, and backward's dinp
// and fp32 dweight products) at the shapes of a GPT-2-124M-shaped and a 1B Llama, as TFLOP/s and
// as a share of the backend's bf16 peak (peak_flops()), and the memory-bound kernels (fused
// classifier, RMSNorm) as GB/s moved. No peer tool runs on the GPU here, so no ratio is printed.
// Without a CUDA device it says so and exits 0.
//   bench_cuda_ops [runs=10]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "tensor/backend.h"

namespace {

using namespace nlm;
using tensor::DType;
using tensor::Tensor;

Tensor random_tensor(tensor::Backend& be, tensor::Shape shape, DType dt, float scale,
                     uint32_t seed) {
  Tensor t = be.empty(shape, dt);
  std::vector<float> host(static_cast<size_t>(t.numel()));
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  for (float& x : host) x = d(rng);
  be.upload(t, host.data(), DType::F32);
  return t;
}

// Times fn (queued work) with a synchronisation at the end of each run.
bench::Sample time_gpu(tensor::Backend& be, const std::function<void()>& fn, int runs) {
  return bench::time_runs(
      [&] {
        fn();
        be.synchronize();
      },
      runs, 2);
}

void matmul(tensor::Backend& be, const std::string& name, int N, int C, int OC, int runs) {
  Tensor x = random_tensor(be, {N, C}, DType::BF16, 1.0f, 1),
         w = random_tensor(be, {OC, C}, DType::BF16, 0.02f, 2);
  Tensor out = be.empty({N, OC}, DType::BF16),
         dout = random_tensor(be, {N, OC}, DType::BF16, 1.0f, 3);
  Tensor dx = be.empty({N, C}, DType::BF16), dw = be.zeros({OC, C}, DType::F32);
  const double flops = 2.0 * N * C * OC;
  const double peak = be.peak_flops();
  auto fwd = time_gpu(
      be, [&] { be.matmul_forward(out, x, w, nullptr); }, runs);
  auto bwd = time_gpu(
      be, [&] { be.matmul_backward(&dx, &dw, nullptr, dout, x, w, false); }, runs);
  bench::report_rate("cuda matmul fwd " + name, flops / 1e12, fwd, "TFLOP/s");
  bench::report_rate("cuda matmul bwd " + name, 2 * flops / 1e12, bwd, "TFLOP/s");
  bench::report_value("cuda matmul fwd " + name + " of peak", 100.0 * flops / fwd.median / peak,
                      "%");
  bench::report_value("cuda matmul bwd " + name + " of peak", 100.0 * 2 * flops / bwd.median / peak,
                      "%");
}

void classifier(tensor::Backend& be, int N, int V, int runs) {
  Tensor logits = random_tensor(be, {N, V}, DType::BF16, 2.0f, 4),
         losses = be.empty({N}, DType::F32);
  std::vector<int32_t> tg(static_cast<size_t>(N));
  for (int n = 0; n < N; ++n) tg[n] = (n * 7919) % V;
  Tensor targets = be.empty({N}, DType::I32);
  be.upload(targets, tg.data(), DType::I32);
  const double bytes =
      2.0 * N * V;  // bf16 logits read once (forward) / read and written (backward)
  auto fwd = time_gpu(
      be, [&] { be.cross_entropy_forward(losses, logits, targets); }, runs);
  auto bwd = time_gpu(
      be, [&] { be.cross_entropy_backward(logits, logits, targets, 1.0 / N); }, runs);
  bench::report_rate("cuda cross_entropy fwd N=" + std::to_string(N) + " V=" + std::to_string(V),
                     bytes / 1e9, fwd, "GB/s");
  bench::report_rate("cuda cross_entropy bwd N=" + std::to_string(N) + " V=" + std::to_string(V),
                     3 * bytes / 1e9, bwd, "GB/s");
}

void rmsnorm(tensor::Backend& be, int N, int C, int runs) {
  Tensor x = random_tensor(be, {N, C}, DType::BF16, 1.0f, 5),
         w = random_tensor(be, {C}, DType::BF16, 1.0f, 6);
  Tensor out = be.empty({N, C}, DType::BF16), rstd = be.empty({N}, DType::F32);
  auto fwd = time_gpu(
      be, [&] { be.rmsnorm_forward(out, rstd, x, w, 1e-5); }, runs);
  bench::report_rate("cuda rmsnorm fwd N=" + std::to_string(N) + " C=" + std::to_string(C),
                     2.0 * 2 * N * C / 1e9, fwd, "GB/s");
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  auto devices = tensor::registered_devices();
  if (std::find(devices.begin(), devices.end(), "cuda:0") == devices.end()) {
    std::printf("bench_cuda_ops: no CUDA device: skipped\n");
    return 0;
  }
  tensor::Backend& be = tensor::backend_for("cuda:0");
  bench::report_value("cuda bf16 peak (spec)", be.peak_flops() / 1e12, "TFLOP/s");
  const int N = 8192;  // tokens per micro-batch, e.g. 8 × 1024
  matmul(be, "124M qkv N=8192 C=768 OC=2304", N, 768, 2304, runs);
  matmul(be, "124M mlp N=8192 C=768 OC=3072", N, 768, 3072, runs);
  matmul(be, "1B mlp N=8192 C=2048 OC=8192", N, 2048, 8192, runs);
  matmul(be, "1B lm_head N=8192 C=2048 OC=32000", N, 2048, 32000, runs);
  classifier(be, N, 32000, runs);
  rmsnorm(be, N, 2048, runs);
  return 0;
}
