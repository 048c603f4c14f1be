// Throughput of the CUDA flash-attention kernels (tensor/cuda/flash_attention.h) in bf16 at
// GPT-2 / Llama training shapes: forward, backward, and the two together, in TFLOP/s. FLOPs
// counted as usual for causal attention: forward 4·B·NH·T²·hs / 2, backward 2.5× that. In a
// build without CUDA, or without a GPU, it says it was skipped and exits 0.
#include <cstdio>

#ifdef NATIVELM_HAS_CUDA
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "harness.h"
#include "tensor/cuda/flash_attention.h"
#include "tensor/dtype.h"

namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    std::fprintf(stderr, "bench_attention_cuda: %s: %s\n", what, cudaGetErrorString(err));
    std::exit(1);
  }
}

// n bf16 values, roughly uniform in [−1, 1), on the device.
__nv_bfloat16* random_bf16(size_t n, uint32_t seed) {
  std::vector<uint16_t> h(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& e : h) {
    x = x * 1664525u + 1013904223u;
    e = nlm::tensor::f32_to_bf16(static_cast<float>(x >> 8) / 8388608.f - 1.f);
  }
  void* d = nullptr;
  check(cudaMalloc(&d, n * 2), "cudaMalloc");
  check(cudaMemcpy(d, h.data(), n * 2, cudaMemcpyHostToDevice), "cudaMemcpy");
  return static_cast<__nv_bfloat16*>(d);
}

void bench_shape(int B, int T, int NH, int hs) {
  using nlm::tensor::cuda::flash_attention_backward;
  using nlm::tensor::cuda::flash_attention_backward_workspace;
  using nlm::tensor::cuda::flash_attention_forward;
  const int NKV = NH;
  const size_t n = static_cast<size_t>(B) * T * NH * hs;
  __nv_bfloat16 *q = random_bf16(n, 1), *k = random_bf16(n, 2), *v = random_bf16(n, 3),
                *dout = random_bf16(n, 4), *out = nullptr, *dq = nullptr, *dk = nullptr,
                *dv = nullptr;
  float* lse = nullptr;
  void* ws = nullptr;
  for (auto** p : {&out, &dq, &dk, &dv}) check(cudaMalloc(reinterpret_cast<void**>(p), n * 2), "cudaMalloc");
  check(cudaMalloc(reinterpret_cast<void**>(&lse), static_cast<size_t>(B) * NH * T * 4), "cudaMalloc");
  check(cudaMalloc(&ws, flash_attention_backward_workspace(B, T, NH, NKV, hs)), "cudaMalloc");

  auto forward = [&] {
    flash_attention_forward(out, lse, q, k, v, nullptr, B, T, NH, NKV, hs, nullptr);
    check(cudaDeviceSynchronize(), "forward");
  };
  auto backward = [&] {
    flash_attention_backward(dq, dk, dv, dout, out, lse, q, k, v, nullptr, B, T, NH, NKV, hs, ws,
                             nullptr);
    check(cudaDeviceSynchronize(), "backward");
  };
  const double fwd_flops = 4.0 * B * NH * static_cast<double>(T) * T * hs / 2;
  const std::string name = "attention_cuda_bf16_B" + std::to_string(B) + "_T" + std::to_string(T) +
                           "_NH" + std::to_string(NH) + "_hs" + std::to_string(hs);
  using nlm::bench::report_rate;
  using nlm::bench::time_runs;
  report_rate(name + "_fwd", fwd_flops / 1e12, time_runs(forward, 5, 2), "TFLOP/s");
  report_rate(name + "_bwd", 2.5 * fwd_flops / 1e12, time_runs(backward, 5, 2), "TFLOP/s");
  report_rate(name + "_fwdbwd", 3.5 * fwd_flops / 1e12,
              time_runs([&] { forward(); backward(); }, 5, 1), "TFLOP/s");
  for (void* p : {static_cast<void*>(q), static_cast<void*>(k), static_cast<void*>(v),
                  static_cast<void*>(dout), static_cast<void*>(out), static_cast<void*>(dq),
                  static_cast<void*>(dk), static_cast<void*>(dv), static_cast<void*>(lse), ws})
    cudaFree(p);
}

}  // namespace

int main() {
  int devices = 0;
  cudaError_t err = cudaGetDeviceCount(&devices);
  if (err != cudaSuccess || devices == 0) {
    std::printf("bench_attention_cuda: no CUDA device: skipped (%s)\n",
                err != cudaSuccess ? cudaGetErrorString(err) : "none found");
    return 0;
  }
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf("bench_attention_cuda on %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  for (int T : {1024, 2048})
    for (int NH : {12, 16})
      for (int hs : {64, 128}) bench_shape(8, T, NH, hs);
  return 0;
}
#else
int main() {
  std::printf("bench_attention_cuda: a build without CUDA: skipped\n");
  return 0;
}
#endif
