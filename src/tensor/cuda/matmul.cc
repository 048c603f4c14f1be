// cuBLASLt products with a per-shape plan cache and a cublasGemmEx fallback (see matmul.h).
#include "tensor/cuda/matmul.h"

#include <cuda_bf16.h>

#include "core/error.h"
#include "tensor/cuda/cublas_loader.h"
#include "tensor/cuda/cuda_check.h"
#include "tensor/cuda/kernels.h"

namespace nlm::tensor::cuda {

namespace {
constexpr size_t kWorkspaceBytes = size_t(32) << 20;  // what cuBLAS asks for on Hopper

// The largest power of two (up to 256) that divides the address: cuBLASLt assumes 256-byte
// aligned operands unless told otherwise, and views into flat buffers may not be.
int alignment(const void* p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  int align = 256;
  while (align > 1 && a % align != 0) align /= 2;
  return align;
}
int log2i(int x) {
  int l = 0;
  while ((1 << l) < x) ++l;
  return l;
}
cublasOperation_t op(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }
size_t element_bytes(cudaDataType_t t) { return t == CUDA_R_16BF ? 2 : 4; }
// D[m,n] (leading dimension m) += bias[m] per column.
void add_bias_kernel(const Gemm& g, cudaStream_t stream) {
  if (g.d_type == CUDA_R_16BF)
    add_bias(static_cast<bf16*>(g.d), static_cast<const bf16*>(g.bias), g.n, g.m, stream);
  else
    add_bias(static_cast<float*>(g.d), static_cast<const float*>(g.bias), g.n, g.m, stream);
}
// D = bias in every column, exactly (0 + bias in D's own type). A product with β = 1 then adds
// to it in fp32 and rounds once, as the BIAS epilogue does; adding the bias after a bf16 product
// would round twice (beyond the one rounding backend.h allows a bf16 result).
void fill_with_bias(const Gemm& g, cudaStream_t stream) {
  const size_t es = element_bytes(g.d_type);
  NLM_CUDA(cudaMemset2DAsync(g.d, g.ldd * es, 0, g.m * es, g.n, stream));
  add_bias_kernel(g, stream);
}
// g with its bias already in D (fill_with_bias): a plain accumulating product.
Gemm onto_bias(const Gemm& g) {
  Gemm plain = g;
  plain.bias = nullptr;
  plain.beta = 1.0f;
  return plain;
}
}  // namespace

Matmul::~Matmul() {
  if (!lt_) return;  // never used: cuBLAS was not loaded
  const CublasApi& api = cublas();
  // Runs at most at process exit; errors (a driver already shut down) are ignored.
  for (auto& [key, p] : plans_) {
    if (p.a) api.LtMatrixLayoutDestroy(p.a);
    if (p.b) api.LtMatrixLayoutDestroy(p.b);
    if (p.d) api.LtMatrixLayoutDestroy(p.d);
    if (p.desc) api.LtMatmulDescDestroy(p.desc);
  }
  if (workspace_) cudaFree(workspace_);
  if (blas_) api.Destroy(blas_);
  if (lt_) api.LtDestroy(lt_);
}

void Matmul::init() {
  if (lt_) return;
  const CublasApi& api = cublas();
  NLM_CUBLAS(api.LtCreate(&lt_));
  NLM_CUBLAS(api.Create(&blas_));
  NLM_CUDA(cudaMalloc(&workspace_, kWorkspaceBytes));
  workspace_bytes_ = kWorkspaceBytes;
}

Matmul::Plan& Matmul::plan(const Gemm& g) {
  const int align =
      log2i(alignment(g.a)) * 100 + log2i(alignment(g.b)) * 10 + log2i(alignment(g.d));
  Key key{g.trans_a,
          g.trans_b,
          g.m,
          g.n,
          g.k,
          g.lda,
          g.ldb,
          g.ldd,
          static_cast<int>(g.ab_type),
          static_cast<int>(g.d_type),
          g.beta != 0,
          g.bias != nullptr,
          align};
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;
  Plan& p = plans_[key];
  const CublasApi& api = cublas();

  NLM_CUBLAS(api.LtMatmulDescCreate(&p.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  cublasOperation_t ta = op(g.trans_a), tb = op(g.trans_b);
  NLM_CUBLAS(api.LtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  NLM_CUBLAS(api.LtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  if (g.bias) {
    cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    cudaDataType_t bias_type = g.d_type;
    NLM_CUBLAS(api.LtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                            sizeof(epilogue)));
    NLM_CUBLAS(api.LtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type,
                                            sizeof(bias_type)));
  }
  NLM_CUBLAS(api.LtMatrixLayoutCreate(&p.a, g.ab_type, g.trans_a ? g.k : g.m, g.trans_a ? g.m : g.k,
                                      g.lda));
  NLM_CUBLAS(api.LtMatrixLayoutCreate(&p.b, g.ab_type, g.trans_b ? g.n : g.k, g.trans_b ? g.k : g.n,
                                      g.ldb));
  NLM_CUBLAS(api.LtMatrixLayoutCreate(&p.d, g.d_type, g.m, g.n, g.ldd));

  cublasLtMatmulPreference_t pref = nullptr;
  NLM_CUBLAS(api.LtMatmulPreferenceCreate(&pref));
  uint64_t ws = workspace_bytes_;
  uint32_t aa = alignment(g.a), ab = alignment(g.b), ad = alignment(g.d);
  api.LtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                     sizeof(ws));
  api.LtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &aa,
                                     sizeof(aa));
  api.LtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &ab,
                                     sizeof(ab));
  api.LtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &ad,
                                     sizeof(ad));
  api.LtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &ad,
                                     sizeof(ad));
  cublasLtMatmulHeuristicResult_t result{};
  int returned = 0;
  cublasStatus_t st =
      api.LtMatmulAlgoGetHeuristic(lt_, p.desc, p.a, p.b, p.d, p.d, pref, 1, &result, &returned);
  api.LtMatmulPreferenceDestroy(pref);
  if (st == CUBLAS_STATUS_SUCCESS && returned > 0) {
    p.algo = result.algo;
    p.usable = true;
  } else if (st != CUBLAS_STATUS_SUCCESS && st != CUBLAS_STATUS_NOT_SUPPORTED) {
    // Not "no algorithm" but descriptors in conflict: a bug here, not for the fallback to hide.
    api.LtMatrixLayoutDestroy(p.a);
    api.LtMatrixLayoutDestroy(p.b);
    api.LtMatrixLayoutDestroy(p.d);
    api.LtMatmulDescDestroy(p.desc);
    plans_.erase(key);
    check_cublas(st, "cublasLtMatmulAlgoGetHeuristic");
  }
  return p;
}

void Matmul::fallback(const Gemm& g, cudaStream_t stream) {
  const CublasApi& api = cublas();
  NLM_CUBLAS(api.SetStream(blas_, stream));
  const float alpha = 1.0f;
  NLM_CUBLAS(api.GemmEx(blas_, op(g.trans_a), op(g.trans_b), g.m, g.n, g.k, &alpha, g.a, g.ab_type,
                        g.lda, g.b, g.ab_type, g.ldb, &g.beta, g.d, g.d_type, g.ldd,
                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void Matmul::run(const Gemm& g, cudaStream_t stream) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.bias && (g.beta != 0 || g.ldd != g.m))
    runtime_error("a bias needs beta = 0 and an unpadded D (ldd == m)", "cuda matmul",
                  "this is a bug in the caller");
  init();
  if (g.k <= 0) {  // an empty sum: D = β·D (+ bias)
    const size_t es = element_bytes(g.d_type);
    if (g.bias)
      fill_with_bias(g, stream);
    else if (g.beta == 0)
      NLM_CUDA(cudaMemset2DAsync(g.d, g.ldd * es, 0, g.m * es, g.n, stream));
    return;
  }
  // A bias the epilogue may not read (misaligned) goes into D first, under an accumulating
  // product.
  if (g.bias && alignment(g.bias) < 16) {
    fill_with_bias(g, stream);
    run(onto_bias(g), stream);
    return;
  }
  Plan& p = plan(g);
  if (!p.usable) {
    if (g.bias) fill_with_bias(g, stream);
    fallback(g.bias ? onto_bias(g) : g, stream);
    return;
  }
  const CublasApi& api = cublas();
  if (g.bias)
    NLM_CUBLAS(api.LtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias,
                                            sizeof(g.bias)));
  const float alpha = 1.0f;
  cublasStatus_t st = api.LtMatmul(lt_, p.desc, &alpha, g.a, p.a, g.b, p.b, &g.beta, g.d, p.d, g.d,
                                   p.d, &p.algo, workspace_, workspace_bytes_, stream);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED) {  // the heuristic's pick refuses these operands after all
    p.usable = false;
    if (g.bias) fill_with_bias(g, stream);
    fallback(g.bias ? onto_bias(g) : g, stream);
    return;
  }
  check_cublas(st, "cublasLtMatmul");
}

}  // namespace nlm::tensor::cuda
