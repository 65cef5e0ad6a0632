#!/usr/bin/env bash
# bench:anchor — the performance anchor users would pick instead (issue 21 §4), and the order check
# of issue 27, in one run. Meant for a quiet machine: about 45 minutes on 2 cores.
#
#   1. builds our addon against PyTorch 2.13 (build-torch2/; build/ stays the Debian 1.13 build);
#   2. bench:backbones, the train step (forward + backward + SGD) of MobileFaceNet and IR_50 with
#      attention none and esca, alternating step by step: ours on 2.13, PyTorch 2.13 eager,
#      PyTorch 2.13 under torch.compile, and ours on Debian's 1.13 (--also-native);
#   3. the same configs in the other order (esca before none), ours on 2.13: issue 27's check that
#      a config's time does not depend on what the process ran before; then once more with PyTorch
#      given the same malloc thresholds as our addon (--ref-malloc fixed);
#   4. bench:ops and bench:heads, ours on 2.13 against PyTorch 2.13 eager, alternating rounds;
#   5. the same with ours on Debian's 1.13 against the same PyTorch 2.13 (the 1.13 vs 2.13 anchor).
# Everything it prints goes to $OUT (default bench/results/<date>-anchor/), one file per part,
# beginning with `uptime` (the load) and the machine.
#
#   bash bench/anchor.sh            # env: THREADS (default 1), OUT, ECF_TORCH_VENV_ROOT, ITERS (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
threads=${THREADS:-1}
iters=${ITERS:-5}
out=${OUT:-$root/bench/results/$(date +%F)-anchor}
mkdir -p "$out"

venv=$(bash scripts/torch-venv.sh 2.13.0+cpu)
py=$venv/bin/python
torch_dir=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))')

say() { printf '\n== %s\n' "$*" | tee -a "$out/summary.txt"; }
machine() { { date -u +%FT%TZ; uptime; lscpu | grep -E '^(Model name|CPU\(s\)|Thread)'; } ; }

say "builds"
[ -f build/Release/ecacface.node ] || node scripts/build-native.js
LIBTORCH=$torch_dir node scripts/build-native.js --out build-torch2
npx tsc -p tsconfig.json
ours2=$root/build-torch2/Release/ecacface.node
ours1=$root/build/Release/ecacface.node

run() { # run <name> <ECACFACE_NATIVE> <command…>: one part, its own log
  local name=$1 native=$2
  shift 2
  say "$name: $*"
  { machine; echo "\$ ECACFACE_NATIVE=$native $*"; ECACFACE_NATIVE=$native "$@" 2>&1; } | tee "$out/$name.txt"
}

common=(--python "$py" --threads "$threads" --sgd --iters "$iters" --warmup 3 --archs mobilefacenet,ir50)
run backbones "$ours2" node dist/bench/backbones.js "${common[@]}" --attentions none,esca --compile --also-native "$ours1"
run backbones-reversed "$ours2" node dist/bench/backbones.js "${common[@]}" --attentions esca,none
run backbones-same-malloc "$ours2" node dist/bench/backbones.js "${common[@]}" --attentions none,esca --ref-malloc fixed
run ops-2.13 "$ours2" node dist/bench/ops.js --python "$py" --threads "$threads" --iters 20000
run ops-1.13 "$ours1" node dist/bench/ops.js --python "$py" --threads "$threads" --iters 20000
run heads-2.13 "$ours2" node dist/bench/heads.js --python "$py" --threads "$threads" --iters 5 --rounds 3 --classes 10575
run heads-1.13 "$ours1" node dist/bench/heads.js --python "$py" --threads "$threads" --iters 5 --rounds 3 --classes 10575
say "done: $out"
