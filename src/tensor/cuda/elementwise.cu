// Elementwise kernels of the CUDA backend: add, scale, mul, dtype conversion, the matmul bias
// fallback, SwiGLU forward/backward and the AdamW update. Memory-bound grid-stride loops; each
// element is loaded, computed in fp32 and rounded once.
#include "tensor/cuda/kernel_util.cuh"

namespace nlm::tensor::cuda {

namespace {
constexpr int kThreads = 256;

template <class T>
__global__ void add_kernel(T* a, const T* b, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride())
    a[i] = from_f32<T>(to_f32(a[i]) + to_f32(b[i]));
}
template <class T>
__global__ void scale_kernel(T* x, int64_t n, float s) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) x[i] = from_f32<T>(to_f32(x[i]) * s);
}
template <class T>
__global__ void mul_kernel(T* a, const T* b, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride())
    a[i] = from_f32<T>(to_f32(a[i]) * to_f32(b[i]));
}
template <class S, class D>
__global__ void convert_kernel(D* dst, const S* src, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) dst[i] = from_f32<D>(to_f32(src[i]));
}
template <class T>
__global__ void add_bias_kernel(T* out, const T* bias, int64_t n, int OC) {
  for (int64_t i = global_index(); i < n; i += grid_stride())
    out[i] = from_f32<T>(to_f32(out[i]) + to_f32(bias[i % OC]));
}

// y = g·σ(g)·u
template <class T>
__global__ void swiglu_forward_kernel(T* out, const T* gate, const T* up, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    float g = to_f32(gate[i]);
    out[i] = from_f32<T>(g / (1.0f + expf(-g)) * to_f32(up[i]));
  }
}
// ∂y/∂u = g·σ(g); ∂y/∂g = u·(σ(g) + g·σ(g)·(1 − σ(g))).
template <class T>
__global__ void swiglu_backward_kernel(T* dgate, T* dup, const T* dout, const T* gate, const T* up,
                                       int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    float g = to_f32(gate[i]), u = to_f32(up[i]), d = to_f32(dout[i]);
    float s = 1.0f / (1.0f + expf(-g));
    dup[i] = from_f32<T>(d * g * s);
    dgate[i] = from_f32<T>(d * u * (s + g * s * (1.0f - s)));
  }
}

// m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= lr (m̂/(√v̂+ε) + wd·p).
template <class P>
__global__ void adamw_kernel(P* param, const float* grad, float* m, float* v, int64_t n, float lr,
                             float beta1, float beta2, float eps, float wd, float c1, float c2) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    float g = grad[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    float p = to_f32(param[i]);
    param[i] = from_f32<P>(p - lr * ((mi * c1) / (sqrtf(vi * c2) + eps) + wd * p));
  }
}
}  // namespace

template <class T>
void add(T* a, const T* b, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  add_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(a, b, n);
  check_launch("add");
}
template <class T>
void scale(T* x, int64_t n, float s, cudaStream_t stream) {
  if (n <= 0) return;
  scale_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(x, n, s);
  check_launch("scale");
}
template <class T>
void mul(T* a, const T* b, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  mul_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(a, b, n);
  check_launch("mul");
}
template <class S, class D>
void convert(D* dst, const S* src, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  convert_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(dst, src, n);
  check_launch("convert");
}
template <class T>
void add_bias(T* out, const T* bias, int64_t N, int OC, cudaStream_t stream) {
  const int64_t n = N * OC;
  if (n <= 0) return;
  add_bias_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(out, bias, n, OC);
  check_launch("add_bias");
}
template <class T>
void swiglu_forward(T* out, const T* gate, const T* up, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  swiglu_forward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(out, gate, up, n);
  check_launch("swiglu_forward");
}
template <class T>
void swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t n,
                     cudaStream_t stream) {
  if (n <= 0) return;
  swiglu_backward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(dgate, dup, dout, gate, up,
                                                                         n);
  check_launch("swiglu_backward");
}
template <class P>
void adamw_update(P* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, float c1, float c2,
                  cudaStream_t stream) {
  if (n <= 0) return;
  adamw_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(param, grad, m, v, n, lr, beta1,
                                                               beta2, eps, weight_decay, c1, c2);
  check_launch("adamw_update");
}

#define NLM_INSTANTIATE(T)                                                                       \
  template void add<T>(T*, const T*, int64_t, cudaStream_t);                                     \
  template void scale<T>(T*, int64_t, float, cudaStream_t);                                      \
  template void mul<T>(T*, const T*, int64_t, cudaStream_t);                                     \
  template void add_bias<T>(T*, const T*, int64_t, int, cudaStream_t);                           \
  template void swiglu_forward<T>(T*, const T*, const T*, int64_t, cudaStream_t);                \
  template void swiglu_backward<T>(T*, T*, const T*, const T*, const T*, int64_t, cudaStream_t); \
  template void adamw_update<T>(T*, const float*, float*, float*, int64_t, float, float, float,  \
                                float, float, float, float, cudaStream_t);
NLM_INSTANTIATE(float)
NLM_INSTANTIATE(bf16)
#undef NLM_INSTANTIATE
template void convert<float, bf16>(bf16*, const float*, int64_t, cudaStream_t);
template void convert<bf16, float>(float*, const bf16*, int64_t, cudaStream_t);

}  // namespace nlm::tensor::cuda
