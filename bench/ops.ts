/**
 * bench:ops — the per-call cost of small ops from TypeScript against the same ops from Python
 * PyTorch eager, side by side in one run. Rounds alternate: for each op, one round of ours, then
 * one of Python's (bench/ops_ref.py runs as a line-driven server), three times; each side's best
 * round counts. Prints µs/op for both and the ratio ours/Python (goal ≤ 1.0).
 * The reference interpreter is --python, else $ECF_BENCH_PYTHON, else Debian's /usr/bin/python3.
 *
 *   npm run bench:ops [-- --iters 20000 --threads 1 --python PATH]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cat, functional as F, manualSeed, randn, setNumThreads, zeros, type Tensor } from '../lib/index.js';
import { describeSides, LineServer, referenceHint, referencePython } from './python.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const iters = arg('iters', 20000);
const threads = arg('threads', 1);
setNumThreads(threads);
manualSeed(0);

const a = randn([16]);
const b = randn([16]);
const m = randn([8, 8]);
const img = randn([1, 3, 8, 8]);
const w = randn([4, 3, 3, 3]);
const big = randn([4, 16]);

const ops: Record<string, () => Tensor> = {
  add: () => a.add(b),
  mul_scalar: () => a.mul(2.5),
  sigmoid: () => a.sigmoid(),
  sum: () => a.sum(),
  matmul_8x8: () => m.matmul(m),
  view: () => big.view(8, 8),
  cat: () => cat([a, b], 0),
  conv2d_small: () => F.conv2d(img, w, null, { padding: 1 }),
  zeros: () => zeros([16]),
};

/** One round of ours: µs per call over `iters` calls, after `iters / 10` warm-up calls. */
function roundUs(fn: () => Tensor): number {
  for (let i = 0; i < iters / 10; i++) fn().dispose();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) fn().dispose();
  return Number(process.hrtime.bigint() - t0) / 1e3 / iters;
}

const python = referencePython();
const here = fileURLToPath(new URL('.', import.meta.url));
const ref = new LineServer(python, join(here, '..', '..', 'bench', 'ops_ref.py'), [String(threads)]);
const ours: Record<string, number> = {};
const py: Record<string, number> = {};
let pyError: string | null = null;
for (const [name, fn] of Object.entries(ops)) {
  ours[name] = Infinity;
  for (let r = 0; r < 3; r++) {
    ours[name] = Math.min(ours[name]!, roundUs(fn));
    if (pyError !== null) continue;
    const a = await ref.ask(`op ${name} ${iters}`);
    const v = Number(a);
    if (Number.isFinite(v)) py[name] = Math.min(py[name] ?? Infinity, v);
    else pyError = a;
  }
}
ref.close();
if (pyError !== null) console.error(`Python reference unavailable (${pyError}); ${referenceHint(python)}`);

console.log(`bench:ops — µs per call, best of 3 alternating rounds × ${iters} calls, ${threads} intra-op thread(s)`);
console.log(describeSides(python));
console.log('op'.padEnd(14) + 'ours'.padStart(10) + 'python'.padStart(10) + 'ratio'.padStart(8));
let logSum = 0;
let n = 0;
for (const name of Object.keys(ops)) {
  const o = ours[name]!;
  const p = py[name];
  const ratio = p ? o / p : NaN;
  if (p) {
    logSum += Math.log(ratio);
    n++;
  }
  console.log(name.padEnd(14) + o.toFixed(2).padStart(10) + (p ? p.toFixed(2) : '—').padStart(10) + (p ? ratio.toFixed(2) : '—').padStart(8));
}
if (n) console.log(`geometric-mean ratio ours/python: ${Math.exp(logSum / n).toFixed(2)} (goal ≤ 1.0)`);
