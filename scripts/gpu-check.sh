#!/usr/bin/env bash
# One command for a GPU machine (which may have no Node and no network): unpack the carried,
# xz-compressed node binary, build the addon against the machine's PyTorch libtorch with CUDA
# (plain cmake, sm_90 by default), run the CUDA tests (node --test over dist/test/cuda, compiled
# beforehand on the CPU machine) and print a summary. Results go to $OUT (or ./gpu-out).
#
#   bash scripts/gpu-check.sh                 # on the GPU machine
#   bash scripts/gpu-check.sh --dry-run       # here: same build path against the CPU libtorch
#
# What must travel with the working tree (carry): .gpu/node.xz, dist, node_modules/node-addon-api,
# node_modules/node-api-headers, node_modules/node-gyp-build. Prepare them with:
#   bash scripts/gpu-prepare.sh
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=0
for a in "$@"; do
  case "$a" in
    --dry-run) DRY=1 ;;
    *) echo "gpu-check: unknown option $a" >&2; exit 2 ;;
  esac
done
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

# -- build -------------------------------------------------------------------------------------
PY=${PYTHON:-python3}
[ "$DRY" = 1 ] && PY=/usr/bin/python3
BUILD=build-gpu
ARCHS=${ECF_CUDA_ARCHS:-90}
cmake_args=(-S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCHS")
if [ "$DRY" = 0 ]; then
  prefix=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix")
  command -v ninja >/dev/null && cmake_args+=(-G Ninja)
  log "torch $("$PY" -c 'import torch; print(torch.__version__, torch.version.cuda)')  prefix $prefix"
fi
t0=$(date +%s)
if ! cmake "${cmake_args[@]}" > "$OUT/cmake-configure.log" 2>&1; then
  log "cmake configure FAILED"; tail -30 "$OUT/cmake-configure.log"; exit 1
fi
grep 'ecacface-torch:' "$OUT/cmake-configure.log" | tee -a "$OUT/gpu-check.log"
if ! cmake --build "$BUILD" -j "$(nproc)" > "$OUT/cmake-build.log" 2>&1; then
  log "build FAILED"; grep -E 'error|Error' "$OUT/cmake-build.log" | head -40; exit 1
fi
log "addon built in $(( $(date +%s) - t0 )) s: $BUILD/Release/ecacface.node"
export ECACFACE_NATIVE=$PWD/$BUILD/Release/ecacface.node

# -- CUDA tests --------------------------------------------------------------------------------
[ -d dist/test/cuda ] || { log "dist/test/cuda missing: compile the TypeScript before (npx tsc)"; exit 1; }
mapfile -t tests < <(find dist/test/cuda -name '*.test.js' | sort)
log "running ${#tests[@]} CUDA test file(s)"
"$NODE" --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$OUT/cuda-tests.tap" "${tests[@]}" 2>&1 | tee "$OUT/cuda-tests.log"
rc=${PIPESTATUS[0]}

# -- extra steps (benchmarks) ------------------------------------------------------------------
if [ -n "${GPU_CHECK_EXTRA:-}" ]; then
  log "extra: $GPU_CHECK_EXTRA"
  NODE="$NODE" bash -c "$GPU_CHECK_EXTRA" 2>&1 | tee "$OUT/extra.log"
fi

pass=$(grep -cE '^ok ' "$OUT/cuda-tests.tap" 2>/dev/null || true)
fail=$(grep -cE '^not ok ' "$OUT/cuda-tests.tap" 2>/dev/null || true)
log "summary: CUDA test files ${#tests[@]}, top-level ok ${pass:-0}, not ok ${fail:-0}, exit $rc"
exit "$rc"
