#!/usr/bin/env bash
# Takes a fresh Debian 12 machine (as root) to a ready checkout: system packages, npm packages,
# the native addon and the compiled TypeScript. Idempotent: each step is skipped when its inputs
# have not changed since it last succeeded, so a ready checkout returns in well under 2 s.
#   bash scripts/setup.sh           # what `npm start` and `npm test` need
#   bash scripts/setup.sh --bench   # also Debian's python3-torch, the reference for bench/
# python3 + python3-protobuf: the independent TensorBoard event-file reader of test/io/tfevents.test.ts.
# python3-venv: the PyTorch venvs of scripts/torch-venv.sh (the torch-2 and CUDA link lanes).
# ccache: rebuilds of the addon that only recompile what changed (CI's lanes, several build folders).
# Each step prints how long it took (and appends it to $ECF_TIMINGS when set: .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=0
for a in "$@"; do
  case "$a" in
    --bench) BENCH=1 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*"; }
. scripts/timing.sh   # timed <label> <command…>: wall clock and CPU time of a step
stamp_dir=build/.stamps
mkdir -p "$stamp_dir"

# -- 1. system packages ----------------------------------------------------------------------
PKGS=(cmake g++ make ccache libtorch-dev libopenblas0-openmp libturbojpeg0-dev libpng-dev libgloo-dev fonts-dejavu-core xz-utils python3 python3-protobuf python3-venv)
[ "$BENCH" = 1 ] && PKGS+=(python3 python3-torch python3-numpy python3-pil)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: run once as root: sudo bash scripts/setup.sh${BENCH:+ }$( [ "$BENCH" = 1 ] && echo --bench )" >&2
    exit 1
  fi
  say "installing system packages: ${missing[*]}"
  install_packages() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  }
  timed "setup: system packages" install_packages
fi

# Hash of a list of files (paths and contents), for change detection.
hash_files() { { { "$@" 2>/dev/null || true; } | LC_ALL=C sort | xargs -r sha1sum; } | sha1sum | cut -c1-40; }
up_to_date() { [ -f "$stamp_dir/$1" ] && [ "$(cat "$stamp_dir/$1")" = "$2" ]; }

# -- 2. npm packages -------------------------------------------------------------------------
npm_hash=$(cat package.json package-lock.json | sha1sum | cut -c1-40)
if ! up_to_date npm "$npm_hash" || [ ! -d node_modules ]; then
  say "installing npm packages (npm ci)"
  timed "setup: npm ci" npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$npm_hash" > "$stamp_dir/npm"
fi

# -- 3. native addon -------------------------------------------------------------------------
native_hash=$(hash_files find native cmake CMakeLists.txt scripts/build-native.js -type f)
native_hash="$native_hash-$(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo custom)"
if ! up_to_date native "$native_hash" || [ ! -f build/Release/ecacface.node ]; then
  say "building the native addon (cmake-js)"
  timed "setup: native build" node scripts/build-native.js --out build
  echo "$native_hash" > "$stamp_dir/native"
fi

# -- 4. TypeScript ---------------------------------------------------------------------------
ts_hash=$(hash_files find lib bench test/cuda tsconfig.json package.json scripts/build-cjs.js -type f \( -name '*.ts' -o -name '*.json' -o -name 'build-cjs.js' \))
if ! up_to_date ts "$ts_hash" || [ ! -f dist/lib/index.js ] || [ ! -f dist/cjs/index.js ]; then
  say "compiling TypeScript"
  compile_ts() {
    npx tsc -p tsconfig.json
    node scripts/build-cjs.js   # the CommonJS build (require('ecacface-torch'))
  }
  timed "setup: TypeScript" compile_ts
  echo "$ts_hash" > "$stamp_dir/ts"
fi
