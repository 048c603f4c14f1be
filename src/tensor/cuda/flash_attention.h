// The attention kernels of the CUDA backend, apart from the backend class so they can be written,
// tuned and tested on their own. Flash-attention style (Dao et al.): the [T,T] score matrix is
// never stored; forward keeps only the per-row logsumexp, and backward recomputes the scores
// block by block from it. cuDNN's fused SDPA needs its C++ frontend, which the toolkit here does
// not ship, so these are our own kernels.
//
// Layouts are the backend's (backend.h): q, out, dout, dq [B,T,NH,hs]; k, v, dk, dv [B,T,NKV,hs];
// head h reads kv head h / (NH/NKV). docs (may be null) is I32 [B,T]: token t attends to t' ≤ t
// only where docs[b,t'] == docs[b,t]. lse is fp32 [B,NH,T]. Elements are float or bf16 (the
// template parameter); accumulation is fp32. hs up to 256. Every call is asynchronous on `stream`.
//
// The kernels (flash_attention_forward.cu, flash_attention_backward.cu): 32×32 tiles in shared
// memory as fp32, products on the CUDA cores in fp32 (no tensor-core mma yet: simple enough to be
// right by reading, since they were written where no GPU could run them). Key tiles wholly above
// the diagonal or wholly in other documents are skipped. Backward is deterministic (no atomics):
// dk/dv per key tile summed over the heads of a group in a fixed order, dq per query tile.
// attention_cached splits long caches over several blocks (flash-decoding) when the query tiles
// alone would leave the GPU idle; its scratch comes from cudaMallocAsync on `stream`.
// Bad shapes (hs > 256, NH not a multiple of NKV, non-positive heads) throw nlm::Error before any
// GPU work; a failed launch throws with CUDA's message.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace nlm::tensor::cuda {

// out and lse from q, k, v.
template <class T>
void flash_attention_forward(T* out, float* lse, const T* q, const T* k, const T* v,
                             const int32_t* docs, int B, int Tlen, int NH, int NKV, int hs,
                             cudaStream_t stream);

// Bytes of device scratch flash_attention_backward needs for these sizes; the caller owns it.
// Today that is the fp32 D = rowsum(dout·out) per (b, head, t): dq, dk and dv accumulate in
// registers (a block owns each output row), so no fp32 copies of them are needed.
size_t flash_attention_backward_workspace(int B, int Tlen, int NH, int NKV, int hs);

// dq, dk, dv (overwritten) from dout, with the forward's out and lse.
template <class T>
void flash_attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* out, const float* lse,
                              const T* q, const T* k, const T* v, const int32_t* docs, int B,
                              int Tlen, int NH, int NKV, int hs, void* workspace,
                              cudaStream_t stream);

// Decoding with a KV cache (one sequence, backend.h attention_cached): q [Tq,NH,hs] at positions
// past .. past+Tq−1; kcache, vcache [Tmax,NKV,hs] hold rows 0 .. past+Tq−1; out [Tq,NH,hs].
template <class T>
void attention_cached(T* out, const T* q, const T* kcache, const T* vcache, int past, int Tq,
                      int NH, int NKV, int hs, cudaStream_t stream);

}  // namespace nlm::tensor::cuda
