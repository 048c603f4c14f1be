// Flash-attention forward (training and prefill) and KV-cache decoding, one kernel for both: a
// block owns a 32-row query tile of one head and streams 32-row key/value tiles past it with an
// online softmax, so the T×T scores are never stored. Decoding runs the same kernel over the
// cache; when there are too few query tiles to fill the GPU it splits the keys among blocks
// (flash-decoding) and a second kernel merges the partial results by their logsumexp.
// Thread layout and tile format: flash_attention_common.cuh.
#include <algorithm>

#include "tensor/cuda/flash_attention.h"
#include "tensor/cuda/flash_attention_common.cuh"

namespace nlm::tensor::cuda {
namespace {

using namespace attn;

template <class T>
struct ForwardArgs {
  T* out;          // [B, Tq, NH, hs] (same strides as q); written when nsplit == 1
  float* lse;      // [B, NH, Tq] or null; written when nsplit == 1
  float* o_part;   // [B·nsplit, Tq, NH, hs] normalised partial outputs, when nsplit > 1
  float* lse_part;  // [B·nsplit, NH, Tq] their logsumexp, when nsplit > 1
  const T* q;      // [B, Tq, NH, hs]
  const T* k;      // [B, Tk, NKV, hs] (a cache: rows beyond Tk are never read)
  const T* v;
  const int32_t* docs;  // [B, Tk] document id per key position, or null
  int Tq, Tk;      // query rows, key rows
  int q_pos0;      // position of query row 0 (past); query row t sees keys ≤ q_pos0 + t
  int NH, NKV, hs, nsplit;
  int64_t q_bstride, k_bstride;  // elements between batch rows
  float scale;
};

// Grid: x = query tile (longest first), y = head, z = batch row · nsplit + split.
template <class T, int HS>
__global__ void __launch_bounds__(kThreads) forward_kernel(ForwardArgs<T> a) {
  constexpr int LD = kLd<HS>, NJ = HS / 32;
  extern __shared__ __align__(16) float smem[];
  float* Qs = smem;
  float* Ks = Qs + kTile * LD;
  float* Vs = Ks + kTile * LD;
  __shared__ int qdoc[kTile], kdoc[kTile];

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int qt = gridDim.x - 1 - blockIdx.x, h = blockIdx.y;
  const int b = blockIdx.z / a.nsplit, split = blockIdx.z % a.nsplit;
  const int kvh = h / (a.NH / a.NKV);
  const int64_t qrs = static_cast<int64_t>(a.NH) * a.hs, krs = static_cast<int64_t>(a.NKV) * a.hs;
  const T* qbase = a.q + b * a.q_bstride + static_cast<int64_t>(h) * a.hs;
  const T* kbase = a.k + b * a.k_bstride + static_cast<int64_t>(kvh) * a.hs;
  const T* vbase = a.v + b * a.k_bstride + static_cast<int64_t>(kvh) * a.hs;
  const int32_t* docs = a.docs ? a.docs + static_cast<int64_t>(b) * a.Tk : nullptr;
  const int q0 = qt * kTile;

  load_tile<HS>(Qs, qbase, qrs, q0, a.Tq, a.hs);
  load_docs(qdoc, docs, a.q_pos0 + q0, a.q_pos0 + a.Tq);

  // Key tiles this block visits: this split's share of all key tiles, cut at the causal end
  // (the position of the tile's last query row).
  const int q_last = min(q0 + kTile, a.Tq) - 1;
  const int k_end = min(a.q_pos0 + q_last + 1, a.Tk);
  const int per_split = ((a.Tk + kTile - 1) / kTile + a.nsplit - 1) / a.nsplit;
  const int kt_begin = split * per_split;
  const int kt_end = min(kt_begin + per_split, (k_end + kTile - 1) / kTile);

  float m[kRowsPerWarp], l[kRowsPerWarp], o[kRowsPerWarp][NJ];
#pragma unroll
  for (int i = 0; i < kRowsPerWarp; ++i) {
    m[i] = kNegInf;
    l[i] = 0.f;
#pragma unroll
    for (int j = 0; j < NJ; ++j) o[i][j] = 0.f;
  }

  for (int kt = kt_begin; kt < kt_end; ++kt) {
    const int k0 = kt * kTile;
    __syncthreads();  // the previous tile's readers are done (and Qs, qdoc are written)
    load_docs(kdoc, docs, k0, a.Tk);
    __syncthreads();
    bool ok[kRowsPerWarp];
    bool any = false;
#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i) {
      const int r = warp + kWarps * i, t = q0 + r, j = k0 + lane;
      ok[i] = t < a.Tq && j < a.Tk && j <= a.q_pos0 + t && (!docs || qdoc[r] == kdoc[lane]);
      any |= ok[i];
    }
    if (!__syncthreads_or(any)) continue;  // wholly masked: above the diagonal or other documents
    load_tile<HS>(Ks, kbase, krs, k0, a.Tk, a.hs);
    load_tile<HS>(Vs, vbase, krs, k0, a.Tk, a.hs);
    __syncthreads();

    float s[kRowsPerWarp], p[kRowsPerWarp];
    row_dots<HS>(s, Qs, Ks);
#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i) {
      const float si = ok[i] ? s[i] * a.scale : kNegInf;
      const float mn = fmaxf(m[i], warp_max(si));
      float corr = 1.f, pi = 0.f;
      if (mn != kNegInf) {  // some key of this row is allowed so far
        corr = expf(m[i] - mn);  // 0 when m[i] is still −∞
        pi = ok[i] ? expf(si - mn) : 0.f;
      }
      l[i] = l[i] * corr + warp_sum(pi);
      m[i] = mn;
      p[i] = pi;
#pragma unroll
      for (int j = 0; j < NJ; ++j) o[i][j] *= corr;
    }
    accumulate_rows<HS>(o, p, Vs);  // O += P V
  }

#pragma unroll
  for (int i = 0; i < kRowsPerWarp; ++i) {
    const int t = q0 + warp + kWarps * i;
    if (t >= a.Tq) continue;
    // l > 0 for every row of a full forward (a token sees itself); a split may see nothing.
    const float inv = l[i] > 0.f ? 1.f / l[i] : 0.f;
    const float lse = l[i] > 0.f ? m[i] + logf(l[i]) : kNegInf;
    if (a.nsplit == 1) {
      T* orow = a.out + b * a.q_bstride + t * qrs + static_cast<int64_t>(h) * a.hs;
#pragma unroll
      for (int j = 0; j < NJ; ++j) {
        const int d = lane + 32 * j;
        if (d < a.hs) orow[d] = from_f32<T>(o[i][j] * inv);
      }
      if (a.lse && lane == 0) a.lse[(static_cast<int64_t>(b) * a.NH + h) * a.Tq + t] = lse;
    } else {
      const int64_t z = blockIdx.z;
      float* prow = a.o_part + ((z * a.Tq + t) * a.NH + h) * a.hs;
#pragma unroll
      for (int j = 0; j < NJ; ++j) {
        const int d = lane + 32 * j;
        if (d < a.hs) prow[d] = o[i][j] * inv;
      }
      if (lane == 0) a.lse_part[(z * a.NH + h) * a.Tq + t] = lse;
    }
  }
}

// Merges the nsplit partial results of each (b, t, h) row, one warp per row:
// out = Σ_s e^(lse_s − lse) · o_s with lse = log Σ_s e^(lse_s).
template <class T>
__global__ void __launch_bounds__(kThreads) combine_kernel(T* out, const float* o_part,
                                                           const float* lse_part, int B, int Tq,
                                                           int NH, int hs, int nsplit) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= static_cast<int64_t>(B) * Tq * NH) return;
  const int h = static_cast<int>(row % NH), t = static_cast<int>(row / NH % Tq);
  const int64_t b = row / (static_cast<int64_t>(NH) * Tq);
  float mx = kNegInf;
  for (int s = 0; s < nsplit; ++s)
    mx = fmaxf(mx, lse_part[((b * nsplit + s) * NH + h) * Tq + t]);
  float wsum = 0.f;
  for (int s = 0; s < nsplit; ++s) {
    const float ls = lse_part[((b * nsplit + s) * NH + h) * Tq + t];
    wsum += ls == kNegInf ? 0.f : expf(ls - mx);
  }
  const float inv = wsum > 0.f ? 1.f / wsum : 0.f;
  for (int d = lane; d < hs; d += 32) {
    float acc = 0.f;
    for (int s = 0; s < nsplit; ++s) {
      const float ls = lse_part[((b * nsplit + s) * NH + h) * Tq + t];
      if (ls == kNegInf) continue;
      acc += expf(ls - mx) * o_part[(((b * nsplit + s) * Tq + t) * NH + h) * hs + d];
    }
    out[row * hs + d] = from_f32<T>(acc * inv);
  }
}

// The arguments common to training and decoding: Tq queries at positions q_pos0 .. over Tk keys.
template <class T>
ForwardArgs<T> forward_args(T* out, const T* q, const T* k, const T* v, int Tq, int Tk,
                            int q_pos0, int NH, int NKV, int hs) {
  ForwardArgs<T> a{};
  a.out = out;
  a.q = q;
  a.k = k;
  a.v = v;
  a.Tq = Tq;
  a.Tk = Tk;
  a.q_pos0 = q_pos0;
  a.NH = NH;
  a.NKV = NKV;
  a.hs = hs;
  a.nsplit = 1;
  a.q_bstride = static_cast<int64_t>(Tq) * NH * hs;
  a.k_bstride = static_cast<int64_t>(Tk) * NKV * hs;
  a.scale = 1.f / sqrtf(static_cast<float>(hs));
  return a;
}

template <class T, int HS>
void launch_forward(const ForwardArgs<T>& a, int B, cudaStream_t stream) {
  const dim3 grid((a.Tq + kTile - 1) / kTile, a.NH, B * a.nsplit);
  launch("forward_kernel", forward_kernel<T, HS>, grid, tile_bytes<HS>(3), stream, a);
}

template <class T>
void run_forward(const ForwardArgs<T>& a, int B, cudaStream_t stream) {
  switch (head_bucket(a.hs)) {
    case 32: launch_forward<T, 32>(a, B, stream); break;
    case 64: launch_forward<T, 64>(a, B, stream); break;
    case 128: launch_forward<T, 128>(a, B, stream); break;
    default: launch_forward<T, 256>(a, B, stream); break;
  }
}

}  // namespace

template <class T>
void flash_attention_forward(T* out, float* lse, const T* q, const T* k, const T* v,
                             const int32_t* docs, int B, int Tlen, int NH, int NKV, int hs,
                             cudaStream_t stream) {
  check_shapes("flash_attention_forward", B, Tlen, NH, NKV, hs);
  if (B == 0 || Tlen == 0) return;
  ForwardArgs<T> a = forward_args(out, q, k, v, Tlen, Tlen, 0, NH, NKV, hs);
  a.lse = lse;
  a.docs = docs;
  run_forward(a, B, stream);
}

template <class T>
void attention_cached(T* out, const T* q, const T* kcache, const T* vcache, int past, int Tq,
                      int NH, int NKV, int hs, cudaStream_t stream) {
  check_shapes("attention_cached", 1, Tq, NH, NKV, hs);
  if (past < 0) runtime_error("attention_cached: negative cache length", "past=" + std::to_string(past), "");
  if (Tq == 0) return;
  ForwardArgs<T> a = forward_args(out, q, kcache, vcache, Tq, past + Tq, past, NH, NKV, hs);

  // Split the keys when the query tiles alone leave most of the GPU idle (decoding a few tokens
  // after a long prompt): aim at two blocks per SM, each split at least two key tiles long.
  int device = 0, sms = 1;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
             "cudaDeviceGetAttribute(MultiProcessorCount)");
  const int blocks = (Tq + kTile - 1) / kTile * NH;
  const int key_tiles = (a.Tk + kTile - 1) / kTile;
  int nsplit = 1;
  if (blocks < 2 * sms && key_tiles >= 4)
    nsplit = std::min({key_tiles / 2, (2 * sms + blocks - 1) / blocks, 128});
  a.nsplit = nsplit;
  if (nsplit == 1) {
    run_forward(a, 1, stream);
    return;
  }
  const size_t rows = static_cast<size_t>(nsplit) * Tq * NH;
  void* scratch = nullptr;
  check_cuda(cudaMallocAsync(&scratch, rows * (static_cast<size_t>(hs) + 1) * sizeof(float), stream),
             "cudaMallocAsync(attention_cached split scratch)");
  a.o_part = static_cast<float*>(scratch);
  a.lse_part = a.o_part + rows * hs;
  try {
    run_forward(a, 1, stream);
    const int nrows = Tq * NH;
    combine_kernel<T><<<(nrows + kWarps - 1) / kWarps, kThreads, 0, stream>>>(
        out, a.o_part, a.lse_part, 1, Tq, NH, hs, nsplit);
    check_launch("combine_kernel");
  } catch (...) {
    cudaFreeAsync(scratch, stream);
    throw;
  }
  check_cuda(cudaFreeAsync(scratch, stream), "cudaFreeAsync(attention_cached split scratch)");
}

#define NLM_INSTANTIATE(T)                                                                       \
  template void flash_attention_forward<T>(T*, float*, const T*, const T*, const T*,             \
                                           const int32_t*, int, int, int, int, int, cudaStream_t); \
  template void attention_cached<T>(T*, const T*, const T*, const T*, int, int, int, int, int,   \
                                    cudaStream_t);
NLM_INSTANTIATE(float)
NLM_INSTANTIATE(__nv_bfloat16)
#undef NLM_INSTANTIATE

}  // namespace nlm::tensor::cuda
