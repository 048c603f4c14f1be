// What the attention kernels (flash_attention_forward.cu, flash_attention_backward.cu) share:
// the tile sizes and thread layout, the warp max, the tile loader and tile products, the
// host-side shape checks and the launch. Private to those files.
//
// The layout every kernel uses (so each can be checked by reading one place): a block has 8 warps
// (256 threads) and works on a 32×32 tile of scores. Warp w owns tile rows w, w+8, w+16, w+24
// (kRowsPerWarp = 4) and lane l owns column l, so a row's softmax max and sum are warp shuffles.
// Row vectors of head size (accumulators of out, dq, dk, dv) are spread the same way: warp w
// keeps the rows it owns, lane l keeps columns l, l+32, … (HS/32 of them). Tiles live in shared
// memory as fp32 with a row stride of kLd<HS> = HS+4 floats (16-byte aligned rows), read 4 columns
// at a time as float4; columns hs..HS−1 and rows past the end are zero.
#pragma once
#include <cstdint>
#include <string>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "core/error.h"
#include "tensor/cuda/cuda_check.h"
#include "tensor/cuda/kernel_util.cuh"  // to_f32, from_f32, warp_sum

namespace nlm::tensor::cuda::attn {

constexpr int kTile = 32;                   // query rows and key rows per tile (BQ = BK)
constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kRowsPerWarp = kTile / kWarps;  // 4
constexpr int kMaxHeadSize = 256;
constexpr float kNegInf = -__builtin_huge_valf();

// Row stride of a tile in floats. A warp's float4 loads go to shared memory 8 lanes at a time;
// when the 8 lanes read 8 different rows at the same column, the +4 puts row r at bank offset 4r,
// so the 8 × 4 words fall in 32 different banks. Rows of HS+4 floats keep 16-byte alignment.
template <int HS>
constexpr int kLd = HS + 4;

__device__ __forceinline__ float warp_max(float x) {
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

// Copies rows row0 .. row0+kTile−1 of a strided [rows, hs] matrix into a shared fp32 tile of
// stride kLd<HS>; rows ≥ nrows and columns ≥ hs become 0. Called by all threads of the block.
template <int HS, class T>
__device__ __forceinline__ void load_tile(float* tile, const T* base, int64_t row_stride, int row0,
                                          int nrows, int hs) {
  for (int i = threadIdx.x; i < kTile * HS; i += kThreads) {
    const int r = i / HS, d = i % HS, row = row0 + r;
    tile[r * kLd<HS> + d] =
        (row < nrows && d < hs) ? to_f32(base[static_cast<int64_t>(row) * row_stride + d]) : 0.f;
  }
}

// dst[i] = docs[pos0 + i] for the kTile positions from pos0 (0 at positions ≥ end or without
// docs). Threads 0..kTile−1 write; the caller synchronises before reading.
__device__ __forceinline__ void load_docs(int* dst, const int32_t* docs, int pos0, int end) {
  if (threadIdx.x < kTile) {
    const int pos = pos0 + static_cast<int>(threadIdx.x);
    dst[threadIdx.x] = (docs && pos < end) ? docs[pos] : 0;
  }
}

// out[i] = Σ_d rows[w + 8i][d] · cols[lane][d] for the warp w: the 4×32 scores of the rows this
// warp owns against the 32 rows of `cols`, both tiles of stride kLd<HS>. The `rows` loads are
// broadcasts (one address per warp), the `cols` loads conflict-free (kLd).
template <int HS>
__device__ __forceinline__ void row_dots(float (&out)[kRowsPerWarp], const float* rows,
                                         const float* cols) {
  constexpr int LD = kLd<HS>;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
#pragma unroll
  for (int i = 0; i < kRowsPerWarp; ++i) out[i] = 0.f;
#pragma unroll 4
  for (int d = 0; d < HS; d += 4) {
    const float4 c = *reinterpret_cast<const float4*>(cols + lane * LD + d);
#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i) {
      const float4 r = *reinterpret_cast<const float4*>(rows + (warp + kWarps * i) * LD + d);
      out[i] += r.x * c.x + r.y * c.y + r.z * c.z + r.w * c.w;
    }
  }
}

// acc[i][j] += Σ_c x_i(c) · tile[c][lane + 32j], where x_i(c) is lane c's x[i]: adds the 4×32
// weights the warp holds (one per lane and row) times the 32 rows of `tile` into its rows.
template <int HS>
__device__ __forceinline__ void accumulate_rows(float (&acc)[kRowsPerWarp][HS / 32],
                                                const float (&x)[kRowsPerWarp],
                                                const float* tile) {
  constexpr int LD = kLd<HS>, NJ = HS / 32;
  const int lane = threadIdx.x % 32;
  for (int c = 0; c < kTile; ++c) {
    float row[NJ];
#pragma unroll
    for (int j = 0; j < NJ; ++j) row[j] = tile[c * LD + lane + 32 * j];
#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i) {
      const float xc = __shfl_sync(0xffffffffu, x[i], c);
#pragma unroll
      for (int j = 0; j < NJ; ++j) acc[i][j] += xc * row[j];
    }
  }
}

// Shared-memory bytes of n tiles of head-size bucket HS.
template <int HS>
constexpr size_t tile_bytes(int n) {
  return static_cast<size_t>(n) * kTile * kLd<HS> * sizeof(float);
}

// The head-size bucket a call runs in: the smallest of 32/64/128/256 that holds hs.
inline int head_bucket(int hs) { return hs <= 32 ? 32 : hs <= 64 ? 64 : hs <= 128 ? 128 : 256; }

inline void check_shapes(const char* what, int B, int Tlen, int NH, int NKV, int hs) {
  auto fail = [&](const std::string& why) {
    runtime_error(std::string(what) + ": " + why,
                  "B=" + std::to_string(B) + " T=" + std::to_string(Tlen) +
                      " NH=" + std::to_string(NH) + " NKV=" + std::to_string(NKV) +
                      " hs=" + std::to_string(hs),
                  "");
  };
  if (B < 0 || Tlen < 0) fail("negative batch or sequence length");
  if (NH < 1 || NKV < 1 || hs < 1) fail("heads and head size must be positive");
  if (NH % NKV != 0) fail("the query heads NH must be a multiple of the key/value heads NKV");
  if (hs > kMaxHeadSize) fail("head size over 256 is not supported by the CUDA attention kernels");
  if (NH > 65535 || B > 65535) fail("more than 65535 heads or batch rows");
}

// A head size of 256 needs 130 KiB per block in backward: fine on sm_80 and sm_90 (163 and 227
// KiB), too much for sm_86/sm_89 (99 KiB), which then get this error instead of a failed launch.
template <class Kernel, class... Args>
void launch(const char* name, Kernel kernel, dim3 grid, size_t bytes, cudaStream_t stream,
            Args... args) {
  int device = 0, optin = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
             "cudaDeviceGetAttribute(MaxSharedMemoryPerBlockOptin)");
  if (bytes > static_cast<size_t>(optin))
    runtime_error(std::string("CUDA attention kernel ") + name + " needs " +
                      std::to_string(bytes) + " bytes of shared memory per block",
                  "this GPU allows " + std::to_string(optin),
                  "use a smaller head size on this GPU");
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(bytes)),
             "cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
  kernel<<<grid, kThreads, bytes, stream>>>(args...);
  check_launch(name);
}

}  // namespace nlm::tensor::cuda::attn
