// The fused classifier (llm.c's idea): softmax cross-entropy over the vocabulary without a
// probability tensor. One block per row walks the logits once with an online softmax (running
// max and rescaled sum per thread), merges the threads' (max, sum) pairs in a fixed tree, and
// then either writes the loss or, in backward, a second sweep writes scale·(softmax − onehot)
// straight into dlogits. The second sweep reads each logit before overwriting it and only after
// the whole row's reduction, so dlogits may be the logits themselves.
#include <cfloat>

#include "tensor/cuda/kernel_util.cuh"

namespace nlm::tensor::cuda {

namespace {
constexpr int kThreads = 512;

struct MaxSum {
  float max;
  float sum;  // Σ exp(z − max)
};

__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
  if (a.max == -FLT_MAX) return b;
  if (b.max == -FLT_MAX) return a;
  const float m = fmaxf(a.max, b.max);
  return {m, a.sum * expf(a.max - m) + b.sum * expf(b.max - m)};
}

// (max, Σ exp(z − max)) of one row, known to every thread of the block.
template <class T>
__device__ MaxSum row_max_sum(const T* z, int V) {
  __shared__ float smax[32], ssum[32];
  MaxSum t{-FLT_MAX, 0.0f};
  for (int v = threadIdx.x; v < V; v += blockDim.x) {
    const float x = to_f32(z[v]);
    if (x > t.max) {
      t.sum = t.sum * expf(t.max - x) + 1.0f;
      t.max = x;
    } else {
      t.sum += expf(x - t.max);
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    MaxSum other{__shfl_xor_sync(0xffffffffu, t.max, o), __shfl_xor_sync(0xffffffffu, t.sum, o)};
    t = merge(t, other);
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  if (lane == 0) {
    smax[warp] = t.max;
    ssum[warp] = t.sum;
  }
  __syncthreads();
  MaxSum r{-FLT_MAX, 0.0f};
  if (lane < warps) r = {smax[lane], ssum[lane]};
  for (int o = 16; o > 0; o >>= 1) {
    MaxSum other{__shfl_xor_sync(0xffffffffu, r.max, o), __shfl_xor_sync(0xffffffffu, r.sum, o)};
    r = merge(r, other);
  }
  return r;
}

template <class T>
__global__ void cross_entropy_forward_kernel(float* losses, const T* logits, const int32_t* targets,
                                             int V, DeviceError* err) {
  const int n = blockIdx.x;
  const int target = targets[n];
  if (target < 0 || target >= V) {  // block-uniform: no thread reaches the reduction
    if (threadIdx.x == 0) {
      if (target >= V) report(err, kBadTarget, target, V, n);
      losses[n] = 0.0f;
    }
    return;
  }
  const T* z = logits + static_cast<int64_t>(n) * V;
  const MaxSum ms = row_max_sum(z, V);
  if (threadIdx.x == 0) losses[n] = logf(ms.sum) + ms.max - to_f32(z[target]);
}

template <class T>
__global__ void cross_entropy_backward_kernel(T* dlogits, const T* logits, const int32_t* targets,
                                              int V, float scale, DeviceError* err) {
  const int n = blockIdx.x;
  const int target = targets[n];
  T* d = dlogits + static_cast<int64_t>(n) * V;
  if (target < 0 || target >= V) {
    if (target >= V && threadIdx.x == 0) report(err, kBadTarget, target, V, n);
    for (int v = threadIdx.x; v < V; v += blockDim.x) d[v] = from_f32<T>(0.0f);
    return;
  }
  const T* z = logits + static_cast<int64_t>(n) * V;
  const MaxSum ms = row_max_sum(z, V);
  const float inv = scale / ms.sum;
  for (int v = threadIdx.x; v < V; v += blockDim.x) {
    const float p = expf(to_f32(z[v]) - ms.max) * inv;
    d[v] = from_f32<T>(v == target ? p - scale : p);
  }
}
}  // namespace

template <class T>
void cross_entropy_forward(float* losses, const T* logits, const int32_t* targets, int N, int V,
                           DeviceError* err, cudaStream_t stream) {
  if (N <= 0) return;
  cross_entropy_forward_kernel<<<N, kThreads, 0, stream>>>(losses, logits, targets, V, err);
  check_launch("cross_entropy_forward");
}

template <class T>
void cross_entropy_backward(T* dlogits, const T* logits, const int32_t* targets, int N, int V,
                            float scale, DeviceError* err, cudaStream_t stream) {
  if (N <= 0) return;
  cross_entropy_backward_kernel<<<N, kThreads, 0, stream>>>(dlogits, logits, targets, V, scale,
                                                            err);
  check_launch("cross_entropy_backward");
}

#define NLM_INSTANTIATE(T)                                                                         \
  template void cross_entropy_forward<T>(float*, const T*, const int32_t*, int, int, DeviceError*, \
                                         cudaStream_t);                                            \
  template void cross_entropy_backward<T>(T*, const T*, const int32_t*, int, int, float,           \
                                          DeviceError*, cudaStream_t);
NLM_INSTANTIATE(float)
NLM_INSTANTIATE(bf16)
#undef NLM_INSTANTIATE

}  // namespace nlm::tensor::cuda
