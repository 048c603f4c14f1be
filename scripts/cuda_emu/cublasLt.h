// CUDA header stand-in for scripts/cuda-emulate.sh (see cuda_runtime.h here).
#pragma once
typedef int cublasStatus_t;
