// RMSNorm forward and backward on the GPU: one block per row for the forward; the backward
// walks a fixed set of rows per block, adds dinp in place and keeps the block's dweight partial
// sums in shared memory, then a second kernel adds the partials in block order (no atomics).
#include "tensor/cuda/kernel_util.cuh"

namespace nlm::tensor::cuda {

namespace {
constexpr int kThreads = 256;
constexpr int kMaxBackwardBlocks = 256;  // fixed by N alone, so the sum order is too

// y = x·r·w, r = (Σx²/C + eps)^(-1/2)
template <class T>
__global__ void rmsnorm_forward_kernel(T* out, float* rstd, const T* inp, const T* weight, int C,
                                       float eps) {
  __shared__ float shared[32];
  const int64_t row = blockIdx.x;
  const T* x = inp + row * C;
  T* y = out + row * C;
  float ss = 0;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    float v = to_f32(x[c]);
    ss += v * v;
  }
  ss = block_sum(ss, shared);
  const float r = rsqrtf(ss / C + eps);
  if (threadIdx.x == 0) rstd[row] = r;
  for (int c = threadIdx.x; c < C; c += blockDim.x)
    y[c] = from_f32<T>(to_f32(x[c]) * r * to_f32(weight[c]));
}

// With x̂ = x·r and y = x̂·w: ∂L/∂x_j = r·(dy_j·w_j − x̂_j · mean_i(dy_i·w_i·x̂_i)),
// ∂L/∂w_c = Σ_n dy_nc·x̂_nc. Block b takes rows b, b + gridDim.x, ...
template <class T>
__global__ void rmsnorm_backward_kernel(T* dinp, float* partial, const T* dout, const T* inp,
                                        const T* weight, const float* rstd, int N, int C) {
  extern __shared__ float dw[];  // [C]
  __shared__ float shared[32];
  for (int c = threadIdx.x; c < C; c += blockDim.x) dw[c] = 0;
  for (int row = blockIdx.x; row < N; row += gridDim.x) {
    const int64_t off = static_cast<int64_t>(row) * C;
    const float r = rstd[row];
    float dot = 0;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
      dot += to_f32(dout[off + c]) * to_f32(weight[c]) * to_f32(inp[off + c]) * r;
    const float mean = block_sum(dot, shared) / C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
      const float x = to_f32(inp[off + c]), dy = to_f32(dout[off + c]);
      dinp[off + c] =
          from_f32<T>(to_f32(dinp[off + c]) + r * (dy * to_f32(weight[c]) - x * r * mean));
      dw[c] += dy * x * r;  // thread-owned channel: no race
    }
  }
  for (int c = threadIdx.x; c < C; c += blockDim.x)
    partial[static_cast<int64_t>(blockIdx.x) * C + c] = dw[c];
}

__global__ void dweight_final_kernel(float* dweight, const float* partial, int blocks, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float s = 0;
  for (int b = 0; b < blocks; ++b) s += partial[static_cast<int64_t>(b) * C + c];
  dweight[c] += s;
}

int backward_blocks(int N) { return N < kMaxBackwardBlocks ? N : kMaxBackwardBlocks; }
}  // namespace

template <class T>
void rmsnorm_forward(T* out, float* rstd, const T* inp, const T* weight, int N, int C, float eps,
                     cudaStream_t stream) {
  if (N <= 0 || C <= 0) return;
  rmsnorm_forward_kernel<<<N, kThreads, 0, stream>>>(out, rstd, inp, weight, C, eps);
  check_launch("rmsnorm_forward");
}

size_t rmsnorm_backward_scratch_floats(int N, int C) {
  return static_cast<size_t>(backward_blocks(N)) * C;
}

template <class T>
void rmsnorm_backward(T* dinp, float* dweight, float* scratch, const T* dout, const T* inp,
                      const T* weight, const float* rstd, int N, int C, cudaStream_t stream) {
  if (N <= 0 || C <= 0) return;
  const int blocks = backward_blocks(N);
  const size_t smem = sizeof(float) * C;
  if (smem > 48 * 1024)
    NLM_CUDA(cudaFuncSetAttribute(rmsnorm_backward_kernel<T>,
                                  cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(smem)));
  rmsnorm_backward_kernel<<<blocks, kThreads, smem, stream>>>(dinp, scratch, dout, inp, weight,
                                                              rstd, N, C);
  check_launch("rmsnorm_backward");
  dweight_final_kernel<<<(C + 255) / 256, 256, 0, stream>>>(dweight, scratch, blocks, C);
  check_launch("rmsnorm_backward dweight");
}

#define NLM_INSTANTIATE(T)                                                                         \
  template void rmsnorm_forward<T>(T*, float*, const T*, const T*, int, int, float, cudaStream_t); \
  template void rmsnorm_backward<T>(T*, float*, float*, const T*, const T*, const T*,              \
                                    const float*, int, int, cudaStream_t);
NLM_INSTANTIATE(float)
NLM_INSTANTIATE(bf16)
#undef NLM_INSTANTIATE

}  // namespace nlm::tensor::cuda
