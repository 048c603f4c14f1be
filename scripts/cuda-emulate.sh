#!/usr/bin/env bash
# Runs the CUDA backend's own kernel source (src/tensor/cuda/*.cu) on CPU threads and compares
# with the CPU reference, for machines without a GPU (only g++ and perl needed): the index arithmetic,
# masks, reductions, online softmax, split-K merge and backward passes of the real code get
# checked, not a re-implementation. Stand-in CUDA headers in scripts/cuda_emu/ (one OS thread per
# CUDA thread, barriers for __syncthreads and shuffles, NaN-filled shared memory). Not a
# substitute for the GPU tests (no tensor cores, no memory model, no timing, no real cuBLASLt).
#   scripts/cuda-emulate.sh [ops|attention|backend|all] [--all] [--only=NAME] [gtest flags]
#     ops        the fused kernels of kernels.h (tens of seconds)
#     attention  the flash-attention kernels (about a minute)
#     backend    CudaBackend itself as "cuda:0" (memory, uploads and downloads with dtype
#                conversion, dispatch, shape checks, attention state, device errors, and the
#                cuBLASLt/cublasGemmEx plumbing of matmul.cc through the host cuBLAS of
#                scripts/cuda_emu/cublas_emu.cc), driven by the real tests cuda_ops_test.cc and
#                ops_bf16_test.cc (with the chunked classifier, src/model/classifier.cc, on top of
#                the backend); further arguments go to gtest (a few minutes; needs libgtest,
#                OpenBLAS and OpenMP like the main build)
#     all        ops and attention (default)
#     --all      larger shapes too (several minutes)
#     --only=NAME  ops: only the groups whose name contains NAME (e.g. rmsnorm, cross_entropy)
# CUDA_EMU_SRC=DIR takes the kernel sources, and in backend mode cuda_backend.cc, matmul.cc and
# cuda_check.cc, from DIR (a mutation check: a planted bug must fail).
# Needs g++ (C++20). Exit status 1 on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case "$what" in ops|attention|backend|all) [ $# -gt 0 ] && shift ;; --*) what=all ;; *) echo "usage: $0 [ops|attention|backend|all] [--all]" >&2; exit 2 ;; esac
work=${CUDA_EMU_WORK:-$(mktemp -d)}
[ -n "${CUDA_EMU_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/tensor/cuda"
src=${CUDA_EMU_SRC:-src/tensor/cuda}  # a mutation check points this at a patched copy
# The two rewrites g++ needs: dynamic shared memory declarations, and <<<...>>> launches.
for f in "$src"/*.cu "$src"/*.cuh; do
  perl -0777 -pe 's/extern __shared__ (?:__align__\(\d+\) )?float (\w+)\[\];/float* $1 = reinterpret_cast<float*>(emu_dyn_smem);/g;
                  s/(\w+(?:<[^<>]*>)?)<<<(.*?)>>>\(/emu_launch([&](auto... emu_a) { $1(emu_a...); }, $2, /gs' \
    "$f" >"$work/src/tensor/cuda/$(basename "$f")"
done
# embedding_backward's host-side grouping, taken from the backend's source as it is.
{
  echo '#pragma once'
  echo '#include <algorithm>'
  echo '#include <cstdint>'
  echo '#include <vector>'
  echo 'namespace nlm::tensor::cuda {'
  perl -0777 -ne 'print $1 if /^(struct IdGroups \{.*?^\};)/ms' src/tensor/cuda/cuda_backend.h
  echo
  perl -0777 -ne 'print "inline $1" if /^(IdGroups group_by_id\(.*?^\})/ms' src/tensor/cuda/cuda_backend.cc
  echo
  echo '}'
} >"$work/src/tensor/cuda/cuda_backend_groups.h"
grep -q group_by_id "$work/src/tensor/cuda/cuda_backend_groups.h" || { echo "group_by_id not found in cuda_backend.cc" >&2; exit 1; }
cxx="${CXX_EMU:-g++} -std=c++20 -O1 -pthread -w -I scripts/cuda_emu -I $work/src -I src"
status=0
if [ "$what" = backend ]; then
  # The backend's own host code against the stand-in runtime and cuBLAS, with the library parts
  # the tests need; CUDA builds' define so the registry finds "cuda:0" through device_backends().
  bcxx="$cxx -fopenmp -DNATIVELM_HAS_CUDA -I tests -I tests/tensor"
  mkdir -p "$work/obj"
  units=()
  for f in elementwise reduce rmsnorm rope embedding classifier flash_attention_forward flash_attention_backward; do
    units+=("-x c++ $work/src/tensor/cuda/$f.cu")
  done
  for f in cuda_backend matmul cuda_check; do units+=("$src/$f.cc"); done
  for f in scripts/cuda_emu/cublas_emu.cc scripts/cuda_emu/cublas_loader_emu.cc \
           scripts/cuda_emu/backend_emu_main.cc src/tensor/*.cc src/tensor/cpu/*.cc \
           src/core/error.cc src/core/runtime.cc src/core/log.cc src/model/classifier.cc tests/message_check_env.cc \
           tests/tensor/cuda_ops_test.cc tests/tensor/ops_bf16_test.cc; do
    units+=("$f")
  done
  printf '%s\n' "${units[@]}" | nl -nln | xargs -P "${JOBS:-2}" -L1 sh -c \
    "$bcxx -c \$2 \${3:-} \${4:-} -o $work/obj/\$1.o" sh
  $bcxx -o "$work/backend_emu" "$work"/obj/*.o -lgtest -lopenblas
  "$work/backend_emu" "$@" || status=1
  exit $status
fi
if [ "$what" != attention ]; then
  echo "== ops"
  objs=() pids=()
  for f in elementwise reduce rmsnorm rope embedding classifier; do
    $cxx -c -x c++ "$work/src/tensor/cuda/$f.cu" -o "$work/$f.o" & objs+=("$work/$f.o") pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  $cxx -o "$work/ops_emu" scripts/cuda_emu/ops_emu_main.cc "${objs[@]}" src/tensor/cpu/reference.cc src/core/error.cc
  "$work/ops_emu" "$@" || status=1
fi
if [ "$what" != ops ]; then
  echo "== attention"
  $cxx -o "$work/attention_emu" scripts/cuda_emu/attention_emu_main.cc \
    -x c++ "$work/src/tensor/cuda/flash_attention_forward.cu" "$work/src/tensor/cuda/flash_attention_backward.cu" \
    -x none src/tensor/cpu/reference.cc src/tensor/cpu/kernels_attention.cc src/core/error.cc
  "$work/attention_emu" "$@" || status=1
fi
exit $status
