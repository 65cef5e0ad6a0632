# Sourced by the CI lanes that build against a PyTorch wheel (scripts/test-torch2.sh,
# scripts/check-cuda-link.sh): the cache folder, ccache, a venv, and a timer.
#   ECF_CACHE_DIR        the cache (default <checkout>/.cache): torch-venv/<version> (the venvs of
#                        scripts/torch-venv.sh), build-torch-<version> and build-prebuild-<version>
#                        (the builds, kept between runs: only what changed is rebuilt), prebuilds/,
#                        ccache/
#   ECF_TIMINGS          a file that collects "<lane>: <part> <seconds>s (exit <rc>)" lines (.ci/run)
#   ECF_RESULTS_DIR      where each vitest run also writes its JSON report (.ci/run counts them)
# Needs: $root (the checkout) and $LANE set by the caller.
export ECF_CACHE_DIR=${ECF_CACHE_DIR:-$root/.cache}
export ECF_TORCH_VENV_ROOT=${ECF_TORCH_VENV_ROOT:-$ECF_CACHE_DIR/torch-venv}
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_DIR=${CCACHE_DIR:-$ECF_CACHE_DIR/ccache}
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
  export CMAKE_CUDA_COMPILER_LAUNCHER=${CMAKE_CUDA_COMPILER_LAUNCHER:-ccache}
fi

. "$root/scripts/timing.sh"   # timed <label> <command…>

# use_venv <folder>: what `source <venv>/bin/activate` does, for this shell and its children.
use_venv() {
  export VIRTUAL_ENV=$1
  export PATH=$1/bin:$PATH
  unset PYTHONHOME
}

# run_vitest <part> <vitest arguments…>: vitest run, with a JSON report in ECF_RESULTS_DIR when set.
run_vitest() {
  local part=$1
  shift
  local report=()
  [ -n "${ECF_RESULTS_DIR:-}" ] && report=(--reporter=default --reporter=json "--outputFile.json=$ECF_RESULTS_DIR/$LANE-$part.json")
  timed "$LANE: $part" npx --no-install vitest run "${report[@]}" "$@"
}
