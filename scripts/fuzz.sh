#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/*.cc) with clang, ASan and UBSan into build-fuzz/ (override
# with FUZZ_BUILD_DIR), writes the seed corpora (fuzz/make_seeds.py) and runs every harness for
# SECONDS each (default 30), one after another. Fails when any harness finds a crash, a sanitizer
# report, a timeout or an exception other than nlm::Error; the input that did it is saved as
# FUZZ_BUILD_DIR/findings/<harness>-crash-*. Prints the executions per harness.
#   scripts/fuzz.sh [SECONDS]         FUZZ_ONLY="fuzz_jsonl fuzz_warc" limits the harnesses.
# Every input under fuzz/findings/<harness>/ (past findings, fixed) is replayed first, so a fix that
# regresses fails here. FUZZ_SEED fixes libFuzzer's random seed (CI sets it, so that a landing is
# not decided by which mutants one run happened to draw); unset, each run draws a new one.
# FUZZ_TIMEOUT (default 25) is libFuzzer's wall-clock limit per input in seconds; raise it when
# several campaigns share a loaded machine, where wall time runs far ahead of CPU time.
# Reproduce a finding: build-fuzz/fuzz_warc build-fuzz/findings/fuzz_warc-crash-<sha1>
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-30}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
CXX_FUZZ=${CXX_FUZZ:-clang++-14}
CC_FUZZ=${CC_FUZZ:-clang-14}

harnesses=()
for src in fuzz/*.cc; do harnesses+=("$(basename "$src" .cc)"); done
if [[ -n "${FUZZ_ONLY:-}" ]]; then read -r -a harnesses <<<"$FUZZ_ONLY"; fi

# A fresh folder gets clang and no tests; an existing one keeps its settings (scripts/sanitize.sh
# may have turned its tests on, so one instrumented build serves both).
fresh=()
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  fresh=(-DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DCMAKE_C_COMPILER="$CC_FUZZ" -DNATIVELM_TESTS=OFF -DNATIVELM_BENCH=OFF)
fi
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNATIVELM_FUZZ=ON -DNATIVELM_CUDA:STRING=OFF "${fresh[@]}" >/dev/null
start=$(date +%s)
cmake --build "$BUILD" -j "$JOBS" --target "${harnesses[@]}"
echo "fuzz: build took $(( $(date +%s) - start )) s"

python3 fuzz/make_seeds.py "$BUILD/seeds" >/dev/null
mkdir -p "$BUILD/findings" "$BUILD/logs"

failed=()
summary=()
for h in "${harnesses[@]}"; do
  mkdir -p "$BUILD/corpus/$h"
  log="$BUILD/logs/$h.log"
  echo "fuzz: $h for ${SECONDS_EACH} s"
  # -close_fd_mask=3 silences the library's warnings on stdout/stderr; libFuzzer and the
  # sanitizers still report through their own copy of stderr, which goes to the log.
  replay=()
  if [[ -d "fuzz/findings/$h" ]]; then replay=("fuzz/findings/$h"); fi
  seed=()
  if [[ -n "${FUZZ_SEED:-}" ]]; then seed=(-seed="$FUZZ_SEED"); fi
  set +e
  "$BUILD/$h" "${seed[@]}" -max_total_time="$SECONDS_EACH" -timeout="${FUZZ_TIMEOUT:-25}" -rss_limit_mb=2560 -close_fd_mask=3 \
    -print_final_stats=1 -artifact_prefix="$BUILD/findings/$h-" \
    "$BUILD/corpus/$h" "$BUILD/seeds/$h" "${replay[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 | grep -oE '[0-9]+' || true)
  line=$(printf '%-22s %10s execs  cov %-6s' "$h" "${runs:-?}" "${cov:-?}")
  if [[ $rc -ne 0 ]]; then
    failed+=("$h")
    line+="  FAILED (rc $rc): see $log"
    grep -E 'ERROR: |SUMMARY: |runtime error|uncaught|Test unit written' "$log" | head -n 8 || true
  fi
  summary+=("$line")
done

echo "fuzz: executions per harness (${SECONDS_EACH} s each)"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: ${#failed[@]} harness(es) found problems: ${failed[*]}; inputs in $BUILD/findings/" >&2
  exit 1
fi
echo "fuzz: no findings"
