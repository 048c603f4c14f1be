#!/usr/bin/env bash
# Runs the CUDA attention kernels' own source (src/tensor/cuda/flash_attention_*.cu) on CPU
# threads and compares them with the CPU reference, for machines with nvcc but no GPU: the index
# arithmetic, masks, online softmax, split-K merge and backward of the real code get checked,
# not a re-implementation. Not a substitute for tests/tensor/cuda_attention_test.cc on a GPU
# (no tensor cores, no memory model, no timing). Slow (one OS thread per CUDA thread): about a
# minute, several with --all. Not part of ctest.
#   scripts/cuda-emulate-attention.sh [--all]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/tensor/cuda"
# The two rewrites g++ needs: the dynamic shared memory declaration, and <<<...>>> launches.
for f in flash_attention_forward.cu flash_attention_backward.cu flash_attention_common.cuh kernel_util.cuh; do
  perl -0777 -pe 's/extern __shared__ __align__\(16\) float smem\[\];/float* smem = reinterpret_cast<float*>(emu_dyn_smem);/g;
                  s/(\w+(?:<[^<>]*>)?)<<<(.*?)>>>\(/emu_launch($1, $2, /gs' \
    "src/tensor/cuda/$f" >"$work/src/tensor/cuda/$f"
done
g++ -std=c++20 -O1 -pthread -w -I scripts/cuda_emu -I "$work/src" -I src -o "$work/attention_emu" \
  scripts/cuda_emu/attention_emu_main.cc \
  -x c++ "$work/src/tensor/cuda/flash_attention_forward.cu" "$work/src/tensor/cuda/flash_attention_backward.cu" \
  -x none src/tensor/cpu/reference.cc src/tensor/cpu/kernels_attention.cc src/core/error.cc
"$work/attention_emu" "$@"
