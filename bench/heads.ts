/**
 * bench:heads — forward + backward of the CurricularFace head at batch 128, 512-d, for 10,575
 * (CASIA) and 85,742 (MS1MV2) classes: the fused native op against the same head as composed
 * ATen ops from TypeScript (`impl: 'composed'`) and against the official-code formulation in
 * Python PyTorch (bench/heads_ref.py on Debian's python3-torch, same libtorch, same threads).
 *
 * Each variant runs in its own child process, so peak memory is that process's: the Linux RSS
 * high-water mark (VmHWM) is reset (`echo 5 > /proc/self/clear_refs`) after the head, the
 * embeddings and one warm-up step exist; "peak" is VmHWM − VmRSS at that point, i.e. the extra
 * memory one training step touches (gradients included, the kernel's gradient dropped before
 * each step as `zero_grad(set_to_none=True)`).
 *
 * On a GPU (`--device cuda`): times with a device synchronisation after each step; peak memory
 * is not measured for our side there (the Python side reports torch.cuda.max_memory_allocated).
 * The reference interpreter is --python, else $ECF_BENCH_PYTHON, else Debian's /usr/bin/python3
 * (bench/python.ts).
 *
 * --rounds N runs the three sides N times in turn (fused, composed, Python, fused, …), so all see
 * the same load; each side's median round is shown.
 *
 *   npm run bench:heads [-- --iters 5 --threads 2 --classes 10575,85742 --device cpu|cuda --rounds 1 --python PATH]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cuda, heads, manualSeed, randint, randn, setNumThreads } from '../lib/index.js';
import { describeSides, referencePython } from './python.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

const B = 128;
const D = 512;

interface Measure {
  ms: number; // median ms per forward+backward
  peakMiB: number; // extra resident memory of one step
  loss: number;
}

function statusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Child: one variant, one class count. */
function child(impl: 'fused' | 'composed', C: number, iters: number, threads: number, device: 'cpu' | 'cuda'): Measure {
  setNumThreads(threads);
  manualSeed(0);
  const head = heads.create({ type: 'curricularface', numClasses: C, embeddingSize: D, impl }).to(device);
  const x = randn([B, D], { device }).requiresGrad_();
  const y = randint(0, C, [B], { device });
  const step = (): number => {
    head.zeroGrad();
    x.zeroGrad();
    const out = head.forward(x, y);
    out.loss.backward();
    if (device === 'cuda') cuda.synchronize();
    const l = out.loss.item();
    out.loss.dispose();
    return l;
  };
  step();
  head.zeroGrad();
  x.zeroGrad();
  writeFileSync('/proc/self/clear_refs', '5');
  const base = statusKiB('VmRSS');
  const times: number[] = [];
  let loss = 0;
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    loss = step();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const peak = statusKiB('VmHWM');
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, peakMiB: device === 'cuda' ? NaN : (peak - base) / 1024, loss };
}

const self = fileURLToPath(import.meta.url);
const iters = Number(arg('iters', '5'));
const threads = Number(arg('threads', String(availableParallelism())));
const device = arg('device', 'cpu') as 'cpu' | 'cuda';

if (process.argv[2] === '--child') {
  const r = child(process.argv[3] as 'fused' | 'composed', Number(process.argv[4]), iters, threads, device);
  process.stdout.write(JSON.stringify(r));
} else {
  const classes = arg('classes', '10575,85742').split(',').map(Number);
  const rounds = Number(arg('rounds', '1'));
  /** The round with the median time (its peak and loss with it), or null when every round failed. */
  const medianRound = (ms: Measure[]): Measure | null => (ms.length ? ms.slice().sort((a, b) => a.ms - b.ms)[Math.floor(ms.length / 2)]! : null);
  const refScript = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bench', 'heads_ref.py');
  const python = referencePython();
  const run = (cmd: string, args: string[]): Measure | null => {
    try {
      return JSON.parse(execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as Measure;
    } catch (e) {
      console.error(`${cmd} ${args[0]}: ${(e as Error).message.split('\n')[0]}`);
      return null;
    }
  };
  console.log(
    `bench:heads — CurricularFace forward+backward, batch ${B}, ${D}-d, median of ${iters}, ${threads} thread(s), ${device}` +
      (rounds > 1 ? `, median of ${rounds} alternating rounds` : ''),
  );
  console.log(describeSides(python));
  console.log(
    device === 'cpu'
      ? 'peak = extra resident memory of one step (VmHWM after reset − VmRSS before), MiB'
      : 'peak (python only) = torch.cuda.max_memory_allocated during the steps − allocated before, MiB',
  );
  console.log(
    'classes'.padEnd(9) +
      ['fused ms', 'comp ms', 'py ms', 'fused MiB', 'comp MiB', 'py MiB', 'comp/fused', 'py/fused', 'mem f/c'].map((s) => s.padStart(11)).join(''),
  );
  for (const C of classes) {
    const common = [String(C), '--iters', String(iters), '--threads', String(threads), '--device', device];
    // rounds alternate the three sides (fused, composed, Python, fused, …); each side's median round counts
    const fs: Measure[] = [];
    const cs: Measure[] = [];
    const ps: Measure[] = [];
    for (let r = 0; r < rounds; r++) {
      const push = (into: Measure[], m: Measure | null) => m && into.push(m);
      push(fs, run(process.execPath, [self, '--child', 'fused', ...common]));
      push(cs, run(process.execPath, [self, '--child', 'composed', ...common]));
      push(ps, run(python, [refScript, String(C), String(iters), String(threads), device]));
    }
    const f = medianRound(fs);
    const c = medianRound(cs);
    const p = medianRound(ps);
    const num = (v: number | null | undefined, d = 1) => (typeof v !== 'number' || Number.isNaN(v) ? '—' : v.toFixed(d)).padStart(11);
    console.log(
      String(C).padEnd(9) +
        num(f?.ms) +
        num(c?.ms) +
        num(p?.ms) +
        num(f?.peakMiB) +
        num(c?.peakMiB) +
        num(p?.peakMiB) +
        num(f && c ? c.ms / f.ms : NaN, 2) +
        num(f && p ? p.ms / f.ms : NaN, 2) +
        num(f && c ? f.peakMiB / c.peakMiB : NaN, 2),
    );
    if (f && c && p) {
      console.log(`         losses: fused ${f.loss.toFixed(4)}, composed ${c.loss.toFixed(4)}, python ${p.loss.toFixed(4)} (same formula, different random inputs for python)`);
    }
  }
  console.log('goals: comp/fused ≥ 1.5, py/fused ≥ 1.5, mem f/c ≤ 0.6');
}
