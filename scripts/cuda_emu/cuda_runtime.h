// Just enough of the CUDA runtime for scripts/cuda-emulate.sh to run the backend's kernels' own
// source on CPU threads: one std::thread per CUDA thread (kept for the whole launch, blocks run
// one after another), __syncthreads and warp shuffles as barriers, shared memory filled with NaN
// bytes before every block so a read before a write shows. Not CUDA semantics in general (no
// memory model, no timing), only what the backend's kernels use; a kernel that skips a shuffle or
// barrier on some lanes still running hangs here. A thread that returns leaves its block's
// barriers (as an exited GPU thread stops counting).
#pragma once
#include <barrier>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>
#include <algorithm>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __shared__ static
#define __align__(n) alignas(n)
struct dim3 { unsigned x = 1, y = 1, z = 1; dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {} };
struct uint3 { unsigned x, y, z; };
struct float4 { float x, y, z, w; };
typedef int cudaError_t;
typedef void* cudaStream_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2, cudaErrorNoKernelImageForDevice = 209 };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount, cudaDevAttrMaxSharedMemoryPerBlockOptin };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize };
inline thread_local uint3 threadIdx, blockIdx;
inline thread_local dim3 gridDim, blockDim;
inline const char* cudaGetErrorString(cudaError_t) { return "emu"; }
inline cudaError_t cudaGetLastError() { return 0; }
inline cudaError_t cudaGetDevice(int* d) { *d = 0; return 0; }
inline int emu_sms = 132;
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int) { *v = a == cudaDevAttrMultiProcessorCount ? emu_sms : 232448; return 0; }
template <class K> cudaError_t cudaFuncSetAttribute(K, cudaFuncAttribute, int) { return 0; }
inline cudaError_t cudaMallocAsync(void** p, size_t n, cudaStream_t) { *p = std::malloc(n); return 0; }
inline cudaError_t cudaFreeAsync(void* p, cudaStream_t) { std::free(p); return 0; }
using std::min; using std::max;
inline float fmaxf(float a, float b) { return std::fmax(a, b); }
inline float expf(float x) { return std::exp(x); }
inline float logf(float x) { return std::log(x); }
inline float sqrtf(float x) { return std::sqrt(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
// Atomics: a lock, since threads of a block really run in parallel here.
inline std::atomic_flag emu_atomic_lock;
struct EmuAtomicGuard { EmuAtomicGuard() { while (emu_atomic_lock.test_and_set()) {} } ~EmuAtomicGuard() { emu_atomic_lock.clear(); } };
inline int atomicCAS(int* a, int c, int v) { EmuAtomicGuard g; int o = *a; if (o == c) *a = v; return o; }
inline int atomicExch(int* a, int v) { EmuAtomicGuard g; int o = *a; *a = v; return o; }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// ---- block machinery ----
struct EmuBlock {
  int threads;
  std::unique_ptr<std::barrier<>> bar;              // __syncthreads (rebuilt per block)
  std::vector<std::unique_ptr<std::barrier<>>> warp_bar;
  std::vector<uint64_t> wbuf;                       // one shuffle slot per thread
  std::atomic<int> flag{0};
  explicit EmuBlock(int n) : threads(n), wbuf(n) { reset(); }
  void reset() {
    bar = std::make_unique<std::barrier<>>(threads);
    warp_bar.clear();
    for (int w = 0; w < (threads + 31) / 32; ++w) warp_bar.push_back(std::make_unique<std::barrier<>>(std::min(32, threads - 32 * w)));
  }
};
inline thread_local EmuBlock* t_block;
inline thread_local int t_tid;  // linear thread index in the block
inline void __syncthreads() { t_block->bar->arrive_and_wait(); }
inline int __syncthreads_or(int p) {
  if (p) t_block->flag.store(1);
  t_block->bar->arrive_and_wait();
  int r = t_block->flag.load();
  t_block->bar->arrive_and_wait();
  if (t_tid == 0) t_block->flag.store(0);
  t_block->bar->arrive_and_wait();
  return r;
}
template <class V>
V emu_shfl(V x, int src_lane) {
  static_assert(sizeof(V) <= 8);
  const int w = t_tid / 32;
  uint64_t bits = 0; std::memcpy(&bits, &x, sizeof(V));
  t_block->wbuf[t_tid] = bits;
  t_block->warp_bar[w]->arrive_and_wait();
  bits = t_block->wbuf[w * 32 + (src_lane & 31)];
  t_block->warp_bar[w]->arrive_and_wait();
  V r; std::memcpy(&r, &bits, sizeof(V)); return r;
}
template <class V> V __shfl_sync(unsigned, V x, int src) { return emu_shfl(x, src); }
template <class V> V __shfl_xor_sync(unsigned, V x, int m) { return emu_shfl(x, (t_tid % 32) ^ m); }
inline unsigned char* emu_dyn_smem;  // the launch's dynamic shared memory
// kernel<<<grid, block, smem, stream>>>(args...) after the script's rewrite.
template <class K, class... A>
void emu_launch(K kernel, dim3 grid, dim3 block, size_t smem, cudaStream_t, A... args) {
  const int threads = int(block.x * block.y * block.z);
  std::vector<unsigned char> buf(smem + 64);
  emu_dyn_smem = buf.data();
  EmuBlock blk(threads);
  std::barrier<> end_bar(threads);
  std::memset(buf.data(), 0xff, buf.size());  // garbage: NaN floats
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back([&, t] {
    t_tid = t; t_block = &blk; gridDim = grid; blockDim = block;
    threadIdx = {unsigned(t) % block.x, unsigned(t) / block.x % block.y, unsigned(t) / (block.x * block.y)};
    for (unsigned z = 0; z < grid.z; ++z) for (unsigned y = 0; y < grid.y; ++y) for (unsigned x = 0; x < grid.x; ++x) {
      blockIdx = {x, y, z};
      kernel(args...);
      blk.bar->arrive_and_drop();  // a returned thread stops counting at __syncthreads
      blk.warp_bar[t / 32]->arrive_and_drop();
      end_bar.arrive_and_wait();
      if (t == 0) { blk.reset(); std::memset(buf.data(), 0xff, buf.size()); }
      end_bar.arrive_and_wait();
    }
  });
  for (auto& th : ts) th.join();
}
