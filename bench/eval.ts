/**
 * bench/eval — the verification protocol and the alignment warp.
 *
 * 1. `verification.evaluate` on an LFW-sized set (6000 pairs, 512-d, flip TTA, 10 folds, ROC and
 *    TAR@FAR 1e-3/1e-4) against insightface's algorithm in numpy (bench/eval_ref.py: one scan per
 *    threshold and fold, as verification.py does), on the same embeddings, side by side; both
 *    print the same `Accuracy-Flip`.
 * 2. `align()` of a 640×480 RGB image to 112×112 (similarity estimate + bilinear warp), per image.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/eval.js [--pairs 6000] [--dim 512]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verification, alignRaw, ARCFACE_TEMPLATE } from '../lib/index.js';
import { referencePython } from './python.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const P = Number(arg('pairs', '6000'));
const D = Number(arg('dim', '512'));

// deterministic pseudo-random embeddings: pairs of noisy copies (half same)
let seed = 12345;
const rnd = (): number => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
};
const gauss = (): number => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
const emb = new Float32Array(2 * P * D);
const flip = new Float32Array(2 * P * D);
const issame = new Uint8Array(P);
for (let p = 0; p < P; p++) {
  issame[p] = p % 2 === 0 ? 1 : 0;
  const base = Array.from({ length: D }, gauss);
  const other = Array.from({ length: D }, gauss);
  for (let j = 0; j < D; j++) {
    const a = base[j]! + 0.8 * gauss();
    const b = (issame[p] ? base[j]! : other[j]!) + 0.8 * gauss();
    emb[2 * p * D + j] = 20 * a;
    emb[(2 * p + 1) * D + j] = 20 * b;
    flip[2 * p * D + j] = 20 * (a + 0.2 * gauss());
    flip[(2 * p + 1) * D + j] = 20 * (b + 0.2 * gauss());
  }
}
const same = Array.from(issame, (v) => v === 1);

const runs: number[] = [];
let printed = '';
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const r = verification.evaluate(emb, same, { flippedEmbeddings: flip, embeddingSize: D });
  runs.push((performance.now() - t0) / 1000);
  printed = verification.formatAccuracy(r);
}
runs.sort((a, b) => a - b);
const ours = runs[1]!;

const dir = mkdtempSync(join(tmpdir(), 'ecf-bench-eval-'));
writeFileSync(join(dir, 'e.f32'), Buffer.from(emb.buffer));
writeFileSync(join(dir, 'f.f32'), Buffer.from(flip.buffer));
writeFileSync(join(dir, 's.u8'), issame);
const here = fileURLToPath(new URL('.', import.meta.url));
const ref = JSON.parse(
  execFileSync(referencePython(), [join(here, '..', '..', 'bench', 'eval_ref.py'), join(dir, 'e.f32'), join(dir, 's.u8'), String(D), join(dir, 'f.f32')], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  }),
) as { seconds: number; printed: string };

console.log(`verification protocol, ${P} pairs × ${D}-d, flip TTA, 10 folds, ROC + TAR@FAR (1e-3, 1e-4):`);
console.log(`  ours (TypeScript, median of 3)       ${ours.toFixed(3)} s   Accuracy-Flip ${printed}`);
console.log(`  insightface algorithm (numpy, 1 run) ${ref.seconds.toFixed(3)} s   Accuracy-Flip ${ref.printed}`);
console.log(`  ratio ours/reference ${(ours / ref.seconds).toFixed(3)}  (same numbers: ${printed === ref.printed})`);

// alignment
const W = 640;
const H = 480;
const img = new Uint8Array(W * H * 3).map((_, i) => (i * 2654435761) >>> 24);
const lm = ARCFACE_TEMPLATE.map((v, i) => v * 2.1 + (i % 2 ? 150 : 260));
for (let i = 0; i < 20; i++) alignRaw({ data: img, width: W, height: H }, lm);
const n = 500;
const t0 = performance.now();
for (let i = 0; i < n; i++) alignRaw({ data: img, width: W, height: H }, lm);
console.log(`align 640×480 → 112×112: ${(((performance.now() - t0) / n) * 1000).toFixed(1)} µs per image (${n} images, JS thread)`);
