/**
 * The ESCA op alone, forward + backward: the fused native op (native/ops/esca.cc, hand-written
 * kernels) against the same math composed of ATen ops (escaComposed, libtorch autograd), side by
 * side in one run, on the attention shapes of IR_50/IR_101 and MobileFaceNet at batch 8.
 * Also, when Debian's python3-torch is there, the composed op in Python PyTorch eager
 * (bench/esca-op_ref.py, same libtorch, same thread count). Goal: fused ≥ 2× faster than composed.
 *
 * With --channels-last every side gets channels_last input (and output gradient): the fused op
 * then runs its NHWC kernels (kernels/esca_cpu_nhwc.h) with no layout conversion.
 *
 *   node dist/bench/esca-op.js [--threads 2] [--reps 5] [--no-python] [--channels-last]
 *
 * `benchEscaOp()` returns the rows so that the backbones benchmark can print them too.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { esca, escaComposed } from '../lib/ops/esca.js';
import { getNumThreads, manualSeed, randn, scope, setNumThreads, type Tensor } from '../lib/tensor/index.js';
import { referencePython } from './python.js';

/** One benchmarked shape. */
export interface EscaOpRow {
  /** Which network stage the shape comes from. */
  model: string;
  /** [N, C, H, W]. */
  shape: [number, number, number, number];
  /** ECA kernel size k(C). */
  k: number;
  /** Fused native op, forward + backward, median ms. */
  fusedMs: number;
  /** Composed ATen ops with libtorch autograd, forward + backward, median ms. */
  composedMs: number;
  /** composedMs / fusedMs. */
  speedup: number;
  /** Process CPU time (all threads, user + system) of one fused forward + backward, median ms. */
  fusedCpuMs: number;
  /** Same for the composed op. */
  composedCpuMs: number;
  /** composedCpuMs / fusedCpuMs: less sensitive to other load on the machine than wall time. */
  cpuSpeedup: number;
  /** Python PyTorch eager composed op, median ms (null when python3-torch is unavailable). */
  pythonMs: number | null;
}

/** Options of {@link benchEscaOp}. */
export interface EscaOpOptions {
  /** Intra-op threads for both sides (default: the current setting). */
  threads?: number;
  /** Timed repetitions per shape and side (median reported; default 5). */
  reps?: number;
  /** Also time the Python PyTorch composed op (default true). */
  python?: boolean;
  /** Shapes to run (default: IR stages 1–4 and MobileFaceNet's three widths at batch 8). */
  shapes?: { model: string; shape: [number, number, number, number] }[];
  /** channels_last input and output gradient on every side (default false). */
  channelsLast?: boolean;
}

/** IR_50/IR_101 stage outputs and MobileFaceNet block outputs at batch 8. */
export const ESCA_BENCH_SHAPES: { model: string; shape: [number, number, number, number] }[] = [
  { model: 'IR stage 1', shape: [8, 64, 56, 56] },
  { model: 'IR stage 2', shape: [8, 128, 28, 28] },
  { model: 'IR stage 3', shape: [8, 256, 14, 14] },
  { model: 'IR stage 4', shape: [8, 512, 7, 7] },
  { model: 'MobileFaceNet 28²', shape: [8, 64, 28, 28] },
  { model: 'MobileFaceNet 14²', shape: [8, 128, 14, 14] },
  { model: 'MobileFaceNet 7²', shape: [8, 128, 7, 7] },
];

/** ECA's k(C): t = int(|log2(C)/2 + 1/2|), k = t odd ? t : t + 1. */
function kOf(c: number): number {
  const t = Math.trunc(Math.abs(Math.log2(c) / 2 + 0.5));
  return t % 2 === 1 ? t : t + 1;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

type EscaFn = (x: Tensor, wca: Tensor, wsa: Tensor) => Tensor;

/** Median wall and CPU milliseconds of one forward + backward. */
function timeFwdBwd(
  fn: EscaFn,
  x: Tensor,
  wca: Tensor,
  wsa: Tensor,
  go: Tensor,
  reps: number,
): { wall: number; cpu: number } {
  const once = (): void =>
    scope(() => {
      for (const t of [x, wca, wsa]) t.zeroGrad();
      fn(x, wca, wsa).backward(go);
    });
  once();
  once();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    once();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

function pythonTimes(
  shapes: [number, number, number, number][],
  threads: number,
  reps: number,
  channelsLast: boolean,
): (number | null)[] {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const script = join(here, '..', '..', 'bench', 'esca-op_ref.py');
  try {
    const out = execFileSync(referencePython(), [script, String(threads), String(reps), JSON.stringify(shapes), channelsLast ? 'channels_last' : 'contiguous'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out) as number[];
  } catch (e) {
    console.error(
      `Python reference unavailable (${(e as Error).message.split('\n')[0]}); run: sudo bash scripts/setup.sh --bench`,
    );
    return shapes.map(() => null);
  }
}

/** Times the fused and the composed ESCA op, forward + backward, on each shape. */
export async function benchEscaOp(options: EscaOpOptions = {}): Promise<EscaOpRow[]> {
  const before = getNumThreads();
  const threads = options.threads ?? before;
  const reps = options.reps ?? 5;
  const shapes = options.shapes ?? ESCA_BENCH_SHAPES;
  setNumThreads(threads);
  manualSeed(0);
  const rows: EscaOpRow[] = [];
  try {
    for (const { model, shape } of shapes) {
      const c = shape[1];
      const k = kOf(c);
      const r = scope(() => {
        const cl = options.channelsLast ?? false;
        const x = cl ? randn(shape).contiguous('channelsLast') : randn(shape);
        x.requiresGrad = true;
        const wca = randn([1, 1, k], { requiresGrad: true });
        const wsa = randn([1, 2 * c, 3, 3]).mul(1 / Math.sqrt(18 * c)).detach();
        wsa.requiresGrad = true;
        const go = cl ? randn(shape).contiguous('channelsLast') : randn(shape);
        const tf = timeFwdBwd(esca, x, wca, wsa, go, reps);
        const tc = timeFwdBwd(escaComposed, x, wca, wsa, go, reps);
        return { fusedMs: tf.wall, composedMs: tc.wall, fusedCpuMs: tf.cpu, composedCpuMs: tc.cpu };
      });
      rows.push({
        model,
        shape,
        k,
        ...r,
        speedup: r.composedMs / r.fusedMs,
        cpuSpeedup: r.composedCpuMs / r.fusedCpuMs,
        pythonMs: null,
      });
      await new Promise((res) => setImmediate(res));
    }
  } finally {
    setNumThreads(before);
  }
  if (options.python ?? true) {
    const py = pythonTimes(
      shapes.map((s) => s.shape),
      threads,
      reps,
      options.channelsLast ?? false,
    );
    rows.forEach((row, i) => (row.pythonMs = py[i] ?? null));
  }
  return rows;
}

/** Prints rows as a table. */
export function printEscaOpRows(rows: EscaOpRow[], threads: number, channelsLast = false): void {
  console.log(
    `ESCA op alone, forward + backward, float32, CPU, ${channelsLast ? 'channels_last' : 'contiguous NCHW'} input, ` +
      `${threads} intra-op thread(s), median ms`,
  );
  console.log('(wall ms; "cpu" columns: process CPU ms, which other load on the machine disturbs less)');
  console.log(
    'model'.padEnd(20) +
      'shape'.padEnd(18) +
      'fused'.padStart(9) +
      'composed'.padStart(10) +
      'speed-up'.padStart(10) +
      'cpu fused'.padStart(11) +
      'cpu comp.'.padStart(11) +
      'cpu x'.padStart(8) +
      'python'.padStart(9) +
      'vs py'.padStart(8),
  );
  for (const r of rows) {
    console.log(
      r.model.padEnd(20) +
        `[${r.shape.join(',')}]`.padEnd(18) +
        r.fusedMs.toFixed(2).padStart(9) +
        r.composedMs.toFixed(2).padStart(10) +
        `${r.speedup.toFixed(2)}×`.padStart(10) +
        r.fusedCpuMs.toFixed(2).padStart(11) +
        r.composedCpuMs.toFixed(2).padStart(11) +
        `${r.cpuSpeedup.toFixed(2)}×`.padStart(8) +
        (r.pythonMs === null ? '—' : r.pythonMs.toFixed(2)).padStart(9) +
        (r.pythonMs === null ? '—' : `${(r.pythonMs / r.fusedMs).toFixed(2)}×`).padStart(8),
    );
  }
  const gm = (f: (r: EscaOpRow) => number): number =>
    Math.exp(rows.reduce((s, r) => s + Math.log(f(r)), 0) / rows.length);
  console.log(
    `geometric-mean speed-up fused vs composed: ${gm((r) => r.speedup).toFixed(2)}× wall, ` +
      `${gm((r) => r.cpuSpeedup).toFixed(2)}× CPU time (goal ≥ 2×)`,
  );
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const threads = Number(arg('threads') ?? 2);
  const reps = Number(arg('reps') ?? 5);
  const channelsLast = process.argv.includes('--channels-last');
  const rows = await benchEscaOp({ threads, reps, python: !process.argv.includes('--no-python'), channelsLast });
  printEscaOpRows(rows, threads, channelsLast);
}
