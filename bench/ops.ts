/**
 * bench:ops — the per-call cost of small ops from TypeScript against the same ops from Python
 * PyTorch eager (Debian's python3-torch: the same libtorch build), side by side in one run.
 * Prints µs/op for both and the ratio ours/Python (goal ≤ 1.0).
 *
 *   npm run bench:ops [-- --iters 20000 --threads 1]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cat, functional as F, manualSeed, randn, setNumThreads, zeros, type Tensor } from '../lib/index.js';

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

function measure(fn: () => Tensor): number {
  for (let i = 0; i < iters / 10; i++) fn().dispose();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn().dispose();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e3 / iters);
  }
  return best;
}

const ours: Record<string, number> = {};
for (const [name, fn] of Object.entries(ops)) ours[name] = measure(fn);

const here = fileURLToPath(new URL('.', import.meta.url));
const refScript = join(here, '..', '..', 'bench', 'ops_ref.py');
let py: Record<string, number> = {};
try {
  py = JSON.parse(execFileSync('/usr/bin/python3', [refScript, String(threads), String(iters)], { encoding: 'utf8' }));
} catch (e) {
  console.error(`Python reference unavailable (${(e as Error).message.split('\n')[0]}); run: sudo bash scripts/setup.sh --bench`);
}

console.log(`bench:ops — µs per call, best of 3 × ${iters} calls, ${threads} intra-op thread(s)`);
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
