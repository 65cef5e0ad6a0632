/**
 * bench:backbones — forward+backward time at batch 8 (train mode) of the paper's backbones with
 * attention none/eca/esca/se/cbam, ours against the same model in Python PyTorch (Debian's
 * python3-torch: the same libtorch; bench/backbones_ref.py), side by side in one run, with the same
 * intra-op thread count. Prints (1) the time per config and the ratio ours/Python (goal ≤ 1.0),
 * (2) each attention's overhead over `none` on the same backbone (goal: ESCA ≤ +5% on IR_101).
 * Each config is measured ours-then-Python back to back, so both see the same machine load.
 *
 *   npm run bench:backbones [-- --ir101 --batch 8 --warmup 1 --iters 3 --threads N --archs mobilefacenet,ir50 --attentions none,eca,esca,se,cbam]
 *
 * IR_101 is off by default (about 2× IR_50's time; on 2 cores the whole default run takes ~5–10 min):
 * pass --ir101 to add it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getNumThreads, manualSeed, randn, scope, setNumThreads } from '../lib/index.js';
import { backbone, type Arch } from '../lib/models/index.js';
import type { AttentionKind } from '../lib/nn/index.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const batch = Number(arg('batch', '8'));
const warmup = Number(arg('warmup', '1'));
const iters = Number(arg('iters', '3'));
const threads = Number(arg('threads', String(getNumThreads())));
const archs = arg('archs', 'mobilefacenet,ir50').split(',') as Arch[];
if (flag('ir101') && !archs.includes('ir101')) archs.push('ir101');
const attentions = arg('attentions', 'none,eca,esca,se,cbam').split(',') as AttentionKind[];
setNumThreads(threads);
manualSeed(0);

const here = fileURLToPath(new URL('.', import.meta.url));
const refScript = join(here, '..', '..', 'bench', 'backbones_ref.py');

/** Median seconds of one forward+backward of ours. */
function ours(arch: Arch, att: AttentionKind): number {
  const m = backbone({ arch, attention: att });
  const x = randn([batch, 3, 112, 112]);
  const times: number[] = [];
  for (let i = 0; i < warmup + iters; i++) {
    const t0 = process.hrtime.bigint();
    scope(() => m.forward(x).sum().backward());
    m.zeroGrad();
    if (i >= warmup) times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  x.dispose();
  m.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function python(arch: Arch, att: AttentionKind): number | null {
  try {
    const out = execFileSync('/usr/bin/python3', [refScript, String(threads), String(batch), String(warmup), String(iters), `${arch}:${att}`], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    return (JSON.parse(out) as Record<string, number>)[`${arch}:${att}`] ?? null;
  } catch (e) {
    console.error(`Python reference unavailable (${(e as Error).message.split('\n')[0]}); run: sudo bash scripts/setup.sh --bench`);
    return null;
  }
}

console.log(`bench:backbones — forward+backward, batch ${batch}, train mode, median of ${iters} after ${warmup} warm-up, ${threads} intra-op thread(s)`);
console.log('backbone'.padEnd(15) + 'attention'.padEnd(11) + 'ours s'.padStart(9) + 'python s'.padStart(10) + 'ratio'.padStart(8));
const results = new Map<string, { ours: number; py: number | null }>();
for (const arch of archs) {
  for (const att of attentions) {
    const o = ours(arch, att);
    const p = python(arch, att);
    results.set(`${arch}:${att}`, { ours: o, py: p });
    console.log(
      arch.padEnd(15) + att.padEnd(11) + o.toFixed(3).padStart(9) + (p === null ? '—' : p.toFixed(3)).padStart(10) + (p === null ? '—' : (o / p).toFixed(2)).padStart(8),
    );
  }
}

console.log('\noverhead over none (same backbone; ours, python)');
for (const arch of archs) {
  const base = results.get(`${arch}:none`);
  if (!base) continue;
  for (const att of attentions) {
    if (att === 'none') continue;
    const r = results.get(`${arch}:${att}`)!;
    const po = ((r.ours / base.ours - 1) * 100).toFixed(1);
    const pp = r.py !== null && base.py !== null ? `${((r.py / base.py - 1) * 100).toFixed(1)}%` : '—';
    const goal = arch === 'ir101' && att === 'esca' ? '   (goal ≤ +5%)' : '';
    console.log(`${arch.padEnd(15)}${att.padEnd(11)}${`${po}%`.padStart(9)}${pp.padStart(10)}${goal}`);
  }
}
