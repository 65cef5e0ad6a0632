#!/usr/bin/env bash
# bench:anchor — the performance anchor users would pick instead (issue 21 §4), and the order check
# of issue 27, in one run. Meant for a quiet machine (`uptime` load < 0.5).
#
#   1. builds our addon against PyTorch 2.13 (build-torch2/; build/ stays the Debian 1.13 build);
#   2. backbones: bench:backbones, the train step (forward + backward + SGD) of MobileFaceNet and
#      IR_50 with attention none and esca, alternating step by step: ours on 2.13, PyTorch 2.13
#      eager, PyTorch 2.13 under torch.compile, and ours on Debian's 1.13 (--also-native);
#   3. reversed: the same configs in the other order (esca before none), ours on 2.13 and eager:
#      issue 27's check that a config's time does not depend on what the process ran before;
#      same-malloc: once more with PyTorch given the same malloc thresholds as our addon
#      (--ref-malloc fixed), to show how much of the gap is the heap policy;
#   4. ops, heads: bench:ops and bench:heads, ours on 2.13 against PyTorch 2.13 eager, alternating
#      rounds; then the same with ours on Debian's 1.13 against the same PyTorch 2.13;
#   5. demo: the first DEMO_SECONDS of `ecacface demo` on the 2.13 build (issue 27: one warm-up line,
#      the first log line's img/s within ±10 % of the next ones, no NNPACK line); stopped with
#      SIGINT, as Ctrl-C would, its run folder under $TMPDIR.
# Everything it prints goes to $OUT (default bench/results/<date>-anchor/), one file per part,
# beginning with `uptime` (the load) and the machine; summary.txt lists the parts and the seconds
# each took. A part that fails is recorded (its exit status in summary.txt) and the run goes on;
# the script then exits 1.
#
# Environment (defaults in brackets):
#   THREADS [1]                 intra-op threads on every side
#   ITERS [5], WARMUP [3]       timed / untimed steps per config and side (torch.compile compiles
#                               in its first steps: keep WARMUP ≥ 2 with compile)
#   ARCHS [mobilefacenet,ir50]  backbones of the backbones part
#   REVERSED_ARCHS [= ARCHS]    backbones of the reversed and same-malloc parts (issue 27's effect
#                               is on the first config a process runs: mobilefacenet is enough)
#   SKIP_COMPILE [0]            1: no torch.compile side
#   SKIP_113 [0]                1: no ours-on-1.13 side and no ops-1.13 / heads-1.13 parts
#   PARTS [backbones,reversed,same-malloc,ops,heads,demo]   which parts to run
#   OPS_ITERS [20000], HEADS_ROUNDS [3], HEADS_CLASSES [10575], DEMO_SECONDS [120]
#   SKIP_BUILD [0]              1: use build/, build-torch2/ and dist/ as they are (already built)
#   OUT, ECF_TORCH_VENV_ROOT
#
# Full run: bash bench/anchor.sh. A reduced run that still answers issue 21 §4 and issue 27, in two
# steps so that torch.compile's first compilation (minutes per config, the least predictable cost)
# comes last and cannot hold up the rest:
#   A: SKIP_COMPILE=1 PARTS=backbones,reversed,ops,heads,demo ITERS=3 REVERSED_ARCHS=mobilefacenet \
#        HEADS_ROUNDS=2 bash bench/anchor.sh
#   B: SKIP_BUILD=1 SKIP_113=1 PARTS=backbones ITERS=3 OUT=bench/results/$(date +%F)-anchor-compile \
#        bash bench/anchor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
threads=${THREADS:-1}
iters=${ITERS:-5}
warmup=${WARMUP:-3}
archs=${ARCHS:-mobilefacenet,ir50}
reversed_archs=${REVERSED_ARCHS:-$archs}
parts=",${PARTS:-backbones,reversed,same-malloc,ops,heads,demo},"
ops_iters=${OPS_ITERS:-20000}
heads_rounds=${HEADS_ROUNDS:-3}
heads_classes=${HEADS_CLASSES:-10575}
demo_s=${DEMO_SECONDS:-120}
out=${OUT:-$root/bench/results/$(date +%F)-anchor}
for p in ${parts//,/ }; do
  case $p in backbones | reversed | same-malloc | ops | heads | demo) ;; *) echo "anchor.sh: unknown part '$p' in PARTS" >&2; exit 2 ;; esac
done
mkdir -p "$out"
want() { [[ $parts == *",$1,"* ]]; }

venv=$(bash scripts/torch-venv.sh 2.13.0+cpu)
py=$venv/bin/python
torch_dir=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))')

say() { printf '\n== %s\n' "$*" | tee -a "$out/summary.txt"; }
machine() { { date -u +%FT%TZ; uptime; lscpu | grep -E '^(Model name|CPU\(s\)|Thread)'; } ; }

t_all=$SECONDS
ours2=$root/build-torch2/Release/ecacface.node
ours1=$root/build/Release/ecacface.node
if [ "${SKIP_BUILD:-0}" = 1 ]; then
  for f in "$ours1" "$ours2" dist/bench/backbones.js; do
    [ -f "$f" ] || { echo "anchor.sh: SKIP_BUILD=1 but $f is missing" >&2; exit 2; }
  done
else
  say "builds"
  [ -f "$ours1" ] || node scripts/build-native.js
  LIBTORCH=$torch_dir node scripts/build-native.js --out build-torch2
  npx tsc -p tsconfig.json
fi
say "settings: THREADS=$threads ITERS=$iters WARMUP=$warmup ARCHS=$archs REVERSED_ARCHS=$reversed_archs SKIP_COMPILE=${SKIP_COMPILE:-0} SKIP_113=${SKIP_113:-0} SKIP_BUILD=${SKIP_BUILD:-0} PARTS=${parts:1:-1} OPS_ITERS=$ops_iters HEADS_ROUNDS=$heads_rounds HEADS_CLASSES=$heads_classes DEMO_SECONDS=$demo_s"

failed=0
run() { # run <name> <ECACFACE_NATIVE> <command…>: one part, its own log, its duration in the summary
  local name=$1 native=$2 t0=$SECONDS rc
  shift 2
  say "$name: $*"
  set +e
  { machine; echo "\$ ECACFACE_NATIVE=$native $*"; ECACFACE_NATIVE=$native "$@" 2>&1; } | tee "$out/$name.txt"
  rc=${PIPESTATUS[0]}
  set -e
  # the demo is stopped by SIGINT after DEMO_SECONDS: timeout's 124 and the CLI's 130 are its normal ends
  if [ "$rc" != 0 ] && ! { [ "$name" = demo ] && { [ "$rc" = 124 ] || [ "$rc" = 130 ]; }; }; then
    failed=1
    printf '%s FAILED (exit status %s)\n' "$name" "$rc" | tee -a "$out/summary.txt"
  fi
  printf '%s took %d s\n' "$name" $((SECONDS - t0)) | tee -a "$out/summary.txt"
}

common=(--python "$py" --threads "$threads" --sgd --iters "$iters" --warmup "$warmup")
extra=()
[ "${SKIP_COMPILE:-0}" = 1 ] || extra+=(--compile)
[ "${SKIP_113:-0}" = 1 ] || extra+=(--also-native "$ours1")
if want backbones; then
  run backbones "$ours2" node dist/bench/backbones.js "${common[@]}" --archs "$archs" --attentions none,esca "${extra[@]}"
fi
if want reversed; then
  run backbones-reversed "$ours2" node dist/bench/backbones.js "${common[@]}" --archs "$reversed_archs" --attentions esca,none
fi
if want same-malloc; then
  run backbones-same-malloc "$ours2" node dist/bench/backbones.js "${common[@]}" --archs "$reversed_archs" --attentions none,esca --ref-malloc fixed
fi
builds=("2.13:$ours2")
[ "${SKIP_113:-0}" = 1 ] || builds+=("1.13:$ours1")
for b in "${builds[@]}"; do
  v=${b%%:*} native=${b#*:}
  if want ops; then
    run "ops-$v" "$native" node dist/bench/ops.js --python "$py" --threads "$threads" --iters "$ops_iters"
  fi
  if want heads; then
    run "heads-$v" "$native" node dist/bench/heads.js --python "$py" --threads "$threads" --iters 5 --rounds "$heads_rounds" --classes "$heads_classes"
  fi
done
if want demo; then
  run demo "$ours2" timeout -s INT "$demo_s" node dist/lib/cli/main.js demo --plain --out "${TMPDIR:-/tmp}/ecf-anchor-demo"
  { grep -E 'warm-up|img/s' "$out/demo.txt" | head -6 || true; printf 'NNPACK lines: %s\n' "$(grep -c NNPACK "$out/demo.txt" || true)"; } | tee -a "$out/summary.txt"
fi
say "done in $((SECONDS - t_all)) s: $out"
exit "$failed"
