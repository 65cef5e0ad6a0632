#!/usr/bin/env bash
# Prepares what scripts/gpu-check.sh needs on a GPU machine: the compiled TypeScript and an
# xz-compressed copy of this machine's node binary (.gpu/node.xz, git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p .gpu
if [ ! -f .gpu/node.xz ] || [ "$(command -v node)" -nt .gpu/node.xz ]; then
  xz -T0 -6 -c "$(command -v node)" > .gpu/node.xz
fi
du -sh .gpu/node.xz dist node_modules/node-addon-api node_modules/node-api-headers node_modules/node-gyp-build
echo "carry: .gpu dist node_modules/node-addon-api node_modules/node-api-headers node_modules/node-gyp-build"
