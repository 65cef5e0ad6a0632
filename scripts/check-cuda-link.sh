#!/usr/bin/env bash
# The CUDA link lane (npm run check:cuda-link): compiles, links and loads the CUDA build of the
# addon on a machine without a GPU, the way a user builds it, against PyTorch 2.14.1+cu130:
#   1. a cached venv with torch 2.14.1 and its nvidia wheels (scripts/torch-venv.sh);
#   2. with it active, `npx ecacface build-native --incremental` (CUDA found from python3's torch:
#      nvcc, the nvidia wheels' headers and libraries, C++20, sm_80/90/100: cmake/EcfCuda.cmake)
#      into ECACFACE_BUILD_DIR=$ECF_CACHE_DIR/build-torch-2.14.1 (kept: only what changed is rebuilt);
#   3. the tests of that build: every library resolves through its RUNPATH, CUDA and NCCL and CUDA
#      graphs are compiled in, no device is present and asking for one says so, a CPU training step
#      (test/package/linked-libraries.test.ts, cuda-build.test.ts);
#   4. `npm run prebuild -- --only 2.14.1`: the same build as a prebuild (torch-2.14.1-cu130; ccache
#      makes it mostly a link), installed from the packed tarball into a consumer project, where
#      it loads without compiling (test/package/pack.test.ts).
# No stand-in types: this replaces check:cuda's syntax-only check of the .cc files' CUDA halves.
# env: ECF_CUDA_TORCH_VERSION (default 2.14.1), ECF_CUDA_ARCHS; scripts/lane.sh (cache, timings).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
LANE=cuda-link
. scripts/lane.sh
version=${ECF_CUDA_TORCH_VERSION:-2.14.1}

timed "$LANE: setup" bash scripts/setup.sh || exit 1
venv=$(timed "$LANE: venv" bash scripts/torch-venv.sh "$version") || exit 1
use_venv "$venv"
export ECACFACE_BUILD_DIR=$ECF_CACHE_DIR/build-torch-$version
timed "$LANE: build" npx --no-install ecacface build-native --incremental || exit 1
rc=0
run_vitest tests test/package/linked-libraries.test.ts test/package/cuda-build.test.ts "$@" || rc=1
timed "$LANE: prebuild" npm run prebuild -- --only "$version" --incremental --out-root "$ECF_CACHE_DIR" --prebuilds "$ECF_CACHE_DIR/prebuilds" || exit 1
export ECF_PACK_ADDON=$ECF_CACHE_DIR/build-prebuild-$version/Release/ecacface.node
# The consumer test takes minutes (npm pack, an offline install, three processes loading libtorch):
# it is skipped when neither the prebuild nor the package's JavaScript changed since it last passed.
stamp=$ECF_CACHE_DIR/cuda-link-consumer.stamp
key=$( { sha1sum "$ECF_PACK_ADDON" package.json scripts/prebuild.js scripts/prebuild-lib.mjs test/package/pack.test.ts; find dist/lib dist/cjs -type f -print0 | sort -z | xargs -0 sha1sum; } | sha1sum | cut -c1-40)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
  echo "$LANE: consumer test skipped: the prebuild and the package are unchanged since it last passed ($stamp)" >&2
else
  rm -f "$stamp"
  run_vitest consumer test/package/pack.test.ts -t 'prebuild|ESM' "$@" && echo "$key" > "$stamp" || rc=1
fi
exit $rc
