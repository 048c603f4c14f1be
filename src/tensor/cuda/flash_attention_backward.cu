// Flash-attention backward (FlashAttention-2's recomputation): P is rebuilt tile by tile from q,
// k and the forward's logsumexp, never stored. With D = rowsum(dout ∘ out) per query row:
//   dV += Pᵀ dO,  dP = dO Vᵀ,  dS = P ∘ (dP − D),  dQ = dS K · scale,  dK = dSᵀ Q · scale.
// Deterministic, no atomics: one kernel gives each block a key tile of one kv head and loops over
// the query tiles of every head of its group (so the GQA sum over heads happens in registers, in
// a fixed order), the other gives each block a query tile and loops over its key tiles for dQ.
// That recomputes S and dP twice (7 tile products instead of 5) to avoid fp32 atomics on dQ.
// Thread layout and tile format: flash_attention_common.cuh.
#include "tensor/cuda/flash_attention.h"
#include "tensor/cuda/flash_attention_common.cuh"

namespace nlm::tensor::cuda {
namespace {

using namespace attn;

template <class T>
struct BackwardArgs {
  T *dq, *dk, *dv;
  const T *dout, *out, *q, *k, *v;
  const float* lse;    // [B, NH, T]
  float* D;            // [B, NH, T] workspace
  const int32_t* docs;  // [B, T] or null
  int Tlen, NH, NKV, hs;
  float scale;
};

// D[b,h,t] = Σ_d dout·out, one warp per (b, t, h) row.
template <class T>
__global__ void __launch_bounds__(kThreads) rowdot_kernel(BackwardArgs<T> a, int B) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= static_cast<int64_t>(B) * a.Tlen * a.NH) return;  // whole warps leave together
  const int h = static_cast<int>(row % a.NH), t = static_cast<int>(row / a.NH % a.Tlen);
  const int64_t b = row / (static_cast<int64_t>(a.NH) * a.Tlen);
  float s = 0.f;
  for (int d = lane; d < a.hs; d += 32) s += to_f32(a.dout[row * a.hs + d]) * to_f32(a.out[row * a.hs + d]);
  s = warp_sum(s);
  if (lane == 0) a.D[(b * a.NH + h) * a.Tlen + t] = s;
}

// dK, dV of one key tile. Grid: x = key tile, y = kv head, z = batch row. Here warp w owns the
// key rows w, w+8, … of the tile and lane l the query row l of the current query tile.
template <class T, int HS>
__global__ void __launch_bounds__(kThreads) dkdv_kernel(BackwardArgs<T> a) {
  constexpr int LD = kLd<HS>, NJ = HS / 32;
  extern __shared__ __align__(16) float smem[];
  float* Ks = smem;
  float* Vs = Ks + kTile * LD;
  float* Qs = Vs + kTile * LD;
  float* dOs = Qs + kTile * LD;
  __shared__ int qdoc[kTile], kdoc[kTile];
  __shared__ float lse_s[kTile], D_s[kTile];

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int kt = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
  const int group = a.NH / a.NKV;
  const int64_t qrs = static_cast<int64_t>(a.NH) * a.hs, krs = static_cast<int64_t>(a.NKV) * a.hs;
  const int64_t kbatch = static_cast<int64_t>(b) * a.Tlen * krs, qbatch = static_cast<int64_t>(b) * a.Tlen * qrs;
  const int32_t* docs = a.docs ? a.docs + static_cast<int64_t>(b) * a.Tlen : nullptr;
  const int k0 = kt * kTile;

  load_tile<HS>(Ks, a.k + kbatch + static_cast<int64_t>(kvh) * a.hs, krs, k0, a.Tlen, a.hs);
  load_tile<HS>(Vs, a.v + kbatch + static_cast<int64_t>(kvh) * a.hs, krs, k0, a.Tlen, a.hs);
  load_docs(kdoc, docs, k0, a.Tlen);

  float dk[kRowsPerWarp][NJ] = {}, dv[kRowsPerWarp][NJ] = {};
  const int nqt = (a.Tlen + kTile - 1) / kTile;
  for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
    const T* qhead = a.q + qbatch + static_cast<int64_t>(h) * a.hs;
    const T* dohead = a.dout + qbatch + static_cast<int64_t>(h) * a.hs;
    const float* lse_row = a.lse + (static_cast<int64_t>(b) * a.NH + h) * a.Tlen;
    const float* D_row = a.D + (static_cast<int64_t>(b) * a.NH + h) * a.Tlen;
    for (int qt = kt; qt < nqt; ++qt) {  // query tiles at or below the diagonal (kTile = BQ = BK)
      const int q0 = qt * kTile;
      __syncthreads();  // the previous query tile's readers are done (and Ks, Vs, kdoc written)
      load_docs(qdoc, docs, q0, a.Tlen);
      if (threadIdx.x < kTile) {
        const int t = q0 + threadIdx.x;
        lse_s[threadIdx.x] = t < a.Tlen ? lse_row[t] : 0.f;
        D_s[threadIdx.x] = t < a.Tlen ? D_row[t] : 0.f;
      }
      __syncthreads();
      bool ok[kRowsPerWarp];
      bool any = false;
#pragma unroll
      for (int i = 0; i < kRowsPerWarp; ++i) {
        const int c = warp + kWarps * i, j = k0 + c, t = q0 + lane;
        ok[i] = j < a.Tlen && t < a.Tlen && j <= t && (!docs || kdoc[c] == qdoc[lane]);
        any |= ok[i];
      }
      if (!__syncthreads_or(any)) continue;
      load_tile<HS>(Qs, qhead, qrs, q0, a.Tlen, a.hs);
      load_tile<HS>(dOs, dohead, qrs, q0, a.Tlen, a.hs);
      __syncthreads();

      float s[kRowsPerWarp], dp[kRowsPerWarp], p[kRowsPerWarp], ds[kRowsPerWarp];
      row_dots<HS>(s, Ks, Qs);   // Sᵀ: key rows × query columns
      row_dots<HS>(dp, Vs, dOs);  // dPᵀ
#pragma unroll
      for (int i = 0; i < kRowsPerWarp; ++i) {
        p[i] = ok[i] ? expf(s[i] * a.scale - lse_s[lane]) : 0.f;
        ds[i] = p[i] * (dp[i] - D_s[lane]);
      }
      accumulate_rows<HS>(dv, p, dOs);  // dV += Pᵀ dO
      accumulate_rows<HS>(dk, ds, Qs);  // dK += dSᵀ Q (scaled at the end)
    }
  }

#pragma unroll
  for (int i = 0; i < kRowsPerWarp; ++i) {
    const int j = k0 + warp + kWarps * i;
    if (j >= a.Tlen) continue;
    const int64_t off = kbatch + j * krs + static_cast<int64_t>(kvh) * a.hs;
#pragma unroll
    for (int jj = 0; jj < NJ; ++jj) {
      const int d = lane + 32 * jj;
      if (d < a.hs) {
        a.dk[off + d] = from_f32<T>(dk[i][jj] * a.scale);
        a.dv[off + d] = from_f32<T>(dv[i][jj]);
      }
    }
  }
}

// dQ of one query tile. Grid: x = query tile (longest first), y = head, z = batch row. Warp w
// owns the query rows w, w+8, … and lane l the key row l of the current key tile (as forward).
template <class T, int HS>
__global__ void __launch_bounds__(kThreads) dq_kernel(BackwardArgs<T> a) {
  constexpr int LD = kLd<HS>, NJ = HS / 32;
  extern __shared__ __align__(16) float smem[];
  float* Qs = smem;
  float* dOs = Qs + kTile * LD;
  float* Ks = dOs + kTile * LD;
  float* Vs = Ks + kTile * LD;
  __shared__ int qdoc[kTile], kdoc[kTile];

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int qt = gridDim.x - 1 - blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int kvh = h / (a.NH / a.NKV);
  const int64_t qrs = static_cast<int64_t>(a.NH) * a.hs, krs = static_cast<int64_t>(a.NKV) * a.hs;
  const int64_t kbatch = static_cast<int64_t>(b) * a.Tlen * krs, qbatch = static_cast<int64_t>(b) * a.Tlen * qrs;
  const int32_t* docs = a.docs ? a.docs + static_cast<int64_t>(b) * a.Tlen : nullptr;
  const int q0 = qt * kTile;

  load_tile<HS>(Qs, a.q + qbatch + static_cast<int64_t>(h) * a.hs, qrs, q0, a.Tlen, a.hs);
  load_tile<HS>(dOs, a.dout + qbatch + static_cast<int64_t>(h) * a.hs, qrs, q0, a.Tlen, a.hs);
  load_docs(qdoc, docs, q0, a.Tlen);
  float lse_r[kRowsPerWarp], D_r[kRowsPerWarp];
#pragma unroll
  for (int i = 0; i < kRowsPerWarp; ++i) {
    const int t = q0 + warp + kWarps * i;
    const int64_t idx = (static_cast<int64_t>(b) * a.NH + h) * a.Tlen + t;
    lse_r[i] = t < a.Tlen ? a.lse[idx] : 0.f;
    D_r[i] = t < a.Tlen ? a.D[idx] : 0.f;
  }

  float dq[kRowsPerWarp][NJ] = {};
  const int kt_end = qt + 1;  // key tiles up to the diagonal (kTile = BQ = BK)
  for (int kt = 0; kt < kt_end; ++kt) {
    const int k0 = kt * kTile;
    __syncthreads();  // the previous key tile's readers are done (and Qs, dOs, qdoc written)
    load_docs(kdoc, docs, k0, a.Tlen);
    __syncthreads();
    bool ok[kRowsPerWarp];
    bool any = false;
#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i) {
      const int r = warp + kWarps * i, t = q0 + r, j = k0 + lane;
      ok[i] = t < a.Tlen && j < a.Tlen && j <= t && (!docs || qdoc[r] == kdoc[lane]);
      any |= ok[i];
    }
    if (!__syncthreads_or(any)) continue;
    load_tile<HS>(Ks, a.k + kbatch + static_cast<int64_t>(kvh) * a.hs, krs, k0, a.Tlen, a.hs);
    load_tile<HS>(Vs, a.v + kbatch + static_cast<int64_t>(kvh) * a.hs, krs, k0, a.Tlen, a.hs);
    __syncthreads();

    float s[kRowsPerWarp], dp[kRowsPerWarp], ds[kRowsPerWarp];
    row_dots<HS>(s, Qs, Ks);
    row_dots<HS>(dp, dOs, Vs);
#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i) {
      const float p = ok[i] ? expf(s[i] * a.scale - lse_r[i]) : 0.f;
      ds[i] = p * (dp[i] - D_r[i]);
    }
    accumulate_rows<HS>(dq, ds, Ks);  // dQ += dS K (scaled at the end)
  }

#pragma unroll
  for (int i = 0; i < kRowsPerWarp; ++i) {
    const int t = q0 + warp + kWarps * i;
    if (t >= a.Tlen) continue;
    const int64_t off = qbatch + t * qrs + static_cast<int64_t>(h) * a.hs;
#pragma unroll
    for (int j = 0; j < NJ; ++j) {
      const int d = lane + 32 * j;
      if (d < a.hs) a.dq[off + d] = from_f32<T>(dq[i][j] * a.scale);
    }
  }
}

template <class T, int HS>
void launch_backward(const BackwardArgs<T>& a, int B, cudaStream_t stream) {
  const int tiles = (a.Tlen + kTile - 1) / kTile;
  launch("dkdv_kernel", dkdv_kernel<T, HS>, dim3(tiles, a.NKV, B), tile_bytes<HS>(4), stream, a);
  launch("dq_kernel", dq_kernel<T, HS>, dim3(tiles, a.NH, B), tile_bytes<HS>(4), stream, a);
}

}  // namespace

size_t flash_attention_backward_workspace(int B, int Tlen, int NH, int NKV, int hs) {
  attn::check_shapes("flash_attention_backward_workspace", B, Tlen, NH, NKV, hs);
  return static_cast<size_t>(B) * NH * Tlen * sizeof(float);  // D
}

template <class T>
void flash_attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* out, const float* lse,
                              const T* q, const T* k, const T* v, const int32_t* docs, int B,
                              int Tlen, int NH, int NKV, int hs, void* workspace,
                              cudaStream_t stream) {
  check_shapes("flash_attention_backward", B, Tlen, NH, NKV, hs);
  if (B == 0 || Tlen == 0) return;
  if (!workspace)
    runtime_error("flash_attention_backward: no workspace",
                  "", "pass flash_attention_backward_workspace() bytes of device memory");
  BackwardArgs<T> a{dq, dk, dv, dout, out, q, k, v, lse, static_cast<float*>(workspace), docs,
                    Tlen, NH, NKV, hs, 1.f / sqrtf(static_cast<float>(hs))};
  const int64_t rows = static_cast<int64_t>(B) * Tlen * NH;
  rowdot_kernel<T><<<static_cast<unsigned>((rows + kWarps - 1) / kWarps), kThreads, 0, stream>>>(a, B);
  check_launch("rowdot_kernel");
  switch (head_bucket(hs)) {
    case 32: launch_backward<T, 32>(a, B, stream); break;
    case 64: launch_backward<T, 64>(a, B, stream); break;
    case 128: launch_backward<T, 128>(a, B, stream); break;
    default: launch_backward<T, 256>(a, B, stream); break;
  }
}

#define NLM_INSTANTIATE(T)                                                                  \
  template void flash_attention_backward<T>(T*, T*, T*, const T*, const T*, const float*,   \
                                            const T*, const T*, const T*, const int32_t*, int, \
                                            int, int, int, int, void*, cudaStream_t);
NLM_INSTANTIATE(float)
NLM_INSTANTIATE(__nv_bfloat16)
#undef NLM_INSTANTIATE

}  // namespace nlm::tensor::cuda
