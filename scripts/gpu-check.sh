#!/usr/bin/env bash
# One command for a GPU machine (which may have no Node and no network): unpack the carried,
# xz-compressed node binary, build the addon the way `npx ecacface build-native` builds it
# (scripts/build-native.js: the same CMake that CI's CUDA link lane compiles and links against
# PyTorch 2.14.1+cu130 — nvcc behind wrappers, the nvidia wheels' headers and libraries, the C++
# standard libtorch's headers need, RUNPATH to the wheel), against the PyTorch of
# scripts/torch-venv.sh 2.14.1 where that venv can be made, else the machine's own python3 torch,
# for sm_90 by default; run the CUDA tests (node --test over dist/test/cuda, compiled beforehand on
# the CPU machine), then the training throughput benchmark against PyTorch eager
# (bench/gpu-train.ts: every model × {none, ESCA} × batch {512, 128}, peak GB beside img/s,
# CUDA-graph rows at 128, MFU), then the paper-scale stability run (bench/gpu-stability.ts: IR_50 +
# ESCA + CurricularFace, batch 512, lr 0.1, no warm-up, bf16, 300 steps, per-block gate
# statistics), and print a summary, the benchmark's table last. Results go to $OUT (or ./gpu-out).
#
#   bash scripts/gpu-check.sh                 # on the GPU machine
#   bash scripts/gpu-check.sh --dry-run       # here, with no GPU: the same build of the CUDA addon
#                                             # (the 2.14.1 venv, in the CUDA link lane's folder
#                                             # .cache/build-torch-2.14.1 for sm_80/90/100), the load
#                                             # check, and every step up to where a device is needed
#                                             # (the tests skip, a tiny benchmark and stability run on the CPU)
#   options: --no-tests  --no-bench  --no-stability  --prebuilt ADDON (skip the build, use that .node)
#            --budget S (seconds for the whole script; the benchmark gets what the build and the
#            tests left, less a margin, and skips the configurations that no longer fit)
#   env: ECF_CUDA_ARCHS (default 90), ECF_BUILD_DIR (default build-gpu), GPU_CHECK_TEST_TIMEOUT (s,
#        default 100), GPU_TRAIN_ARGS (extra bench/gpu-train.ts options, e.g. "--iters 10"), PYTHON
#        (the python whose torch to build against; default: the 2.14.1 venv, else python3),
#        GPU_STABILITY_S (seconds kept for the stability run, default 110), GPU_STABILITY_ARGS
# Afterwards $OUT holds gpu-check.log, build.log, cuda-tests.{log,tap},
# gpu-train.{json,log} (the benchmark: card, every row, ours/PyTorch img/s and peak GB),
# gpu-stability.{json,log} (loss per step, gate statistics every 10 steps) and summary.json.
#
# What must travel: ONE file, .gpu/bundle.tar.xz (scripts/gpu-bundle.sh: the tree, dist/, the
# production node_modules and .gpu/node.xz). On the GPU machine:
#   mkdir -p /tmp/ecf && tar -xJf .gpu/bundle.tar.xz -C /tmp/ecf && cd /tmp/ecf && bash scripts/gpu-check.sh
# Notes of every run: bench/RESULTS.md.
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=0 TESTS=1 BENCH=1 STAB=1 BUDGET=420 PREBUILT=
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --no-tests) TESTS=0 ;;
    --no-bench) BENCH=0 ;;
    --no-stability) STAB=0 ;;
    --budget) BUDGET=$2; shift ;;
    --prebuilt) PREBUILT=$2; shift ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
T_START=$(date +%s)
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
log() { printf '[gpu-check %s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$OUT/gpu-check.log"; }

# -- node ------------------------------------------------------------------------------------
if [ "$DRY" = 1 ]; then
  NODE=$(command -v node)
else
  NODE=/tmp/ecacface-node/node
  if [ ! -x "$NODE" ]; then
    [ -f .gpu/node.xz ] || { log "missing .gpu/node.xz (run scripts/gpu-prepare.sh and carry .gpu)"; exit 1; }
    mkdir -p /tmp/ecacface-node && xz -dc .gpu/node.xz > "$NODE" && chmod +x "$NODE"
  fi
fi
log "node $("$NODE" --version)"

# -- build ---------------------------------------------------------------------------------------
# The PyTorch to build against: PYTHON's torch if given, else the venv of the CUDA link lane's recipe
# (made here if pip can reach its index; the GPU machine has no network), else python3's.
ARCHS=${ECF_CUDA_ARCHS:-90}
BUILD=${ECF_BUILD_DIR:-build-gpu}
if [ "$DRY" = 1 ]; then
  # here: the CUDA link lane's build folder and architectures, so that an unchanged tree builds nothing
  ARCHS=${ECF_CUDA_ARCHS:-80;90;100}
  BUILD=${ECF_BUILD_DIR:-${ECF_CACHE_DIR:-.cache}/build-torch-2.14.1}
fi
if [ -n "${PYTHON:-}" ]; then
  PY=$PYTHON
elif venv=$(timeout 600 bash scripts/torch-venv.sh 2.14.1 2>>"$OUT/gpu-check.log"); then
  PY=$venv/bin/python
else
  PY=$(command -v python3)
  log "no 2.14.1 venv here (no index reachable): building against python3's torch"
fi
export PATH="$(dirname "$PY"):$PATH"   # the build finds python3's torch, as a user's venv would
log "torch $("$PY" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>&1 | tail -1) ($PY)"
log "nvcc: $(nvcc --version 2>/dev/null | tail -1)"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null | tee -a "$OUT/gpu-check.log"
if [ -n "$PREBUILT" ]; then
  BUILD_S=0
  export ECACFACE_NATIVE=$(readlink -f "$PREBUILT")
  log "prebuilt addon $ECACFACE_NATIVE"
else
  t0=$(date +%s)
  # incremental: an unchanged tree (a rerun, or the CUDA link lane's folder) rebuilds nothing
  if ! "$NODE" scripts/build-native.js --out "$BUILD" --cuda-archs "$ARCHS" > "$OUT/build.log" 2>&1; then
    log "build FAILED"; grep -E 'error|Error' "$OUT/build.log" | sort -u | head -60; exit 1
  fi
  grep 'ecacface-torch:' "$OUT/build.log" | tee -a "$OUT/gpu-check.log"
  BUILD_S=$(( $(date +%s) - t0 ))
  log "addon built in $BUILD_S s: $BUILD/Release/ecacface.node"
  export ECACFACE_NATIVE=$PWD/$BUILD/Release/ecacface.node
  # every library through the addon's RUNPATH (what a user's load does): report what does not
  env -u LD_LIBRARY_PATH ldd "$ECACFACE_NATIVE" | grep -E 'not found|torch|c10|cuda|nccl' | tee -a "$OUT/gpu-check.log"
fi
"$NODE" -e "import('./dist/lib/tensor/index.js').then(m => { const c = m.cuda.isAvailable(); console.log('[gpu-check] addon:', JSON.stringify(m.buildInfo()), 'cuda available:', c, c ? m.cuda.deviceName(0) : ''); })" 2>&1 | tee -a "$OUT/gpu-check.log"

# -- CUDA tests --------------------------------------------------------------------------------
[ -d dist/test/cuda ] || { log "dist/test/cuda missing: compile the TypeScript before (npx tsc)"; exit 1; }
mapfile -t tests < <(find dist/test/cuda -name '*.test.js' | sort)
rc=0
TESTS_S=0
if [ "$TESTS" = 1 ]; then
  log "running ${#tests[@]} CUDA test file(s)"
  t1=$(date +%s)
  timeout "${GPU_CHECK_TEST_TIMEOUT:-100}" "$NODE" --test --test-concurrency=1 --test-reporter=dot --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$OUT/cuda-tests.tap" "${tests[@]}" > "$OUT/cuda-tests.log" 2>&1
  rc=$?
  TESTS_S=$(( $(date +%s) - t1 ))
  # failures in full, the rest as counts
  grep -B2 -A12 -E '^\s*not ok ' "$OUT/cuda-tests.tap" | head -150
  grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)' "$OUT/cuda-tests.tap" | tee -a "$OUT/gpu-check.log"
  log "CUDA tests: exit $rc in $TESTS_S s"
fi

# -- training throughput against PyTorch ------------------------------------------------------------
BENCH_RC=0
STAB_S=${GPU_STABILITY_S:-110}
[ "$STAB" = 0 ] && STAB_S=0
if [ "$BENCH" = 1 ]; then
  left=$(( BUDGET - ($(date +%s) - T_START) - 25 - STAB_S ))
  [ "$left" -lt 20 ] && left=20
  bench_args=(--out "$OUT/gpu-train.json" --budget "$left" --python "$PY")
  # shellcheck disable=SC2206
  [ -n "${GPU_TRAIN_ARGS:-}" ] && bench_args+=(${GPU_TRAIN_ARGS})
  [ "$DRY" = 1 ] && bench_args+=(--device cpu --batches 2 --graph-batches 2 --classes 1000 --archs mobilefacenet,ir50 --warmup 1 --iters 1)
  log "training benchmark (budget $left s): ${bench_args[*]}"
  "$NODE" dist/bench/gpu-train.js "${bench_args[@]}" 2>&1 | tee "$OUT/gpu-train.log"
  BENCH_RC=${PIPESTATUS[0]}
fi

# -- paper-scale stability run ------------------------------------------------------------------
STAB_RC=0
if [ "$STAB" = 1 ]; then
  left=$(( BUDGET - ($(date +%s) - T_START) - 15 ))
  [ "$left" -lt 30 ] && left=30
  stab_args=(--out "$OUT/gpu-stability.json" --budget "$(( left - 40 > 20 ? left - 40 : 20 ))")
  # shellcheck disable=SC2206
  [ -n "${GPU_STABILITY_ARGS:-}" ] && stab_args+=(${GPU_STABILITY_ARGS})
  [ "$DRY" = 1 ] && stab_args+=(--device cpu --batch 4 --steps 3 --identities 8 --per-identity 2 --every 1)
  log "stability run (budget $left s, of which up to 40 s to render the images and build): ${stab_args[*]}"
  timeout "$left" "$NODE" dist/bench/gpu-stability.js "${stab_args[@]}" 2>&1 | tee "$OUT/gpu-stability.log"
  STAB_RC=${PIPESTATUS[0]}
fi

# -- extra steps (benchmarks) ------------------------------------------------------------------
if [ -n "${GPU_CHECK_EXTRA:-}" ]; then
  log "extra: $GPU_CHECK_EXTRA"
  NODE="$NODE" bash -c "$GPU_CHECK_EXTRA" 2>&1 | tee "$OUT/extra.log"
fi

tap() { grep -E "^# $1 " "$OUT/cuda-tests.tap" 2>/dev/null | awk '{print $3}' | tail -1; }
"$PY" - "$OUT" <<PYEOF 2>/dev/null || true
import json, os, sys
out = sys.argv[1]
bench = None
p = os.path.join(out, 'gpu-train.json')
if os.path.exists(p):
    bench = json.load(open(p))
json.dump({'card': bench['card'] if bench else None, 'buildSeconds': int('$BUILD_S'),
           'tests': {'files': ${#tests[@]}, 'exit': $rc, 'seconds': $TESTS_S, 'pass': '$(tap pass)', 'fail': '$(tap fail)', 'skipped': '$(tap skipped)'},
           'benchExit': $BENCH_RC, 'bench': bench, 'stabilityExit': $STAB_RC}, open(os.path.join(out, 'summary.json'), 'w'), indent=2)
PYEOF
log "summary: build ${BUILD_S} s; CUDA tests (${#tests[@]} files): pass $(tap pass) fail $(tap fail) skipped $(tap skipped), exit $rc; benchmark exit $BENCH_RC; stability exit $STAB_RC; total $(( $(date +%s) - T_START )) s"
# the stability verdict, then the benchmark's table last
[ -f "$OUT/gpu-stability.log" ] && grep -E '^== stability' "$OUT/gpu-stability.log"
[ -f "$OUT/gpu-train.log" ] && sed -n '/^== training throughput/,$p' "$OUT/gpu-train.log"
[ "$rc" = 0 ] && exit "$BENCH_RC"
exit "$rc"
