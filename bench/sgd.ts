/**
 * bench:train — one SGD step (momentum 0.9, weight decay 5e-4 on conv/linear, 0 on BN) over the
 * parameter shapes of MobileFaceNet + ESCA: the native fused `SGD.step()` (one native call), the
 * same rule composed from per-parameter tensor ops in TypeScript, and Python's torch.optim.SGD
 * (for-loop and foreach) on the same libtorch build, side by side. Prints ms/step and ratios.
 *
 *   npx tsc -p tsconfig.json && npm run bench:sgd -- [--iters 50 --threads 1]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keep, manualSeed, noGrad, randn, randnLike, setNumThreads, scope, type Tensor } from '../lib/tensor/index.js';
import { SGD } from '../lib/train/sgd.js';
import { referencePython } from './python.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const iters = arg('iters', 50);
const threads = arg('threads', 1);
setNumThreads(threads);
manualSeed(0);

// MobileFaceNet (face.evoLVe layout) + ESCA parameter shapes, 512-d embedding.
function shapes(): number[][] {
  const s: number[][] = [];
  const bn = (c: number) => s.push([c], [c]);
  const conv = (o: number, i: number, k: number) => s.push([o, i, k, k]);
  conv(64, 3, 3); bn(64); s.push([64]);
  conv(64, 1, 3); bn(64); s.push([64]);
  const block = (i: number, o: number, h: number) => {
    conv(h, i, 1); bn(h); s.push([h]);
    conv(h, 1, 3); bn(h); s.push([h]);
    conv(o, h, 1); bn(o);
    s.push([1, 1, o === 64 ? 3 : 5], [1, 2 * o, 3, 3]); // ESCA
  };
  block(64, 64, 128);
  for (let k = 0; k < 4; k++) block(64, 64, 128);
  block(64, 128, 256);
  for (let k = 0; k < 6; k++) block(128, 128, 256);
  block(128, 128, 512);
  for (let k = 0; k < 2; k++) block(128, 128, 256);
  conv(512, 128, 1); bn(512); s.push([512]);
  conv(512, 1, 7); bn(512);
  s.push([512, 512]); bn(512);
  return s;
}
const S = shapes();
const params = S.map((s) => randn(s).requiresGrad_(true));
for (const p of params) p.grad = randnLike(p);
const decay = params.filter((p) => p.ndim > 1);
const noDecay = params.filter((p) => p.ndim <= 1);
const nParams = params.reduce((a, p) => a + p.numel, 0);

function time(step: () => void): number {
  for (let i = 0; i < 5; i++) step();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) step();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6 / iters);
  }
  return best;
}

const opt = new SGD(
  [
    { params: decay, weightDecay: 5e-4 },
    { params: noDecay, weightDecay: 0 },
  ],
  { lr: 0.1, momentum: 0.9 },
);
const fused = time(() => opt.step());

// the same rule from tensor ops, one parameter at a time
const bufs = new Map<Tensor, Tensor>();
const composed = time(() =>
  noGrad(() => {
    for (const p of params) {
      scope(() => {
        const wd = p.ndim > 1 ? 5e-4 : 0;
        const g = p.grad!;
        const d = wd ? g.addScaled(p, wd) : g;
        const b = bufs.get(p);
        if (!b) {
          const nb = d.clone();
          bufs.set(p, nb);
          keep(nb);
          p.add_(nb, -0.1);
        } else {
          b.mul_(0.9).add_(d);
          p.add_(b, -0.1);
        }
      });
    }
  }),
);

const here = fileURLToPath(new URL('.', import.meta.url));
let py: Record<string, number> = {};
try {
  py = JSON.parse(execFileSync(referencePython(), [join(here, '..', '..', 'bench', 'sgd_ref.py'), String(threads), String(iters), JSON.stringify(S)], { encoding: 'utf8' }));
} catch (err) {
  console.error(`Python reference failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
}
console.log(`SGD step over ${S.length} tensors, ${nParams.toLocaleString('en-US')} parameters (MobileFaceNet + ESCA), ${threads} thread(s), best of 3 × ${iters}:`);
console.log(`  native fused SGD.step()        ${fused.toFixed(3)} ms`);
console.log(`  composed per-parameter (TS)    ${composed.toFixed(3)} ms   (fused/composed ${(fused / composed).toFixed(2)})`);
for (const [k, v] of Object.entries(py)) console.log(`  ${k.padEnd(30)} ${v.toFixed(3)} ms   (fused/python ${(fused / v).toFixed(2)})`);
opt.dispose();
