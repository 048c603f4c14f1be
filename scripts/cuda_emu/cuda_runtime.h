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
#include <cstdio>
#include <map>
#include <mutex>
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
enum { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2, cudaErrorInvalidDevice = 101, cudaErrorNoKernelImageForDevice = 209 };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount, cudaDevAttrMaxSharedMemoryPerBlockOptin, cudaDevAttrComputeCapabilityMajor, cudaDevAttrComputeCapabilityMinor, cudaDevAttrClockRate };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize };
inline thread_local uint3 threadIdx, blockIdx;
inline thread_local dim3 gridDim, blockDim;
inline const char* cudaGetErrorString(cudaError_t) { return "emu"; }
inline cudaError_t cudaGetLastError() { return 0; }
inline cudaError_t cudaGetDevice(int* d) { *d = 0; return 0; }
inline int emu_sms = 132;
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int) {
  switch (a) {  // an H100 SXM
    case cudaDevAttrMultiProcessorCount: *v = emu_sms; break;
    case cudaDevAttrComputeCapabilityMajor: *v = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *v = 0; break;
    case cudaDevAttrClockRate: *v = 1980000; break;
    default: *v = 232448;
  }
  return 0;
}
template <class K> cudaError_t cudaFuncSetAttribute(K, cudaFuncAttribute, int) { return 0; }
// ---- "device" memory: host memory, registered so copies and cuBLAS operands can be checked to
// lie inside one live allocation (an out-of-range leading dimension or a host pointer given as a
// device one fails loudly). New memory is filled with NaN bytes, as cudaMalloc promises nothing.
struct EmuMemory {
  std::mutex mu;
  std::map<uintptr_t, size_t> live;  // start -> bytes
  size_t allocations = 0, frees = 0;
};
inline EmuMemory& emu_memory() { static EmuMemory m; return m; }
[[noreturn]] inline void emu_fail(const char* what) {
  std::fprintf(stderr, "cuda emulation: %s\n", what);
  std::abort();
}
// True when [p, p+bytes) lies inside one live allocation.
inline bool emu_is_device(const void* p, size_t bytes = 1) {
  EmuMemory& m = emu_memory();
  std::lock_guard<std::mutex> lock(m.mu);
  auto a = reinterpret_cast<uintptr_t>(p);
  auto it = m.live.upper_bound(a);
  if (it == m.live.begin()) return false;
  --it;
  return a >= it->first && a + bytes <= it->first + it->second;
}
inline cudaError_t cudaMalloc(void** p, size_t n) {
  if (n == 0) { *p = nullptr; return cudaSuccess; }
  *p = std::aligned_alloc(256, (n + 255) / 256 * 256);  // cudaMalloc aligns to 256 bytes
  if (!*p) return cudaErrorMemoryAllocation;
  std::memset(*p, 0xff, n);
  EmuMemory& m = emu_memory();
  std::lock_guard<std::mutex> lock(m.mu);
  m.live[reinterpret_cast<uintptr_t>(*p)] = n;
  ++m.allocations;
  return cudaSuccess;
}
// The C++ overload of cuda_runtime.h.
template <class T> cudaError_t cudaMalloc(T** p, size_t n) { return cudaMalloc(reinterpret_cast<void**>(p), n); }
inline cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  EmuMemory& m = emu_memory();
  {
    std::lock_guard<std::mutex> lock(m.mu);
    auto it = m.live.find(reinterpret_cast<uintptr_t>(p));
    if (it == m.live.end()) emu_fail("cudaFree of a pointer that is not a live allocation");
    m.live.erase(it);
    ++m.frees;
  }
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMallocAsync(void** p, size_t n, cudaStream_t) { return cudaMalloc(p, n); }
inline cudaError_t cudaFreeAsync(void* p, cudaStream_t) { return cudaFree(p); }
// ---- devices, streams, pools: one device, every stream runs its work at once (in order).
inline int emu_device_count = 1;
inline cudaError_t cudaGetDeviceCount(int* n) { *n = emu_device_count; return cudaSuccess; }
inline cudaError_t cudaSetDevice(int d) { return d >= 0 && d < emu_device_count ? cudaSuccess : cudaErrorInvalidDevice; }
enum { cudaStreamDefault = 0, cudaStreamNonBlocking = 1 };
struct EmuStream { unsigned flags; };
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) { *s = new EmuStream{flags}; return cudaSuccess; }
inline cudaError_t cudaStreamDestroy(cudaStream_t s) { delete static_cast<EmuStream*>(s); return cudaSuccess; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
typedef struct EmuMemPool* cudaMemPool_t;
enum cudaMemPoolAttr { cudaMemPoolAttrReleaseThreshold = 4 };
struct EmuMemPool { uint64_t release_threshold = 0; };
inline cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  static EmuMemPool the_pool;
  if (device < 0 || device >= emu_device_count) return cudaErrorInvalidDevice;
  *pool = &the_pool;
  return cudaSuccess;
}
inline cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* v) {
  if (attr != cudaMemPoolAttrReleaseThreshold) return cudaErrorInvalidValue;
  pool->release_threshold = *static_cast<uint64_t*>(v);  // a cuuint64_t, as documented
  return cudaSuccess;
}
// ---- copies: the direction is checked against where the pointers live.
enum cudaMemcpyKind { cudaMemcpyHostToHost = 0, cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t = nullptr) {
  if (n == 0) return cudaSuccess;
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (dst_dev != emu_is_device(dst, n) || src_dev != emu_is_device(src, n))
    emu_fail("cudaMemcpy: a pointer is not where its cudaMemcpyKind says, or the range overruns its allocation");
  std::memmove(dst, src, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) { return cudaMemcpyAsync(dst, src, n, kind); }
inline cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t = nullptr) {
  if (n == 0) return cudaSuccess;
  if (!emu_is_device(p, n)) emu_fail("cudaMemset outside a device allocation");
  std::memset(p, v, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemset2DAsync(void* p, size_t pitch, int v, size_t width, size_t height, cudaStream_t = nullptr) {
  if (width > pitch) return cudaErrorInvalidValue;
  for (size_t r = 0; r < height; ++r) cudaMemsetAsync(static_cast<char*>(p) + r * pitch, v, width);
  return cudaSuccess;
}
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
