// RoPE on the GPU, in place, HF rotate_half layout: one thread per (token, head, pair i < D/2)
// rotates (x_i, x_{i+D/2}) by sign·pos·freq_i with the fp32 cos/sin tables. A position beyond
// the table is reported through the device error word and leaves its row untouched.
#include "tensor/cuda/kernel_util.cuh"

namespace nlm::tensor::cuda {

namespace {
constexpr int kThreads = 256;

template <class T>
__global__ void rope_kernel(T* x, const int32_t* pos, const float* cos, const float* sin, int N,
                            int H, int D, int P, float sign, DeviceError* err) {
  const int half = D / 2;
  const int64_t total = static_cast<int64_t>(N) * H * half;
  for (int64_t idx = global_index(); idx < total; idx += grid_stride()) {
    const int i = static_cast<int>(idx % half);
    const int64_t nh = idx / half;
    const int n = static_cast<int>(nh / H);
    const int p = pos[n];
    if (p < 0 || p >= P) {
      report(err, kBadPosition, p, P, n);
      continue;
    }
    T* row = x + nh * D;
    const float c = cos[static_cast<int64_t>(p) * half + i];
    const float s = sign * sin[static_cast<int64_t>(p) * half + i];
    const float a = to_f32(row[i]), b = to_f32(row[i + half]);
    row[i] = from_f32<T>(a * c - b * s);
    row[i + half] = from_f32<T>(b * c + a * s);
  }
}
}  // namespace

template <class T>
void rope_rotate(T* x, const int32_t* pos, const float* cos, const float* sin, int N, int H, int D,
                 int P, int sign, DeviceError* err, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(N) * H * (D / 2);
  if (total <= 0) return;
  rope_kernel<<<grid_for(total, kThreads), kThreads, 0, stream>>>(x, pos, cos, sin, N, H, D, P,
                                                                  static_cast<float>(sign), err);
  check_launch("rope");
}

template void rope_rotate<float>(float*, const int32_t*, const float*, const float*, int, int, int,
                                 int, int, DeviceError*, cudaStream_t);
template void rope_rotate<bf16>(bf16*, const int32_t*, const float*, const float*, int, int, int,
                                int, int, DeviceError*, cudaStream_t);

}  // namespace nlm::tensor::cuda
