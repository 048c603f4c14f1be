// Host cuBLASLt/cuBLAS for scripts/cuda-emulate.sh's backend mode: what matmul.cc asks of the real
// libraries, done on the CPU after NVIDIA's documented semantics, and checked the way the real
// library checks its arguments, so a wrong transpose, leading dimension, layout or attribute in
// the backend fails here instead of passing against itself:
//  - column-major matrices; a layout gives the stored matrix (rows, cols, ld >= rows), so op(A)
//    is m×k with A stored k×m under TRANSA = T; D's layout gives m and n, and op(A), op(B) and C
//    must agree with it (CUBLAS_STATUS_INVALID_VALUE otherwise);
//  - D = alpha·op(A)·op(B) + beta·C, alpha and beta host floats (scale type CUDA_R_32F);
//  - CUBLASLT_EPILOGUE_BIAS adds a packed bias of length rows(D) to every column, of the bias
//    data type (default: D's type);
//  - attributes are refused unless their byte size is the documented one (int32_t for TRANSA/B
//    and the bias type, uint32_t for the epilogue, a pointer for the bias);
//  - every element the product reads or writes must lie inside one live cudaMalloc allocation;
//  - the heuristic returns one algorithm, and none (so the backend takes its cublasGemmEx
//    fallback) when a declared alignment is under 16 bytes or a leading dimension is not a
//    multiple of 16 bytes, as the tensor-core kernels need; cublasLtMatmul refuses operands less
//    aligned than the plan's preference said.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>

#include <cstdio>
#include <vector>

struct EmuLtContext { int magic = 0x4c74; };
struct EmuBlasContext { cudaStream_t stream = nullptr; };
struct EmuLtDesc {
  cublasComputeType_t compute;
  cudaDataType_t scale;
  int32_t transa = CUBLAS_OP_N, transb = CUBLAS_OP_N;
  uint32_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void* bias = nullptr;
  int32_t bias_type = -1;  // -1: D's type
};
struct EmuLtLayout {
  cudaDataType type;
  uint64_t rows, cols;
  int64_t ld;
};
struct EmuLtPref {
  uint64_t workspace = 0;
  uint32_t align[4] = {256, 256, 256, 256};  // A B C D
};

// How many products went through each path (backend_emu_main.cc checks both were taken).
int emu_lt_products = 0, emu_gemmex_products = 0, emu_bias_epilogues = 0;

namespace {
size_t bytes_of(int t) { return t == CUDA_R_32F ? 4 : 2; }
bool known_type(int t) { return t == CUDA_R_32F || t == CUDA_R_16BF; }
float load(const void* p, int t, size_t i) {
  if (t == CUDA_R_32F) return static_cast<const float*>(p)[i];
  return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
}
void store(void* p, int t, size_t i, float v) {
  if (t == CUDA_R_32F)
    static_cast<float*>(p)[i] = v;
  else
    static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v);
}
// The stored matrix (rows×cols, column-major, ld) lies in one allocation.
bool in_memory(const void* p, int type, uint64_t rows, uint64_t cols, int64_t ld) {
  if (rows == 0 || cols == 0) return true;
  const size_t last = (cols - 1) * size_t(ld) + rows;  // elements up to and including the last
  return p && emu_is_device(p, last * bytes_of(type));
}
cublasStatus_t refuse(const char* why) {
  std::fprintf(stderr, "cuBLAS emulation: %s\n", why);
  return CUBLAS_STATUS_INVALID_VALUE;
}
int alignment(const void* p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  int align = 256;
  while (align > 1 && a % align != 0) align /= 2;
  return align;
}

struct Product {
  bool ta, tb;
  int64_t m, n, k;
  const void* a; int at; int64_t lda;
  const void* b; int bt; int64_t ldb;
  float alpha, beta;
  const void* c; int ct; int64_t ldc;
  void* d; int dt; int64_t ldd;
  const void* bias = nullptr; int bias_t = CUDA_R_32F;
};
// D = alpha·op(A)·op(B) + beta·C (+ bias), fp32 accumulation; C may be D itself.
void compute(const Product& p) {
  std::vector<float> out(size_t(p.m) * p.n);
  for (int64_t j = 0; j < p.n; ++j)
    for (int64_t i = 0; i < p.m; ++i) {
      float acc = 0;
      for (int64_t l = 0; l < p.k; ++l) {
        const size_t ai = p.ta ? size_t(i) * p.lda + l : size_t(l) * p.lda + i;
        const size_t bi = p.tb ? size_t(l) * p.ldb + j : size_t(j) * p.ldb + l;
        acc += load(p.a, p.at, ai) * load(p.b, p.bt, bi);
      }
      float v = p.alpha * acc;
      // beta == 0: C is not read (it may hold NaN), as BLAS specifies.
      if (p.beta != 0) v += p.beta * load(p.c, p.ct, size_t(j) * p.ldc + i);
      if (p.bias) v += load(p.bias, p.bias_t, size_t(i));
      out[size_t(j) * p.m + i] = v;
    }
  for (int64_t j = 0; j < p.n; ++j)
    for (int64_t i = 0; i < p.m; ++i) store(p.d, p.dt, size_t(j) * p.ldd + i, out[size_t(j) * p.m + i]);
}
}  // namespace

cublasStatus_t cublasLtCreate(cublasLtHandle_t* h) { *h = new EmuLtContext; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasLtDestroy(cublasLtHandle_t h) { delete h; return CUBLAS_STATUS_SUCCESS; }
const char* cublasLtGetStatusString(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS (emulated)";
  }
}
cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* d, cublasComputeType_t c, cudaDataType_t s) {
  if (c != CUBLAS_COMPUTE_32F || s != CUDA_R_32F) return refuse("only fp32 compute and scale types are emulated");
  *d = new EmuLtDesc{c, s};
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) { delete d; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr,
                                              const void* buf, size_t size) {
  switch (attr) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
    case CUBLASLT_MATMUL_DESC_TRANSB: {
      if (size != sizeof(int32_t)) return refuse("TRANSA/TRANSB take an int32_t");
      int32_t v;
      std::memcpy(&v, buf, 4);
      if (v != CUBLAS_OP_N && v != CUBLAS_OP_T) return refuse("bad cublasOperation_t");
      (attr == CUBLASLT_MATMUL_DESC_TRANSA ? d->transa : d->transb) = v;
      return CUBLAS_STATUS_SUCCESS;
    }
    case CUBLASLT_MATMUL_DESC_EPILOGUE: {
      if (size != sizeof(uint32_t)) return refuse("EPILOGUE takes a uint32_t");
      std::memcpy(&d->epilogue, buf, 4);
      if (d->epilogue != CUBLASLT_EPILOGUE_DEFAULT && d->epilogue != CUBLASLT_EPILOGUE_BIAS)
        return refuse("only the DEFAULT and BIAS epilogues are emulated");
      return CUBLAS_STATUS_SUCCESS;
    }
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
      if (size != sizeof(void*)) return refuse("BIAS_POINTER takes a pointer");
      std::memcpy(&d->bias, buf, sizeof(void*));
      return CUBLAS_STATUS_SUCCESS;
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE:
      if (size != sizeof(int32_t)) return refuse("BIAS_DATA_TYPE takes an int32_t");
      std::memcpy(&d->bias_type, buf, 4);
      if (!known_type(d->bias_type)) return refuse("bias type");
      return CUBLAS_STATUS_SUCCESS;
  }
  return refuse("unknown matmul descriptor attribute");
}
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* l, cudaDataType t, uint64_t rows,
                                          uint64_t cols, int64_t ld) {
  if (!known_type(t)) return refuse("layout type");
  if (ld < int64_t(rows) || ld < 1) return refuse("column-major leading dimension below the row count");
  *l = new EmuLtLayout{t, rows, cols, ld};
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) { delete l; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* p) { *p = new EmuLtPref; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) { delete p; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p,
                                                    cublasLtMatmulPreferenceAttributes_t attr,
                                                    const void* buf, size_t size) {
  if (attr == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES) {
    if (size != sizeof(uint64_t)) return refuse("MAX_WORKSPACE_BYTES takes a uint64_t");
    std::memcpy(&p->workspace, buf, 8);
    return CUBLAS_STATUS_SUCCESS;
  }
  const int i = attr - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES;
  if (i < 0 || i > 3) return refuse("unknown preference attribute");
  if (size != sizeof(uint32_t)) return refuse("MIN_ALIGNMENT_*_BYTES take a uint32_t");
  std::memcpy(&p->align[i], buf, 4);
  return CUBLAS_STATUS_SUCCESS;
}

namespace {
// The shape checks cublasLtMatmul and the heuristic share: m, n, k from the layouts.
cublasStatus_t shapes(const EmuLtDesc* desc, const EmuLtLayout* a, const EmuLtLayout* b,
                      const EmuLtLayout* c, const EmuLtLayout* d, int64_t& m, int64_t& n, int64_t& k) {
  if (!desc || !a || !b || !c || !d) return refuse("null descriptor");
  m = int64_t(d->rows), n = int64_t(d->cols);
  const int64_t am = desc->transa == CUBLAS_OP_T ? a->cols : a->rows;
  k = desc->transa == CUBLAS_OP_T ? a->rows : a->cols;
  const int64_t bk = desc->transb == CUBLAS_OP_T ? b->cols : b->rows;
  const int64_t bn = desc->transb == CUBLAS_OP_T ? b->rows : b->cols;
  if (am != m) return refuse("op(A) has not the rows of D");
  if (bk != k) return refuse("op(A) columns differ from op(B) rows");
  if (bn != n) return refuse("op(B) has not the columns of D");
  if (c->rows != d->rows || c->cols != d->cols || c->type != d->type || c->ld != d->ld)
    return refuse("C and D layouts differ (in-place C = D needs identical layouts)");
  if (a->type != b->type) return refuse("A and B types differ");
  if (!(d->type == a->type || (a->type == CUDA_R_16BF && d->type == CUDA_R_32F)))
    return refuse("unsupported A/B -> D type combination");
  if (desc->epilogue == CUBLASLT_EPILOGUE_BIAS && desc->bias_type != -1 && desc->bias_type != d->type &&
      !(desc->bias_type == CUDA_R_32F))
    return refuse("bias type must be D's type (or fp32)");
  return CUBLAS_STATUS_SUCCESS;
}
}  // namespace

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t h, cublasLtMatmulDesc_t desc,
                                              cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                              cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                              cublasLtMatmulPreference_t pref, int requested,
                                              cublasLtMatmulHeuristicResult_t results[], int* returned) {
  if (!h || !pref || requested < 1 || !results || !returned) return refuse("heuristic arguments");
  int64_t m, n, k;
  if (cublasStatus_t st = shapes(desc, a, b, c, d, m, n, k)) return st;
  *returned = 0;
  for (uint32_t al : pref->align)
    if (al < 16) return CUBLAS_STATUS_NOT_SUPPORTED;  // no tensor-core kernel takes it
  for (const EmuLtLayout* l : {a, b, d})
    if (l->ld * bytes_of(l->type) % 16 != 0) return CUBLAS_STATUS_NOT_SUPPORTED;
  results[0] = {};
  results[0].algo.data[0] = 0xa160;
  for (int i = 0; i < 4; ++i) results[0].algo.data[1 + i] = pref->align[i];
  results[0].workspaceSize = std::min<uint64_t>(pref->workspace, 1 << 20);
  results[0].state = CUBLAS_STATUS_SUCCESS;
  *returned = 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t h, cublasLtMatmulDesc_t desc, const void* alpha,
                              const void* A, cublasLtMatrixLayout_t Adesc, const void* B,
                              cublasLtMatrixLayout_t Bdesc, const void* beta, const void* C,
                              cublasLtMatrixLayout_t Cdesc, void* D, cublasLtMatrixLayout_t Ddesc,
                              const cublasLtMatmulAlgo_t* algo, void* workspace,
                              size_t workspaceSize, cudaStream_t) {
  if (!h || !alpha || !beta) return refuse("null handle or scalars");
  int64_t m, n, k;
  if (cublasStatus_t st = shapes(desc, Adesc, Bdesc, Cdesc, Ddesc, m, n, k)) return st;
  if (!algo || algo->data[0] != 0xa160) return refuse("algorithm not from the heuristic");
  if (workspaceSize > 0 && !emu_is_device(workspace, workspaceSize)) return refuse("workspace not device memory");
  const void* ops[4] = {A, B, C, D};
  for (int i = 0; i < 4; ++i)
    if (uint64_t(alignment(ops[i])) < algo->data[1 + i])
      return refuse("an operand is less aligned than the heuristic was told");
  if (!in_memory(A, Adesc->type, Adesc->rows, Adesc->cols, Adesc->ld)) return refuse("A beyond its allocation");
  if (!in_memory(B, Bdesc->type, Bdesc->rows, Bdesc->cols, Bdesc->ld)) return refuse("B beyond its allocation");
  if (!in_memory(C, Cdesc->type, Cdesc->rows, Cdesc->cols, Cdesc->ld)) return refuse("C beyond its allocation");
  if (!in_memory(D, Ddesc->type, Ddesc->rows, Ddesc->cols, Ddesc->ld)) return refuse("D beyond its allocation");
  Product p{desc->transa == CUBLAS_OP_T, desc->transb == CUBLAS_OP_T, m, n, k,
            A, Adesc->type, Adesc->ld, B, Bdesc->type, Bdesc->ld,
            *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
            C, Cdesc->type, Cdesc->ld, D, Ddesc->type, Ddesc->ld};
  if (desc->epilogue == CUBLASLT_EPILOGUE_BIAS) {
    p.bias_t = desc->bias_type == -1 ? Ddesc->type : desc->bias_type;
    if (!desc->bias || !emu_is_device(desc->bias, size_t(m) * bytes_of(p.bias_t)))
      return refuse("BIAS epilogue without a device bias of rows(D) elements");
    p.bias = desc->bias;
    ++emu_bias_epilogues;
  }
  ++emu_lt_products;
  compute(p);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasCreate_v2(cublasHandle_t* h) { *h = new EmuBlasContext; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasDestroy_v2(cublasHandle_t h) { delete h; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetStream_v2(cublasHandle_t h, cudaStream_t s) { h->stream = s; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t transa, cublasOperation_t transb, int m,
                            int n, int k, const void* alpha, const void* A, cudaDataType Atype, int lda,
                            const void* B, cudaDataType Btype, int ldb, const void* beta, void* C,
                            cudaDataType Ctype, int ldc, cublasComputeType_t compute_type, cublasGemmAlgo_t) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  // The argument checks of the cublasGemmEx documentation.
  if (m < 0 || n < 0 || k < 0) return refuse("GemmEx: negative size");
  if (lda < std::max(1, transa == CUBLAS_OP_N ? m : k)) return refuse("GemmEx: lda too small");
  if (ldb < std::max(1, transb == CUBLAS_OP_N ? k : n)) return refuse("GemmEx: ldb too small");
  if (ldc < std::max(1, m)) return refuse("GemmEx: ldc too small");
  if (compute_type != CUBLAS_COMPUTE_32F) return refuse("GemmEx: compute type");
  if (Atype != Btype || !(Ctype == Atype || (Atype == CUDA_R_16BF && Ctype == CUDA_R_32F)))
    return CUBLAS_STATUS_NOT_SUPPORTED;
  const bool ta = transa == CUBLAS_OP_T, tb = transb == CUBLAS_OP_T;
  if (!in_memory(A, Atype, ta ? k : m, ta ? m : k, lda)) return refuse("GemmEx: A beyond its allocation");
  if (!in_memory(B, Btype, tb ? n : k, tb ? k : n, ldb)) return refuse("GemmEx: B beyond its allocation");
  if (!in_memory(C, Ctype, m, n, ldc)) return refuse("GemmEx: C beyond its allocation");
  Product p{ta, tb, m, n, k, A, Atype, lda, B, Btype, ldb,
            *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
            C, Ctype, ldc, C, Ctype, ldc};
  ++emu_gemmex_products;
  compute(p);
  return CUBLAS_STATUS_SUCCESS;
}
