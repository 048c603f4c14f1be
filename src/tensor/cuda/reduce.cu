// Deterministic reductions of the CUDA backend: sum and sum of squares (gradient norms, loss
// totals) in double, and the matmul bias gradient (column sums). A fixed grid and fixed-order
// trees instead of atomics, so the same input gives the same bits on every run and every GPU.
#include "tensor/cuda/kernel_util.cuh"

namespace nlm::tensor::cuda {

namespace {
constexpr int kBlocks = 512;   // fixed: the summation order must not depend on the device
constexpr int kThreads = 256;  // kBlocks is a multiple of kThreads (final_sum reads 2 per thread)

template <class T, bool Squares>
__global__ void partial_sum_kernel(double* partial, const T* x, int64_t n) {
  __shared__ double shared[32];
  double s = 0;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += static_cast<int64_t>(kBlocks) * kThreads) {
    double v = to_f32(x[i]);
    s += Squares ? v * v : v;
  }
  s = block_sum(s, shared);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

__global__ void final_sum_kernel(double* result, const double* partial) {
  __shared__ double shared[32];
  double s = 0;
  for (int i = threadIdx.x; i < kBlocks; i += kThreads) s += partial[i];
  s = block_sum(s, shared);
  if (threadIdx.x == 0) *result = s;
}

// Column sums of dout[N,OC]: block (x: 32 columns, y: kRowThreads rows) over rows of chunk
// blockIdx.y; partial[chunk][col]. Then bias_final_kernel adds the chunks in order.
constexpr int kRowThreads = 8;
constexpr int kChunks = 64;

template <class T>
__global__ void bias_partial_kernel(float* partial, const T* dout, int N, int OC) {
  __shared__ float acc[kRowThreads][33];
  const int col = blockIdx.x * 32 + threadIdx.x;
  const int rows_per_chunk = (N + kChunks - 1) / kChunks;
  const int r0 = blockIdx.y * rows_per_chunk;
  const int r1 = min(N, r0 + rows_per_chunk);
  float s = 0;
  if (col < OC)
    for (int r = r0 + threadIdx.y; r < r1; r += kRowThreads)
      s += to_f32(dout[static_cast<int64_t>(r) * OC + col]);
  acc[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && col < OC) {
    float t = 0;
    for (int y = 0; y < kRowThreads; ++y) t += acc[y][threadIdx.x];
    partial[static_cast<int64_t>(blockIdx.y) * OC + col] = t;
  }
}

__global__ void bias_final_kernel(float* dbias, const float* partial, int OC) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= OC) return;
  float s = 0;
  for (int c = 0; c < kChunks; ++c) s += partial[static_cast<int64_t>(c) * OC + col];
  dbias[col] += s;
}
}  // namespace

size_t reduce_scratch_doubles() { return kBlocks; }

template <class T>
void reduce_sum(double* result, double* scratch, const T* x, int64_t n, bool squares,
                cudaStream_t stream) {
  if (squares)
    partial_sum_kernel<T, true><<<kBlocks, kThreads, 0, stream>>>(scratch, x, n);
  else
    partial_sum_kernel<T, false><<<kBlocks, kThreads, 0, stream>>>(scratch, x, n);
  check_launch("sum partials");
  final_sum_kernel<<<1, kThreads, 0, stream>>>(result, scratch);
  check_launch("sum");
}

size_t bias_grad_scratch_floats(int OC) { return static_cast<size_t>(kChunks) * OC; }

template <class T>
void bias_grad(float* dbias, float* scratch, const T* dout, int N, int OC, cudaStream_t stream) {
  if (OC <= 0) return;
  dim3 grid((OC + 31) / 32, kChunks), block(32, kRowThreads);
  bias_partial_kernel<<<grid, block, 0, stream>>>(scratch, dout, N, OC);
  check_launch("bias_grad partials");
  bias_final_kernel<<<(OC + 255) / 256, 256, 0, stream>>>(dbias, scratch, OC);
  check_launch("bias_grad");
}

template void reduce_sum<float>(double*, double*, const float*, int64_t, bool, cudaStream_t);
template void reduce_sum<bf16>(double*, double*, const bf16*, int64_t, bool, cudaStream_t);
template void bias_grad<float>(float*, float*, const float*, int, int, cudaStream_t);
template void bias_grad<bf16>(float*, float*, const bf16*, int, int, cudaStream_t);

}  // namespace nlm::tensor::cuda
