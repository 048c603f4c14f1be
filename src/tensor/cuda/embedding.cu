// Token embedding on the GPU. Forward gathers table rows (an id outside the vocabulary is
// reported through the device error word and gives a zero row). Backward is deterministic: the
// host groups the token indices by id (the backend has the ids from the forward), and one thread
// per (id, channel) sums its tokens' gradients in token order, then adds once to dtable.
#include "tensor/cuda/kernel_util.cuh"

namespace nlm::tensor::cuda {

namespace {
constexpr int kThreads = 256;

template <class T>
__global__ void embedding_forward_kernel(T* out, const int32_t* ids, const T* table, int N, int C,
                                         int V, DeviceError* err) {
  const int64_t total = static_cast<int64_t>(N) * C;
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int n = static_cast<int>(i / C), c = static_cast<int>(i % C);
    const int id = ids[n];
    if (id < 0 || id >= V) {
      if (c == 0) report(err, kBadTokenId, id, V, n);
      out[i] = from_f32<T>(0.0f);
      continue;
    }
    out[i] = table[static_cast<int64_t>(id) * C + c];
  }
}

// grid.x: segments, grid.y: channel blocks.
template <class T>
__global__ void embedding_backward_kernel(float* dtable, const T* dout, const int32_t* order,
                                          const int32_t* start, const int32_t* seg_id, int C) {
  const int s = blockIdx.x;
  const int c = blockIdx.y * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float acc = 0;
  for (int j = start[s]; j < start[s + 1]; ++j)
    acc += to_f32(dout[static_cast<int64_t>(order[j]) * C + c]);
  dtable[static_cast<int64_t>(seg_id[s]) * C + c] += acc;
}
}  // namespace

template <class T>
void embedding_forward(T* out, const int32_t* ids, const T* table, int N, int C, int V,
                       DeviceError* err, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(N) * C;
  if (total <= 0) return;
  embedding_forward_kernel<<<grid_for(total, kThreads), kThreads, 0, stream>>>(out, ids, table, N,
                                                                               C, V, err);
  check_launch("embedding_forward");
}

template <class T>
void embedding_backward(float* dtable, const T* dout, const int32_t* order, const int32_t* start,
                        const int32_t* seg_id, int segments, int C, cudaStream_t stream) {
  if (segments <= 0 || C <= 0) return;
  dim3 grid(segments, (C + kThreads - 1) / kThreads);
  embedding_backward_kernel<<<grid, kThreads, 0, stream>>>(dtable, dout, order, start, seg_id, C);
  check_launch("embedding_backward");
}

#define NLM_INSTANTIATE(T)                                                                      \
  template void embedding_forward<T>(T*, const int32_t*, const T*, int, int, int, DeviceError*, \
                                     cudaStream_t);                                             \
  template void embedding_backward<T>(float*, const T*, const int32_t*, const int32_t*,         \
                                      const int32_t*, int, int, cudaStream_t);
NLM_INSTANTIATE(float)
NLM_INSTANTIATE(bf16)
#undef NLM_INSTANTIATE

}  // namespace nlm::tensor::cuda
