#!/usr/bin/env bash
# Packs everything a GPU machine needs for scripts/gpu-check.sh into ONE git-ignored file,
# .gpu/bundle.tar.xz: this working tree's files (tracked and untracked-not-ignored), the compiled
# TypeScript (dist/, run `npx tsc -p tsconfig.json` first), the production node_modules (the
# machine has no registry) and .gpu/node.xz (this machine's node binary, xz-compressed).
# The machine then needs only that file:
#   mkdir -p /tmp/ecf && tar -xJf .gpu/bundle.tar.xz -C /tmp/ecf && cd /tmp/ecf && bash scripts/gpu-check.sh
# Use: bash scripts/gpu-bundle.sh [DEST_DIR ...]   (also copies the bundle into each DEST_DIR/.gpu/)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d dist/lib ] || { echo "gpu-bundle: dist/ missing: run npx tsc -p tsconfig.json first" >&2; exit 1; }
mkdir -p .gpu
node_bin=$(readlink -f "$(command -v node)")
if [ ! -f .gpu/node.xz ] || [ "$node_bin" -nt .gpu/node.xz ]; then
  xz -T2 -6 -c "$node_bin" > .gpu/node.xz
fi
list=$(mktemp)
trap 'rm -f "$list"' EXIT
git ls-files -co --exclude-standard | while read -r f; do [ -e "$f" ] && echo "$f"; done > "$list"
find dist -type f >> "$list"
npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$PWD/||" | grep '^node_modules/' | sort -u >> "$list"
echo .gpu/node.xz >> "$list"
tar -cf - --exclude='node_modules/*/node_modules/.bin' -T "$list" | xz -T2 -1 > .gpu/bundle.tar.xz
du -h .gpu/bundle.tar.xz
for d in "$@"; do
  mkdir -p "$d/.gpu" && cp .gpu/bundle.tar.xz "$d/.gpu/bundle.tar.xz" && echo "copied to $d/.gpu/bundle.tar.xz"
done
