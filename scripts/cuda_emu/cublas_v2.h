// cuBLAS header stand-in for scripts/cuda-emulate.sh: all of it lives in cublasLt.h here.
#pragma once
#include "cublasLt.h"
