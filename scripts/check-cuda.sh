#!/usr/bin/env bash
# Compiles every CUDA kernel (native/**/*.cu) with nvcc, with no libtorch and no GPU needed:
# the kernels are plain CUDA (pointers, sizes, a stream). Used by CI and before GPU runs.
# Then, where the installed libtorch ships its CUDA headers (Debian's CPU libtorch-dev does), it
# also compiles (g++ -fsyntax-only, nothing is linked) every native .cc that has an ECF_WITH_CUDA
# part with ECF_WITH_CUDA defined, so the CUDA halves of the op files are type-checked against
# that libtorch's API. cuBLAS/cuSPARSE/cuSOLVER headers missing from a minimal toolkit are stood in
# by their handle types; a file that needs another missing header is reported as skipped, not failed.
#   ECF_CUDA_ARCHS="80;90" bash scripts/check-cuda.sh     env: TORCH_INC (default /usr/include)
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
archs=${ECF_CUDA_ARCHS:-80;90}
gencode=()
IFS=';' read -ra list <<< "$archs"
for a in "${list[@]}"; do gencode+=("-gencode=arch=compute_${a},code=sm_${a}"); done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
for f in "${files[@]}"; do
  if "$NVCC" -std=c++17 -O3 -Xcompiler -fPIC -Inative "${gencode[@]}" -c "$f" -o "$out/$(basename "$f").o"; then
    echo "check:cuda: ok   $f"
  else
    echo "check:cuda: FAIL $f"; fail=1
  fi
done
"$NVCC" --version | tail -1

# -- the ECF_WITH_CUDA halves of the .cc files (syntax and types only) ----------------------------
TORCH_INC=${TORCH_INC:-/usr/include}
# the toolkit's include folder (nvcc may be a wrapper outside the toolkit, e.g. /usr/local/bin/nvcc)
cuda_inc=
for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" "$(dirname "$(dirname "$(readlink -f "$NVCC")")")" /usr/local/cuda /usr/local/cuda-*; do
  if [ -n "$d" ] && [ -f "$d/include/cuda_runtime_api.h" ]; then cuda_inc=$d/include; break; fi
done
[ -n "$cuda_inc" ] || echo "check:cuda: cuda_runtime_api.h not found next to $NVCC, in \$CUDA_HOME or /usr/local/cuda*: set CUDA_HOME"
if [ -f "$TORCH_INC/ATen/cuda/CUDAGraph.h" ] && [ -d node_modules/node-addon-api ]; then
  # the one generated header a CPU build of libtorch does not install
  mkdir -p "$out/inc/c10/cuda/impl"
  [ -f "$TORCH_INC/c10/cuda/impl/cuda_cmake_macros.h" ] ||
    printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' > "$out/inc/c10/cuda/impl/cuda_cmake_macros.h"
  # ATen/cuda/CUDAContext.h includes the cuBLAS/cuSPARSE/cuSOLVER headers for their handle and
  # status types only; where the toolkit here lacks those libraries, stand-ins declare just those
  # types (our files call none of these libraries), so the rest is still type-checked.
  stubbed=()
  stub() { [ -n "$cuda_inc" ] && [ -f "$cuda_inc/$1" ] && return; printf '#pragma once\n%s\n' "$2" > "$out/inc/$1"; stubbed+=("$1"); }
  stub cublas_v2.h 'typedef struct cublasContext* cublasHandle_t; typedef enum { CUBLAS_STATUS_SUCCESS = 0 } cublasStatus_t;'
  stub cublasLt.h 'typedef struct cublasLtContext* cublasLtHandle_t;'
  stub cusparse.h 'typedef struct cusparseContext* cusparseHandle_t; typedef enum { CUSPARSE_STATUS_SUCCESS = 0 } cusparseStatus_t;'
  stub cusolverDn.h 'typedef struct cusolverDnContext* cusolverDnHandle_t;'
  stub cusolver_common.h 'typedef enum { CUSOLVER_STATUS_SUCCESS = 0, CUSOLVER_STATUS_EXECUTION_FAILED = 6 } cusolverStatus_t;'
  [ ${#stubbed[@]} -eq 0 ] || echo "check:cuda: not in this toolkit, stood in by their handle/status types: ${stubbed[*]}"
  torch_inc=(-isystem "$TORCH_INC/torch/csrc/api/include")
  [ "$TORCH_INC" != /usr/include ] && torch_inc+=(-isystem "$TORCH_INC")  # (never -isystem /usr/include)
  mapfile -t ccs < <(grep -rl 'ECF_WITH_CUDA' native --include='*.cc' | sort)
  for f in "${ccs[@]}"; do
    if log=$("${CXX:-g++}" -std=gnu++17 -fsyntax-only -Wall -Wno-unused-parameter -DECF_WITH_CUDA=1 -DNAPI_VERSION=8 \
      -DNODE_ADDON_API_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED -Inative \
      -Inode_modules/node-api-headers/include -Inode_modules/node-addon-api \
      "${torch_inc[@]}" -I"$out/inc" ${cuda_inc:+-I"$cuda_inc"} "$f" 2>&1); then
      echo "check:cuda: ok   $f (ECF_WITH_CUDA, syntax only, libtorch headers in $TORCH_INC)"
    elif missing=$(grep -oE "fatal error: [^:]+: No such file" <<< "$log" | head -1) && [ -n "$missing" ]; then
      echo "check:cuda: skip $f (${missing#fatal error: }: header not installed here)"
    else
      echo "check:cuda: FAIL $f (ECF_WITH_CUDA)"; grep -E 'error' <<< "$log" | head -20; fail=1
    fi
  done
else
  if [ ! -d node_modules/node-addon-api ]; then
    echo "check:cuda: the .cc files' CUDA halves not checked (node_modules/node-addon-api missing: run npm ci or bash scripts/setup.sh first)"
  else
    echo "check:cuda: the .cc files' CUDA halves not checked (no libtorch CUDA headers in $TORCH_INC)"
  fi
fi
exit $fail
