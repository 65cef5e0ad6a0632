/**
 * bench:finite-check — the cost of the NaN guard (lib/train/finite.ts) that runs before every
 * checkpoint and export, against the write it protects: IR-50 + ESCA and a CurricularFace head
 * (CASIA's 10,572 classes by default), on CPU. Prints ms per guard, ms per safetensors write of
 * the same tensors, and their ratio.
 *
 *   npx tsc -p tsconfig.json && npm run bench:finite-check -- [--arch ir50 --classes 10572 --reps 5 --threads 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '../lib/heads/index.js';
import { saveSafetensors } from '../lib/io/safetensors.js';
import { backbone as buildPreset, type Arch } from '../lib/models/index.js';
import { manualSeed, setNumThreads } from '../lib/tensor/index.js';
import { moduleTensors } from '../lib/train/checkpoint.js';
import { nonFiniteTensors } from '../lib/train/finite.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}
const arch = arg('arch', 'ir50');
const classes = Number(arg('classes', '10572'));
const reps = Number(arg('reps', '5'));
setNumThreads(Number(arg('threads', '2')));
manualSeed(0);

const backbone = buildPreset({ arch: arch as Arch, attention: 'esca' });
const head = create({ type: 'curricularface', numClasses: classes, embeddingSize: 512 });
// what a checkpoint and the guard before it see
const named = moduleTensors({ backbone, head });
const values = [...named.values()].reduce((n, t) => n + t.numel, 0);
const dir = mkdtempSync(join(tmpdir(), 'ecf-finite-'));

const time = (fn: () => void): number => {
  fn(); // warm-up
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
};

const guard = time(() => {
  if (nonFiniteTensors(named).length) throw new Error('a fresh model is not finite');
});
const write = time(() => saveSafetensors(join(dir, 'checkpoint.safetensors'), named));
rmSync(dir, { recursive: true, force: true });
console.log(`${arch} + esca, curricularface ${classes} classes: ${named.size} tensors, ${(values / 1e6).toFixed(1)} M values`);
console.log(`NaN guard        ${guard.toFixed(1)} ms (median of ${reps})`);
console.log(`safetensors save ${write.toFixed(1)} ms (median of ${reps})`);
console.log(`guard / save     ${(guard / write).toFixed(3)}`);
