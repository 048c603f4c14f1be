#!/usr/bin/env bash
# The one command that verifies the CUDA backend on a machine with an NVIDIA GPU (issue 17): it
# builds with CUDA, runs every GPU test (and fails if they skipped), compares CPU and GPU losses
# over 20 training steps, checks that 2 ranks give the losses of 1 rank and that a checkpoint
# resumes on another rank count, and runs the GPU benchmarks. Meant to finish in under 10
# minutes on one GPU; each part prints PASS or FAIL, and the exit status is the number of FAILs.
#   scripts/gpu-check.sh            (BUILD_DIR=build-cuda, CUDA_ARCH=90, WORK=/tmp/nativelm-gpu-check)
# Set SKIP_BUILD=1 to reuse a build, SKIP_BENCH=1 to leave out the benchmarks.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build-cuda}
WORK=${WORK:-/tmp/nativelm-gpu-check}
ARCH=${CUDA_ARCH:-90}
NLM="$BUILD/nativelm"
# DEV=cpu (with SKIP_BUILD=1 NO_GPU_OK=1) dry-runs this script's own logic on a machine without a GPU.
DEV=${DEV:-cuda}
fails=0
pass() { echo "gpu-check: PASS $*"; }
fail() { echo "gpu-check: FAIL $*"; fails=$((fails + 1)); }
# mpirun as root needs these; two ranks on one GPU are two processes sharing it.
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --mca pml ob1 --mca btl self,vader -np 2)

if [[ -z "${NO_GPU_OK:-}" ]] && ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU visible (nvidia-smi -L failed); nothing to check" >&2
  exit 1
fi
nvidia-smi -L 2>/dev/null || true

# ---- 1. build ------------------------------------------------------------------------------
if [[ -z "${SKIP_BUILD:-}" ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNATIVELM_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$ARCH" >/dev/null || { echo "gpu-check: configure failed" >&2; exit 1; }
  ninja -C "$BUILD" || { echo "gpu-check: build failed" >&2; exit 1; }
fi
"$NLM" version

# ---- 2. kernel tests: every op against the CPU reference, fp32 and bf16 ---------------------
# The GPU tests skip with "no CUDA device" when they cannot see one: here that is a failure.
log="$WORK/tests.log"
mkdir -p "$WORK"
(cd "$BUILD" && ctest --output-on-failure -R 'cuda|Cuda|Ops' -LE cuda_emulation -j 4) >"$log" 2>&1
rc=$?
skipped=$(grep -E '(cuda|Cuda).*\(?Skipped' "$log" | grep -v 'fake' | wc -l)
if [[ $rc -ne 0 ]]; then
  fail "GPU kernel tests (see $log)"
  tail -40 "$log"
elif [[ $skipped -gt 0 ]]; then
  fail "GPU kernel tests: $skipped CUDA test(s) skipped although a GPU is visible (see $log)"
  grep -E '(cuda|Cuda).*\(?Skipped' "$log" | grep -v fake | head -5
else
  pass "GPU kernel tests ($(grep -c 'Passed' "$log") test entries)"
fi
# The gtest binary run directly too, so a skip inside a ctest entry shows its reason.
"$BUILD/test_tensor" --gtest_filter='*cuda*:*Cuda*' --gtest_brief=1 >"$WORK/test_tensor.log" 2>&1 ||
  fail "test_tensor on cuda (see $WORK/test_tensor.log)"
if grep -q "no CUDA device" "$WORK/test_tensor.log"; then
  fail "test_tensor: CUDA tests skipped: $(grep -m1 'no CUDA device' "$WORK/test_tensor.log")"
fi

# ---- 3. a small corpus, tokenizer and shards -------------------------------------------------
data="$WORK/data"
if [[ ! -f "$data/tok/manifest.json" ]]; then
  rm -rf "$data" && mkdir -p "$data"
  cat /usr/share/common-licenses/* >"$data/text.txt"
  "$NLM" -q tokenizer train "$data/text.txt" -o "$data/tokenizer" --vocab-size 2048
  "$NLM" -q tokenize "$data/text.txt" -t "$data/tokenizer" -o "$data/tok" --val-fraction 0.05
fi
train_args=(--train "$data/tok" --tokenizer "$data/tokenizer" --model-vocab-size 2048
  --model-hidden-size 256 --model-intermediate-size 704 --model-num-hidden-layers 4
  --model-num-attention-heads 4 --model-num-key-value-heads 2 --batch-size 8 --seq-len 256
  --grad-accum 2 --steps 20 --warmup-steps 5 --lr 1e-3 --log-every 5 --eval-every 0
  --checkpoint-every 10 --seed 7)
# Largest |a-b|/max(1,|a|) between two runs' per-step losses, against a relative tolerance.
compare() { python3 - "$1" "$2" "$3" <<'PY'
import json, sys
def read(d):
    out = {}
    for line in open(d + "/metrics.jsonl"):
        r = json.loads(line)
        if "loss" in r and "step" in r:  # training steps (evals log eval_loss)
            out[r["step"]] = r["loss"]
    return out
a, b, tol = read(sys.argv[1]), read(sys.argv[2]), float(sys.argv[3])
steps = sorted(set(a) & set(b))
worst = max((abs(a[s] - b[s]) / max(1.0, abs(a[s])) for s in steps), default=float("inf"))
print(f"{len(steps)} steps compared, largest relative loss difference {worst:.5f} (tolerance {tol})")
sys.exit(0 if steps and worst <= tol else 1)
PY
}

rm -rf "$WORK"/{cpu,cpu16,gpu,gpu32,r2,resume}

# ---- 4. CPU and GPU losses agree over 20 steps -------------------------------------------
# fp32 against fp32 closely; bf16 against the CPU's bf16 path (the same rounding points) within
# 1 %, since 20 steps of bf16 drift a few tenths of a percent from fp32 either way.
"$NLM" -q train "${train_args[@]}" --device cpu --precision fp32 -o "$WORK/cpu" &&
  "$NLM" -q train "${train_args[@]}" --device "$DEV" --precision fp32 -o "$WORK/gpu32" &&
  compare "$WORK/cpu" "$WORK/gpu32" 0.001 && pass "CPU fp32 vs GPU fp32 losses" ||
  fail "CPU fp32 vs GPU fp32 losses"
"$NLM" -q train "${train_args[@]}" --device cpu --precision bf16 -o "$WORK/cpu16" &&
  "$NLM" -q train "${train_args[@]}" --device "$DEV" --precision bf16 -o "$WORK/gpu" &&
  compare "$WORK/cpu16" "$WORK/gpu" 0.01 && pass "CPU bf16 vs GPU bf16 losses" ||
  fail "CPU bf16 vs GPU bf16 losses"
compare "$WORK/cpu" "$WORK/gpu" 1 || true  # for the record: GPU bf16 against CPU fp32

# ---- 5. 2 ranks on one GPU give the losses of 1 rank; resume on another rank count ---------
"${MPIRUN[@]}" "$NLM" -q train "${train_args[@]}" --device "$DEV" --precision fp32 -o "$WORK/r2" &&
  compare "$WORK/gpu32" "$WORK/r2" 0.001 && pass "2 ranks (NCCL) vs 1 rank" ||
  fail "2 ranks (NCCL) vs 1 rank"
# Stop the 2-rank run at step 10 (its checkpoint), then resume it on 1 rank to step 20.
rm -rf "$WORK/resume" && cp -r "$WORK/r2" "$WORK/resume" &&
  rm -rf "$WORK/resume/checkpoints/step-00000020" "$WORK/resume/model" &&
  python3 - "$WORK/resume/metrics.jsonl" <<'PY' &&
import json, sys
p = sys.argv[1]
keep = [l for l in open(p) if json.loads(l).get("step", 0) <= 10]
open(p, "w").writelines(keep)
PY
  "$NLM" -q train "${train_args[@]}" --device "$DEV" --precision fp32 --resume -o "$WORK/resume" &&
  compare "$WORK/r2" "$WORK/resume" 0.001 && pass "2-rank checkpoint resumed on 1 rank" ||
  fail "2-rank checkpoint resumed on 1 rank"

# ---- 6. inference on the GPU -----------------------------------------------------------------
# Greedy tokens of the GPU-trained model, on the GPU and on the CPU, must agree.
"$NLM" -q generate -m "$WORK/gpu32/model" --device "$DEV" --temperature 0 --max-tokens 16 "The" >"$WORK/gen-gpu.txt" &&
  "$NLM" -q generate -m "$WORK/gpu32/model" --device cpu --temperature 0 --max-tokens 16 "The" >"$WORK/gen-cpu.txt" &&
  cmp -s "$WORK/gen-gpu.txt" "$WORK/gen-cpu.txt" && pass "generate --device cuda (greedy = CPU's)" ||
  fail "generate --device cuda (greedy = CPU's)"

# The server on the GPU: a greedy completion equals the CPU server's.
serve_text() {  # serve_text DEVICE OUT: one greedy /v1/completions answer's text into OUT
  local log="$WORK/serve-$1.log" url="" pid
  "$NLM" serve "$WORK/gpu32/model" --device "$1" --port 0 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    url=$(grep -o 'http://[0-9.:]*' "$log" | head -n1 || true)
    [[ -n $url ]] && break
    sleep 0.2
  done
  [[ -n $url ]] && curl -sf "$url/v1/completions" -H 'Content-Type: application/json' \
    -d '{"prompt": "The", "max_tokens": 16, "temperature": 0}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["choices"][0]["text"])' >"$2"
  local rc=$?
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [[ -n $url ]] && return $rc
}
serve_text "$DEV" "$WORK/serve-gpu.txt" && serve_text cpu "$WORK/serve-cpu.txt" &&
  cmp -s "$WORK/serve-gpu.txt" "$WORK/serve-cpu.txt" && pass "serve --device cuda (greedy = CPU's)" ||
  fail "serve --device cuda (greedy = CPU's)"

# ---- 7. benchmarks ---------------------------------------------------------------------------
if [[ -z "${SKIP_BENCH:-}" ]]; then
  "$BUILD/bench_cuda_ops" || fail "bench_cuda_ops"
  "$BUILD/bench_attention_cuda" || fail "bench_attention_cuda"
  "$BUILD/bench_train_gpu" both 10 || fail "bench_train_gpu"
fi

echo "gpu-check: $fails failure(s)"
exit "$fails"
