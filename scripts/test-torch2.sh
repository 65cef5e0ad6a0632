#!/usr/bin/env bash
# The torch-2 lane (npm run test:torch2 [-- vitest arguments]): the native-facing tests against the
# addon built the way a user builds it, against a PyTorch 2.x wheel:
#   1. a cached venv with torch (scripts/torch-venv.sh; default 2.13.0+cpu, ECF_TORCH2_VERSION);
#   2. with it active, `npx ecacface build-native --incremental`, which finds python3's torch, into
#      ECACFACE_BUILD_DIR=$ECF_CACHE_DIR/build-torch-<version> (kept: keyed by the torch version);
#   3. scripts/check-gloo-abi.mjs: the gloo layouts the addon uses are the wheel's;
#   4. `npm run prebuild -- --only <version>`: the same build as a prebuild (RUNPATH $ORIGIN only;
#      ccache makes it mostly a link), which test/package/pack.test.ts installs in a consumer
#      project, with the venv active (ECF_PACK_ADDON);
#   5. vitest with the venv active and ECACFACE_BUILD_DIR naming that build, over the folders that
#      reach the addon (ECF_TORCH2_TESTS; CI's 45-minute budget, docs/decisions/build.md), or over
#      what the arguments name (`npm run test:torch2 -- test` runs the whole suite).
# scripts/lane.sh: the cache (ECF_CACHE_DIR), ccache, timings (ECF_TIMINGS).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
LANE=torch2
. scripts/lane.sh
version=${ECF_TORCH2_VERSION:-2.13.0+cpu}

timed "$LANE: setup" bash scripts/setup.sh || exit 1
venv=$(timed "$LANE: venv" bash scripts/torch-venv.sh "$version") || exit 1
use_venv "$venv"
export ECACFACE_BUILD_DIR=$ECF_CACHE_DIR/build-torch-$version
timed "$LANE: build" npx --no-install ecacface build-native --incremental || exit 1
timed "$LANE: gloo-abi" node scripts/check-gloo-abi.mjs --build "$ECACFACE_BUILD_DIR" || exit 1
# the prebuild of this wheel, as `npm run prebuild` makes it (ccache: mostly a link)
timed "$LANE: prebuild" npm run prebuild -- --only "$version" --incremental --out-root "$ECF_CACHE_DIR" --prebuilds "$ECF_CACHE_DIR/prebuilds" || exit 1
export ECF_PACK_ADDON=$ECF_CACHE_DIR/build-prebuild-$version/Release/ecacface.node
if [ $# -gt 0 ]; then
  run_vitest vitest "$@"
else
  read -r -a folders <<< "${ECF_TORCH2_TESTS:-test/tensor test/nn test/ops test/heads test/distributed test/package}"
  run_vitest vitest "${folders[@]}"
fi
