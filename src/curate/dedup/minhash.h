// MinHash signatures and LSH band keys. Hash k of a shingle x is the permutation
// h_k(x) = a_k·x + b_k (mod 2^64), a_k odd; signature[k] = min over shingles of h_k. Two texts
// agree on signature[k] with probability equal to the Jaccard similarity of their shingle sets.
// The kernel has a plain reference version and AVX2 / AVX-512 versions that the tests compare
// against it; signature() picks the best one the CPU runs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "curate/dedup/options.h"

namespace nlm::dedup {

enum class MinHashKernel { Reference, Avx2, Avx512 };
const char* kernel_name(MinHashKernel k);
// The fastest kernel this CPU supports.
MinHashKernel best_kernel();
bool kernel_supported(MinHashKernel k);

// sig[k] = min(sig[k], a[k]·x[i] + b[k]) over i < n, for k < K. Shapes: a, b, sig: [K]; x: [n].
void minhash_update(MinHashKernel kernel, const uint64_t* a, const uint64_t* b, size_t K,
                    const uint64_t* x, size_t n, uint64_t* sig);

class MinHasher {
 public:
  explicit MinHasher(const MinHashParams& params, MinHashKernel kernel = best_kernel());
  size_t hashes() const { return a_.size(); }
  size_t bands() const { return static_cast<size_t>(params_.bands); }
  // sig: [hashes()], all UINT64_MAX for an empty shingle list.
  void signature(const uint64_t* shingles, size_t n, uint64_t* sig) const;
  // keys: [bands()]; key b hashes rows [b·r, (b+1)·r) of the signature with a per-band seed.
  void band_keys(const uint64_t* sig, uint64_t* keys) const;

 private:
  MinHashParams params_;
  MinHashKernel kernel_;
  std::vector<uint64_t> a_, b_;
};

}  // namespace nlm::dedup
