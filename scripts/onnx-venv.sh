#!/usr/bin/env bash
# Makes (once) a Python venv with ONNX's own checker and ONNX Runtime for Python, and prints its
# folder on stdout: the independent reader of our ONNX exports in test/onnx/ (onnx.checker with
# full check, and onnxruntime's embeddings against ours).
#
#   bash scripts/onnx-venv.sh            # -> .cache/onnx-venv
#   env: ECF_ONNX_VENV (default <checkout>/.cache/onnx-venv), PYTHON (default python3)
#
# The venv is ready when its stamp names exactly the requirements below; otherwise it is made
# anew. pip gets --retries 0 --timeout 2 (a local mirror serves the wheels; an unreachable index
# then costs seconds, not minutes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${ECF_ONNX_VENV:-$root/.cache/onnx-venv}
py=${PYTHON:-python3}
reqs=('onnx==1.23.1' 'onnxruntime==1.30.0' numpy)
want="reqs=${reqs[*]} python=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

if [ -f "$venv/.ecf-stamp" ] && [ "$(cat "$venv/.ecf-stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "$venv"
  exit 0
fi
printf 'onnx-venv: making %s (%s)\n' "$venv" "${reqs[*]}" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --retries 0 --timeout 2 --disable-pip-version-check --no-input -q "${reqs[@]}" >&2
"$venv/bin/python" -c 'import onnx, onnxruntime, numpy' >&2
echo "$want" > "$venv/.ecf-stamp"
echo "$venv"
