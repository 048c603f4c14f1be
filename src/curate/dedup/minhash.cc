// MinHash kernels. The SIMD ones are compiled with target attributes and chosen at run time,
// so a portable build still uses them. Each processes 32 hash functions at a time across all
// shingles, keeping the running minima in registers; the tail (K not a multiple of the vector
// width) goes to the reference loop.
// GCC 12 gives a false -Wmaybe-uninitialized inside its own AVX-512 intrinsic headers here (as
// in core/hash.cc), so that warning is off for this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "curate/dedup/minhash.h"

#include "core/options.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/hash.h"

namespace nlm::dedup {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void update_reference(const uint64_t* a, const uint64_t* b, size_t K, const uint64_t* x, size_t n,
                      uint64_t* sig) {
  for (size_t i = 0; i < n; ++i) {
    const uint64_t xi = x[i];
    for (size_t k = 0; k < K; ++k) sig[k] = std::min(sig[k], a[k] * xi + b[k]);
  }
}

__attribute__((target("avx512f,avx512dq"))) void update_avx512(const uint64_t* a, const uint64_t* b,
                                                                size_t K, const uint64_t* x,
                                                                size_t n, uint64_t* sig) {
  size_t k = 0;
  for (; k + 32 <= K; k += 32) {
    __m512i a0 = _mm512_loadu_si512(a + k), a1 = _mm512_loadu_si512(a + k + 8),
            a2 = _mm512_loadu_si512(a + k + 16), a3 = _mm512_loadu_si512(a + k + 24);
    __m512i b0 = _mm512_loadu_si512(b + k), b1 = _mm512_loadu_si512(b + k + 8),
            b2 = _mm512_loadu_si512(b + k + 16), b3 = _mm512_loadu_si512(b + k + 24);
    __m512i s0 = _mm512_loadu_si512(sig + k), s1 = _mm512_loadu_si512(sig + k + 8),
            s2 = _mm512_loadu_si512(sig + k + 16), s3 = _mm512_loadu_si512(sig + k + 24);
    for (size_t i = 0; i < n; ++i) {
      __m512i xi = _mm512_set1_epi64(static_cast<long long>(x[i]));
      s0 = _mm512_min_epu64(s0, _mm512_add_epi64(_mm512_mullo_epi64(a0, xi), b0));
      s1 = _mm512_min_epu64(s1, _mm512_add_epi64(_mm512_mullo_epi64(a1, xi), b1));
      s2 = _mm512_min_epu64(s2, _mm512_add_epi64(_mm512_mullo_epi64(a2, xi), b2));
      s3 = _mm512_min_epu64(s3, _mm512_add_epi64(_mm512_mullo_epi64(a3, xi), b3));
    }
    _mm512_storeu_si512(sig + k, s0);
    _mm512_storeu_si512(sig + k + 8, s1);
    _mm512_storeu_si512(sig + k + 16, s2);
    _mm512_storeu_si512(sig + k + 24, s3);
  }
  for (; k + 8 <= K; k += 8) {
    __m512i av = _mm512_loadu_si512(a + k), bv = _mm512_loadu_si512(b + k);
    __m512i s = _mm512_loadu_si512(sig + k);
    for (size_t i = 0; i < n; ++i)
      s = _mm512_min_epu64(
          s, _mm512_add_epi64(_mm512_mullo_epi64(av, _mm512_set1_epi64(static_cast<long long>(x[i]))), bv));
    _mm512_storeu_si512(sig + k, s);
  }
  if (k < K) update_reference(a + k, b + k, K - k, x, n, sig + k);
}

// 64-bit lane multiply from three 32x32->64 products (AVX2 has no vpmullq).
__attribute__((target("avx2"))) inline __m256i mul64_avx2(__m256i a, __m256i a_hi, __m256i x,
                                                          __m256i x_hi) {
  __m256i lo = _mm256_mul_epu32(a, x);
  __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(a_hi, x), _mm256_mul_epu32(a, x_hi));
  return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

// Unsigned 64-bit min: compare with the sign bits flipped.
__attribute__((target("avx2"))) inline __m256i min_epu64_avx2(__m256i s, __m256i v, __m256i sign) {
  __m256i gt = _mm256_cmpgt_epi64(_mm256_xor_si256(s, sign), _mm256_xor_si256(v, sign));
  return _mm256_blendv_epi8(s, v, gt);
}

__attribute__((target("avx2"))) void update_avx2(const uint64_t* a, const uint64_t* b, size_t K,
                                                  const uint64_t* x, size_t n, uint64_t* sig) {
  const __m256i sign = _mm256_set1_epi64x(static_cast<long long>(0x8000000000000000ULL));
  size_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m256i av[4], ah[4], bv[4], s[4];
    for (int j = 0; j < 4; ++j) {
      av[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + k + 4 * j));
      ah[j] = _mm256_srli_epi64(av[j], 32);
      bv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + k + 4 * j));
      s[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sig + k + 4 * j));
    }
    for (size_t i = 0; i < n; ++i) {
      __m256i xi = _mm256_set1_epi64x(static_cast<long long>(x[i]));
      __m256i xh = _mm256_srli_epi64(xi, 32);
      for (int j = 0; j < 4; ++j)
        s[j] = min_epu64_avx2(s[j], _mm256_add_epi64(mul64_avx2(av[j], ah[j], xi, xh), bv[j]), sign);
    }
    for (int j = 0; j < 4; ++j) _mm256_storeu_si256(reinterpret_cast<__m256i*>(sig + k + 4 * j), s[j]);
  }
  if (k < K) update_reference(a + k, b + k, K - k, x, n, sig + k);
}

}  // namespace

const char* kernel_name(MinHashKernel k) {
  switch (k) {
    case MinHashKernel::Avx512: return "avx512";
    case MinHashKernel::Avx2: return "avx2";
    default: return "reference";
  }
}

bool kernel_supported(MinHashKernel k) {
  switch (k) {
    case MinHashKernel::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    case MinHashKernel::Avx2: return __builtin_cpu_supports("avx2");
    default: return true;
  }
}

MinHashKernel best_kernel() {
  static const MinHashKernel best = kernel_supported(MinHashKernel::Avx512) ? MinHashKernel::Avx512
                                    : kernel_supported(MinHashKernel::Avx2) ? MinHashKernel::Avx2
                                                                            : MinHashKernel::Reference;
  return best;
}

void minhash_update(MinHashKernel kernel, const uint64_t* a, const uint64_t* b, size_t K,
                    const uint64_t* x, size_t n, uint64_t* sig) {
  switch (kernel) {
    case MinHashKernel::Avx512: update_avx512(a, b, K, x, n, sig); break;
    case MinHashKernel::Avx2: update_avx2(a, b, K, x, n, sig); break;
    default: update_reference(a, b, K, x, n, sig);
  }
}

double MinHashParams::lsh_threshold() const {
  return std::pow(1.0 / static_cast<double>(bands), 1.0 / static_cast<double>(rows));
}

void apply_preset(MinHashParams& p, const std::string& name) {
  if (name == "fineweb") {
    p.shingle = ShingleKind::Word;
    p.ngram = 5;
    p.bands = 14;
    p.rows = 8;
  } else if (name == "nemo") {
    p.shingle = ShingleKind::Char;
    p.ngram = 24;
    p.bands = 20;
    p.rows = 13;
  } else {
    opt::fail("preset", "must be fineweb or nemo, got " + echoed(name));
  }
}

MinHasher::MinHasher(const MinHashParams& params, MinHashKernel kernel)
    : params_(params), kernel_(kernel) {
  if (params.bands < 1 || params.rows < 1 || params.hashes() > 4096)
    opt::fail("bands", "and rows must be at least 1 with bands x rows at most 4096");
  if (!kernel_supported(kernel)) kernel_ = MinHashKernel::Reference;
  uint64_t state = params.seed ^ 0x6A09E667F3BCC908ULL;
  for (int k = 0; k < params.hashes(); ++k) {
    a_.push_back(splitmix64(state) | 1);
    b_.push_back(splitmix64(state));
  }
}

void MinHasher::signature(const uint64_t* shingles, size_t n, uint64_t* sig) const {
  std::fill(sig, sig + a_.size(), UINT64_MAX);
  minhash_update(kernel_, a_.data(), b_.data(), a_.size(), shingles, n, sig);
}

void MinHasher::band_keys(const uint64_t* sig, uint64_t* keys) const {
  const size_t r = static_cast<size_t>(params_.rows);
  for (size_t band = 0; band < bands(); ++band)
    keys[band] = hash64(std::string_view(reinterpret_cast<const char*>(sig + band * r), r * sizeof(uint64_t)),
                        params_.seed * 0x100000001B3ULL + band);
}

}  // namespace nlm::dedup
