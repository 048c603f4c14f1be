#!/usr/bin/env bash
# Builds nativelm with ASan+UBSan (NATIVELM_SANITIZE=ON; the compiler CMake finds, or $CXX; CUDA
# off, since nvcc takes no sanitizer) into build-asan/ (override with SANITIZE_BUILD_DIR) and runs
# test suites under it; any memory error or undefined behaviour fails the test that hit it.
# Arguments are test binaries to build and run (default: all), e.g.
#   scripts/sanitize.sh test_core test_corpus test_data
# SANITIZE_BUILD_DIR=build-fuzz reuses the fuzz build of scripts/fuzz.sh (clang, already built
# with ASan+UBSan), so CI compiles the library once for both.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SANITIZE_BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}
targets=("$@")

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNATIVELM_SANITIZE=ON -DNATIVELM_CUDA:STRING=OFF -DNATIVELM_TESTS=ON \
  -DNATIVELM_BENCH=OFF >/dev/null
start=$(date +%s)
if [[ ${#targets[@]} -gt 0 ]]; then
  cmake --build "$BUILD" -j "$JOBS" --target nativelm "${targets[@]}"
else
  cmake --build "$BUILD" -j "$JOBS"
fi
echo "sanitize: build took $(( $(date +%s) - start )) s"

# Leak checking stays off: OpenMP, OpenBLAS and ICU keep process-lifetime allocations that
# LeakSanitizer reports; the memory-safety and UB checks are what this run is for.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD"
start=$(date +%s)
if [[ ${#targets[@]} -gt 0 ]]; then
  for t in "${targets[@]}"; do
    echo "sanitize: $t"
    "./$t" --gtest_brief=1
  done
else
  ctest --output-on-failure -j "$JOBS" --timeout 1800
fi
echo "sanitize: tests took $(( $(date +%s) - start )) s"
