# Sourced by scripts/setup.sh, scripts/lane.sh and .ci/run: how long each step takes.
#   timed <label> <command…>   runs the command, then prints "<label> <wall>s (cpu <cpu>s, exit <rc>)"
#                              on stderr and appends it to $ECF_TIMINGS when set; returns its status.
# The CPU time is that of everything the command ran (bash's `times` for this shell's finished
# children): on a shared machine the wall clock says little, the CPU time is what an idle 2-core
# machine would need, at most twice faster.

# CPU seconds (user + system) of this shell's finished children, from the output of `times`,
# which must run in this shell (in a command substitution it would count the subshell's children).
_timing_cpu() {
  awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } printf "%d", n }' "$1"
}

timed() {
  local label=$1 f t0 c0 rc line
  shift
  f=$(mktemp)
  t0=$(date +%s)
  times > "$f"
  c0=$(_timing_cpu "$f")
  "$@"
  rc=$?
  times > "$f"
  line="$label $(( $(date +%s) - t0 ))s (cpu $(( $(_timing_cpu "$f") - c0 ))s, exit $rc)"
  rm -f "$f"
  echo "$line" >&2
  if [ -n "${ECF_TIMINGS:-}" ]; then echo "$line" >> "$ECF_TIMINGS"; fi
  return $rc
}
