// Just enough of the CUDA runtime for scripts/cuda-emulate-attention.sh to run the attention
// kernels' own source on CPU threads: one std::thread per CUDA thread, one block at a time,
// __syncthreads and warp shuffles as barriers, dynamic shared memory filled with NaN bytes so a
// read before a write shows. Not CUDA semantics in general (no memory model, no timing), only
// what those kernels use; a kernel that skips a shuffle or barrier on some lanes hangs here.
#pragma once
#include <barrier>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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
inline int atomicCAS(int* a, int c, int v) { int o = *a; if (o == c) *a = v; return o; }
inline int atomicExch(int* a, int v) { int o = *a; *a = v; return o; }
inline void __threadfence() {}

// ---- block machinery ----
struct EmuBlock {
  std::barrier<> bar;
  std::barrier<>* warp_bar[8];
  float wbuf[8][32];
  std::atomic<int> flag{0};
  EmuBlock(int threads) : bar(threads) { for (auto& w : warp_bar) w = new std::barrier<>(32); }
  ~EmuBlock() { for (auto& w : warp_bar) delete w; }
};
inline thread_local EmuBlock* t_block;
inline void __syncthreads() { t_block->bar.arrive_and_wait(); }
inline int __syncthreads_or(int p) {
  if (p) t_block->flag.store(1);
  t_block->bar.arrive_and_wait();
  int r = t_block->flag.load();
  t_block->bar.arrive_and_wait();
  if (threadIdx.x == 0) t_block->flag.store(0);
  t_block->bar.arrive_and_wait();
  return r;
}
inline float emu_shfl(float x, int src) {
  const int w = threadIdx.x / 32, l = threadIdx.x % 32;
  t_block->wbuf[w][l] = x;
  t_block->warp_bar[w]->arrive_and_wait();
  float r = t_block->wbuf[w][src & 31];
  t_block->warp_bar[w]->arrive_and_wait();
  return r;
}
inline float __shfl_sync(unsigned, float x, int src) { return emu_shfl(x, src); }
inline float __shfl_xor_sync(unsigned, float x, int m) { return emu_shfl(x, (threadIdx.x % 32) ^ m); }
inline unsigned char* emu_dyn_smem;  // the launch's dynamic shared memory
// kernel<<<grid, threads, smem, stream>>>(args...) after the script's rewrite.
template <class K, class... A>
void emu_launch(K kernel, dim3 grid, int threads, size_t smem, cudaStream_t, A... args) {
  std::vector<unsigned char> buf(smem + 64);
  for (unsigned z = 0; z < grid.z; ++z) for (unsigned y = 0; y < grid.y; ++y) for (unsigned x = 0; x < grid.x; ++x) {
    EmuBlock blk(threads);
    std::memset(buf.data(), 0xff, buf.size());  // garbage: NaN floats
    emu_dyn_smem = buf.data();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) ts.emplace_back([&, t] {
      threadIdx = {unsigned(t), 0, 0}; blockIdx = {x, y, z}; gridDim = grid; blockDim = dim3(threads);
      t_block = &blk; kernel(args...);
    });
    for (auto& th : ts) th.join();
  }
}
