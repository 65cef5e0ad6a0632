#!/usr/bin/env bash
# Compiles every CUDA kernel (native/**/*.cu) with nvcc alone: no libtorch, no GPU, seconds. The
# kernels are plain CUDA (pointers, sizes, a stream). A quick check while editing a kernel; the
# whole CUDA build — every .cu and the CUDA halves of the .cc files, NCCL, CUDA graphs, against a
# CUDA libtorch, linked and loaded, no stand-in types — is `npm run check:cuda-link` (CI runs that).
#   ECF_CUDA_ARCHS="80;90;100" bash scripts/check-cuda.sh      (nvcc: NVCC, else on PATH, else /usr/local/cuda)
set -euo pipefail
cd "$(dirname "$0")/.."
NVCC=${NVCC:-$(command -v nvcc || true)}
if [ -z "$NVCC" ]; then
  for c in /usr/local/cuda/bin/nvcc /usr/local/bin/nvcc; do [ -x "$c" ] && NVCC=$c && break; done
fi
mapfile -t files < <(find native -name '*.cu' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "check:cuda: no .cu files"; exit 0; fi
if [ -z "$NVCC" ]; then
  echo "check:cuda: nvcc not found; cannot compile ${#files[@]} CUDA file(s)" >&2
  exit 1
fi
archs=${ECF_CUDA_ARCHS:-80;90;100}
gencode=()
IFS=';,' read -ra list <<< "$archs"
for a in "${list[@]}"; do gencode+=("-gencode=arch=compute_${a},code=sm_${a}"); done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
for f in "${files[@]}"; do
  if "$NVCC" -std=c++17 -O3 -Xcompiler -fPIC -Inative "${gencode[@]}" -c "$f" -o "$out/$(basename "$f").o"; then
    echo "check:cuda: ok   $f (sm ${list[*]})"
  else
    echo "check:cuda: FAIL $f"; fail=1
  fi
done
"$NVCC" --version | tail -1
exit $fail
