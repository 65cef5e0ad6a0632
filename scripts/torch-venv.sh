#!/usr/bin/env bash
# Makes (once) a Python venv holding one PyTorch wheel, and prints the venv's folder on stdout.
# The same recipe serves the torch-2 test lane, the CUDA link lane, the benchmarks' Python side and
# scripts/gpu-check.sh, so what links here is what a GPU server builds.
#
#   bash scripts/torch-venv.sh 2.13.0+cpu     # -> .cache/torch-venv/2.13.0+cpu
#   bash scripts/torch-venv.sh 2.14.1         # the CUDA 13.0 wheel with its nvidia-* wheels
#   env: ECF_TORCH_VENV_ROOT (default <checkout>/.cache/torch-venv), PYTHON (default python3),
#        ECF_PIP_EXTRA (more requirements, e.g. "onnx onnxruntime")
#
# The venv is ready when its stamp file names exactly the requirements asked for; otherwise it is
# made anew. pip gets --retries 0 --timeout 2: on machines whose default index is unreachable (a
# local mirror serves the wheels) that costs seconds, not minutes.
# PyTorch's own index is an extra index (--extra-index-url https://download.pytorch.org/whl/<cpu|cu130>),
# as docs/install.md tells users: where it is unreachable, pip skips it and the configured index
# (a local mirror) serves the wheel.
# torch 2.14.1 is installed with --no-deps, then its requirements by name: its metadata asks for
# cuda-bindings, a Python-only package that a C++ build never uses and that some mirrors lack.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${1:?usage: torch-venv.sh <torch version, e.g. 2.13.0+cpu or 2.14.1>}
venv_root=${ECF_TORCH_VENV_ROOT:-$root/.cache/torch-venv}
venv=$venv_root/$version
py=${PYTHON:-python3}
say() { printf 'torch-venv: %s\n' "$*" >&2; }

pip_flags=(--retries 0 --timeout 2 --disable-pip-version-check --no-input -q)
common=(filelock 'setuptools>=77.0.3' 'typing-extensions>=4.10.0' 'sympy>=1.13.3' 'networkx>=2.5.1' jinja2 'fsspec>=0.8.5' numpy)
case "$version" in
  *+cpu)
    torch_reqs=("torch==$version")
    index=https://download.pytorch.org/whl/cpu
    no_deps=0 ;;
  2.14.1)
    torch_reqs=("torch==$version")
    index=https://download.pytorch.org/whl/cu130
    no_deps=1
    # the wheel's own Requires-Dist, less cuda-bindings and triton (Python-only, not used by C++)
    cuda_reqs=('cuda-toolkit[cublas,cudart,cufft,cufile,cupti,curand,cusolver,cusparse,nvjitlink,nvrtc,nvtx]==13.0.3'
      'nvidia-cudnn-cu13==9.24.0.43' 'nvidia-cusparselt-cu13==0.8.1' 'nvidia-nccl-cu13==2.30.7' 'nvidia-nvshmem-cu13==3.4.5') ;;
  *)
    torch_reqs=("torch==$version")
    case "$version" in *+*) index=https://download.pytorch.org/whl/${version#*+} ;; *) index=https://download.pytorch.org/whl ;; esac
    no_deps=0 ;;
esac
extra=()
[ -n "${ECF_PIP_EXTRA:-}" ] && read -ra extra <<< "$ECF_PIP_EXTRA"
want="torch=$version no_deps=$no_deps common=${common[*]} cuda=${cuda_reqs[*]:-} extra=${extra[*]:-} python=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

if [ -f "$venv/.ecf-stamp" ] && [ "$(cat "$venv/.ecf-stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "$venv"
  exit 0
fi

say "making $venv (torch $version)"
rm -rf "$venv"
mkdir -p "$venv_root"
"$py" -m venv "$venv"
vpy=$venv/bin/python
if [ "$no_deps" = 1 ]; then
  "$vpy" -m pip install "${pip_flags[@]}" "${torch_reqs[@]}" --extra-index-url "$index" --no-deps
  "$vpy" -m pip install "${pip_flags[@]}" "${common[@]}" "${cuda_reqs[@]}" ${extra[@]+"${extra[@]}"}
else
  "$vpy" -m pip install "${pip_flags[@]}" "${torch_reqs[@]}" --extra-index-url "$index" "${common[@]}" ${extra[@]+"${extra[@]}"}
fi
got=$("$vpy" -c 'import torch; print(torch.__version__)')
# a local version label the request did not name (2.14.1 -> 2.14.1+cu130) is the wheel's own
case "$got" in "$version" | "$version"+*) ;; *) say "asked for torch $version, the venv has $got"; exit 1 ;; esac
echo "$want" > "$venv/.ecf-stamp"
say "ready: torch $got"
echo "$venv"
