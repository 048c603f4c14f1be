#!/usr/bin/env bash
# Builds llama.cpp's command-line tools (llama-bench, llama-perplexity, llama-quantize,
# llama-server) for the speed and accuracy comparisons in bench/. There is no network route to
# GitHub here, but the node-llama-cpp npm package (scripts/install-npm-peers.sh) carries the
# llama.cpp source as a git bundle; this clones it into build-peers/llama.cpp and builds CPU-only
# with the options that would download things turned off. About 10 minutes on 2 cores; does
# nothing when the tools are already built. Prints the bin folder on the last line.
#   scripts/build-llama-cpp.sh            LLAMA_CPP_DIR overrides build-peers/llama.cpp
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=node_modules/node-llama-cpp/llama/gitRelease.bundle
dir=${LLAMA_CPP_DIR:-build-peers/llama.cpp}
tools=(llama-bench llama-perplexity llama-quantize llama-server)
bin="$dir/build/bin"
have=1
for t in "${tools[@]}"; do [[ -x "$bin/$t" ]] || have=0; done
# A build from before the AMX note below is rebuilt.
grep -q "GGML_NATIVE:BOOL=OFF" "$dir/build/CMakeCache.txt" 2>/dev/null || have=0
if [[ $have -eq 1 ]]; then
  echo "build-llama-cpp: tools present"
  echo "$bin"
  exit 0
fi
if [[ ! -f $bundle ]]; then
  echo "build-llama-cpp: $bundle not found; run scripts/install-npm-peers.sh first" >&2
  exit 1
fi
if [[ ! -d $dir/.git ]]; then
  mkdir -p "$(dirname "$dir")"
  git clone --quiet "$bundle" "$dir"
fi
# Not GGML_NATIVE: on CPUs with AMX it turns on llama.cpp's AMX kernels, which crash here
# (SIGSEGV in ggml_backend_amx_mul_mat on a Q8_0 model). The x86 features are named instead.
cmake -S "$dir" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF \
  -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
  -DGGML_AVX512=$(grep -q avx512f /proc/cpuinfo && echo ON || echo OFF) \
  -DGGML_AVX512_VNNI=$(grep -q avx512_vnni /proc/cpuinfo && echo ON || echo OFF) \
  -DGGML_AVX512_BF16=$(grep -q avx512_bf16 /proc/cpuinfo && echo ON || echo OFF) \
  -DGGML_AVX512_VBMI=$(grep -q avx512vbmi /proc/cpuinfo && echo ON || echo OFF) \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON >/dev/null
cmake --build "$dir/build" -j "${JOBS:-$(nproc)}" --target "${tools[@]}"
echo "$bin"
