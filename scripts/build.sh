#!/usr/bin/env bash
# Configures and builds nativelm in Release into build/ (override with BUILD_DIR).
# Extra CMake flags come through CMAKE_ARGS, e.g. CMAKE_ARGS=-DNATIVELM_PORTABLE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
read -r -a cmake_args <<<"${CMAKE_ARGS:-}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}"
cmake --build "$BUILD_DIR" -j "$JOBS" "$@"
