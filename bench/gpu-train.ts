/**
 * bench:gpu-train — training throughput of ours against PyTorch eager on the same card, in one
 * script: train steps (forward under bfloat16 autocast, CurricularFace loss in float32, backward,
 * SGD momentum 0.9 / weight decay 5e-4 off BN) on a fixed synthetic batch, for MobileFaceNet,
 * IR_50 and IR_101, each with ESCA and with no attention, at batch 512 and 128, 85,742 classes.
 * Both sides read the loss every step (`loss.item()`), as both training loops do. Each row also
 * reports the peak CUDA memory of the timed steps (ours: memory().cudaAllocator, PyTorch:
 * max_memory_allocated). With --graph-batches (default 128), those batches get extra rows of ours
 * with the whole train step captured as one CUDA graph (bench/graphed-step.ts) and replayed.
 *
 * The reference, bench/gpu-train_ref.py, is driven as a child server (same card, one process at
 * a time on the GPU: each side frees its memory before the other runs): the same layouts (the
 * independent models of test/fixtures/models), the official CurricularFace head, channels_last,
 * cudnn.benchmark, foreach SGD. It also measures the card's bf16 matmul rate (8192³).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/gpu-train.js --out gpu-out/train.json
 *   options: --device cuda|cpu  --classes 85742  --batches 512,128  --archs ir50,ir101,mobilefacenet
 *            --attention esca,none  --warmup 2  --iters 8  --budget 240 (s; later configs skipped)
 *            --python python3  --no-ref  --graph-batches 128 (CUDA-graph rows of ours; '' = none)
 * Dry run on a CPU machine: --device cpu --batches 2 --classes 1000 --warmup 1 --iters 1 --python /usr/bin/python3
 */
import { spawn } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { backboneSpec, buildBackbone, type Arch } from '../lib/models/index.js';
import { create as createHead } from '../lib/heads/index.js';
import { weightDecayGroups } from '../lib/nn/index.js';
import type { AttentionKind } from '../lib/nn/attention/base.js';
import { autocast, buildInfo, cuda, manualSeed, memory, randint, randn, scope, type Tensor } from '../lib/tensor/index.js';
import { GraphedTrainStep } from './graphed-step.js';
import { SGD } from '../lib/train/sgd.js';
import { referencePython } from './python.js';

function opt(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const device = opt('device', 'cuda') as 'cuda' | 'cpu';
const classes = Number(opt('classes', '85742'));
const batches = opt('batches', '512,128').split(',').map(Number);
const archs = opt('archs', 'ir50,ir101,mobilefacenet').split(',') as Arch[];
const atts = opt('attention', 'esca,none').split(',') as AttentionKind[];
const warmup = Number(opt('warmup', '2'));
const iters = Number(opt('iters', '8'));
const budget = Number(opt('budget', '240'));
const python = referencePython('python3'); // --python, $ECF_BENCH_PYTHON, else python3 on PATH
const outPath = opt('out', '');
const withRef = !process.argv.includes('--no-ref');
const graphBatches = opt('graph-batches', '128')
  .split(',')
  .filter((v) => v !== '')
  .map(Number);
const amp = device === 'cuda';
const GFLOP_PER_IMAGE: Record<string, number> = { ir50: 6 * 6.3 }; // the issue's figure: 6 × 6.3 GMAC

const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const sync = () => {
  if (device === 'cuda') cuda.synchronize();
};

/** The reference server (bench/gpu-train_ref.py), one JSON line per command. */
class Ref {
  readonly #child;
  readonly #lines: AsyncIterator<string>;
  constructor() {
    const here = dirname(fileURLToPath(import.meta.url));
    const script = join(here, '..', '..', 'bench', 'gpu-train_ref.py');
    this.#child = spawn(python, [script, device], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    this.#lines = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]();
  }
  async ask(cmd: string): Promise<Record<string, unknown>> {
    this.#child.stdin.write(cmd + '\n');
    const r = await this.#lines.next();
    if (r.done) throw new Error(`gpu-train_ref.py exited before answering '${cmd}'`);
    const v = JSON.parse(r.value) as Record<string, unknown>;
    if (typeof v.error === 'string') throw new Error(`gpu-train_ref.py: ${v.error}`);
    return v;
  }
  close(): void {
    this.#child.stdin.end('quit\n');
  }
}

interface Side {
  imgPerSec: number;
  msPerStep: number;
  loss: number;
  /** Peak CUDA memory allocated during the timed steps, GiB (0 on the CPU). */
  peakGB: number | null;
}

/**
 * Our side: build, warm up (cuDNN autotuning), time `iters` steps, free everything. With `graph`,
 * the warm-up is followed by the capture of one step as a CUDA graph and the timed steps replay it
 * (reading the loss each step, as the eager steps do).
 */
function ours(arch: Arch, attention: AttentionKind, batch: number, graph = false): Side {
  manualSeed(0);
  const backbone = buildBackbone(backboneSpec({ arch, attention })).to(device);
  const head = createHead({ type: 'curricularface', numClasses: classes, embeddingSize: 512 }).to(device);
  const g = weightDecayGroups(backbone);
  const opt = new SGD(
    [
      { params: [...g.decay, ...head.parameters()], weightDecay: 5e-4 },
      { params: g.noDecay, weightDecay: 0 },
    ],
    { lr: 0.1, momentum: 0.9 },
  );
  backbone.train(true);
  head.train(true);
  const x: Tensor = scope(() => randn([batch, 3, 112, 112], { device }).contiguous('channelsLast'));
  const y: Tensor = randint(0, classes, [batch], { device });
  let loss = NaN;
  // forward, loss, backward, SGD: the loss as a tensor (no host synchronisation)
  const lossOf = (): Tensor => {
    const emb = amp ? autocast('bfloat16', () => backbone.forward(x)) : backbone.forward(x);
    const out = head.forward(emb.dtype === 'float32' ? emb : emb.float(), y);
    out.loss.backward();
    opt.step();
    return out.loss;
  };
  const step = () => {
    loss = scope(() => lossOf().item());
    opt.zeroGrad();
  };
  let graphed: GraphedTrainStep | null = null;
  try {
    if (graph) graphed = GraphedTrainStep.create({ inputs: [x, y], step: lossOf, zeroGrad: () => opt.zeroGrad(), warmup: Math.max(1, warmup) });
    else for (let i = 0; i < warmup; i++) step();
    sync();
    memory({ resetPeak: true });
    const s = performance.now();
    for (let i = 0; i < iters; i++) {
      if (graphed) loss = graphed.run([x, y]).item();
      else step();
    }
    sync();
    const sec = (performance.now() - s) / 1000;
    const peak = memory().cudaAllocator.peakAllocatedBytes;
    return { imgPerSec: (batch * iters) / sec, msPerStep: (sec * 1000) / iters, loss, peakGB: device === 'cuda' ? peak / 2 ** 30 : null };
  } finally {
    graphed?.dispose();
    opt.dispose();
    x.dispose();
    y.dispose();
    backbone.dispose();
    head.dispose();
    if (device === 'cuda') cuda.emptyCache();
  }
}

interface Row {
  arch: Arch;
  attention: AttentionKind;
  batch: number;
  /** Ours with the train step as one CUDA graph (no reference run for these rows). */
  graph?: boolean;
  ours?: Side;
  ref?: Side;
  ratio?: number;
  skipped?: string;
  error?: string;
}

async function main(): Promise<void> {
  if (device === 'cuda' && !cuda.isAvailable()) throw new Error('gpu-train: CUDA is not available (build with CUDA libtorch, or pass --device cpu)');
  const card = device === 'cuda' ? cuda.deviceName(0) : 'cpu';
  const settings = { classes, warmup, iters, amp: amp ? 'bfloat16' : 'off', channelsLast: true, cudnnBenchmark: device === 'cuda', lossItemEveryStep: true };
  const prevBench = device === 'cuda' ? cuda.cudnnBenchmark(true) : false;
  const ref = withRef ? new Ref() : null;
  let refInfo: Record<string, unknown> = {};
  if (ref) refInfo = await ref.ask(device === 'cuda' ? 'info 8192' : 'info 512');
  console.log(`gpu-train: ${card}; ours: libtorch ${buildInfo().torchVersion}; reference: ${JSON.stringify(refInfo)}`);
  const rows: Row[] = [];
  // partial results on disk after every row, in case the machine's time runs out mid-list
  const save = (rs: Row[], extra: Record<string, unknown> = {}) => {
    if (!outPath) return;
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, JSON.stringify({ card, device, when: new Date().toISOString(), ours: { libtorch: buildInfo().torchVersion, node: process.version }, reference: refInfo, settings, rows: rs, ...extra }, null, 2));
  };
  const f = (s?: Side) =>
    s ? `${s.imgPerSec.toFixed(0).padStart(7)} img/s ${s.msPerStep.toFixed(1).padStart(7)} ms ${s.peakGB === null ? '' : `${s.peakGB.toFixed(1)} GB`}` : '        -';
  const measureRow = async (arch: Arch, attention: AttentionKind, batch: number, graph: boolean): Promise<void> => {
    const row: Row = graph ? { arch, attention, batch, graph } : { arch, attention, batch };
    rows.push(row);
    if (elapsed() > budget) {
      row.skipped = `time budget ${budget} s spent`;
      return;
    }
    // each side on its own: a failure of one still measures the other
    const errors: string[] = [];
    try {
      row.ours = ours(arch, attention, batch, graph);
    } catch (e) {
      errors.push(`ours: ${(e as Error).message.split('\n')[0]}`);
      if (device === 'cuda') cuda.emptyCache();
    }
    if (ref && !graph) {
      try {
        const r = await ref.ask(`run ${arch} ${attention} ${batch} ${classes} ${warmup} ${iters}`);
        row.ref = { imgPerSec: Number(r.imgPerSec), msPerStep: Number(r.msPerStep), loss: Number(r.loss), peakGB: typeof r.peakGB === 'number' ? r.peakGB : null };
      } catch (e) {
        errors.push(`reference: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    // graph rows: against PyTorch eager's row of the same configuration
    const refSide = graph ? rows.find((r) => !r.graph && r.arch === arch && r.attention === attention && r.batch === batch)?.ref : row.ref;
    if (row.ours && refSide) row.ratio = row.ours.imgPerSec / refSide.imgPerSec;
    if (errors.length) row.error = errors.join('; ');
    save(rows);
    console.log(
      `[${elapsed().toFixed(0).padStart(4)} s] ${arch.padEnd(13)} ${attention.padEnd(5)} b${String(batch).padEnd(4)}${graph ? ' graph' : '      '} ours ${f(row.ours)}   torch ${f(row.ref)}   ` +
        (row.ratio !== undefined ? `×${row.ratio.toFixed(2)}` : '') +
        (row.error ? ` ERROR ${row.error}` : ''),
    );
  };
  for (const batch of batches) {
    // the large batch from the largest model down, the small one from the smallest up: the rows
    // the goals need most come first when the time budget cuts the list short
    const order = batch >= 256 ? archs : [...archs].reverse();
    for (const arch of order) for (const attention of atts) await measureRow(arch, attention, batch, false);
    // then ours with the whole step as one CUDA graph, at the small batch
    if (graphBatches.includes(batch)) for (const arch of order) for (const attention of atts) await measureRow(arch, attention, batch, true);
  }
  ref?.close();
  if (device === 'cuda') cuda.cudnnBenchmark(prevBench);

  // goals of issue 8
  const get = (a: string, att: string, b: number) => rows.find((r) => !r.graph && r.arch === a && r.attention === att && r.batch === b);
  const graphGain: Record<string, number> = {};
  for (const r of rows.filter((q) => q.graph && q.ours)) {
    const e = get(r.arch, r.attention, r.batch)?.ours;
    if (e) graphGain[`${r.arch}+${r.attention}@${r.batch}`] = r.ours!.imgPerSec / e.imgPerSec;
  }
  const matmulTflops = typeof refInfo.matmulTflops === 'number' ? refInfo.matmulTflops : NaN;
  // time per image with ESCA over time per image without, minus one: ours and PyTorch's
  const escaCost: Record<string, { ours?: number; reference?: number }> = {};
  for (const b of batches) {
    for (const a of archs) {
      const e = get(a, 'esca', b);
      const n = get(a, 'none', b);
      const c: { ours?: number; reference?: number } = {};
      if (e?.ours && n?.ours) c.ours = n.ours.imgPerSec / e.ours.imgPerSec - 1;
      if (e?.ref && n?.ref) c.reference = n.ref.imgPerSec / e.ref.imgPerSec - 1;
      if (c.ours !== undefined || c.reference !== undefined) escaCost[`${a}@${b}`] = c;
    }
  }
  const ir50Att = get('ir50', 'esca', 512)?.ours ? 'esca' : 'none';
  const ir50 = get('ir50', ir50Att, 512)?.ours;
  const ir50Tflops = ir50 ? (ir50.imgPerSec * GFLOP_PER_IMAGE.ir50!) / 1000 : NaN;
  const ir50Fraction = ir50Tflops / matmulTflops;
  save(rows, { escaCost, graphGain, ir50: { attention: ir50Att, tflops: ir50Tflops, fractionOfMatmul: ir50Fraction } });

  // summary table, last
  console.log(`\n== training throughput on ${card} (img/s; ${amp ? 'bf16 autocast' : 'float32'}, ${classes} classes; ours vs PyTorch ${String(refInfo.torch ?? '-')} eager) ==`);
  console.log('| model | attention | batch | step | ours img/s | ours peak GB | PyTorch eager img/s | PyTorch peak GB | ratio |');
  console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const v = (s?: Side) => (s ? s.imgPerSec.toFixed(0) : r.skipped ? 'skipped' : r.error ? 'error' : '-');
    const gb = (s?: Side) => (s && s.peakGB !== null ? s.peakGB.toFixed(2) : '-');
    const refSide = r.graph ? rows.find((q) => !q.graph && q.arch === r.arch && q.attention === r.attention && q.batch === r.batch)?.ref : r.ref;
    console.log(
      `| ${r.arch} | ${r.attention} | ${r.batch} | ${r.graph ? 'CUDA graph' : 'eager'} | ${v(r.ours)} | ${gb(r.ours)} | ${v(refSide)} | ${gb(refSide)} | ${r.ratio !== undefined ? r.ratio.toFixed(2) + '×' : '-'} |`,
    );
  }
  const pct = (v?: number) => (v === undefined ? '-' : `${(100 * v).toFixed(1)}%`);
  for (const [k, v] of Object.entries(escaCost)) console.log(`ESCA cost over no attention, ${k}: ours ${pct(v.ours)}, PyTorch ${pct(v.reference)}`);
  for (const [k, v] of Object.entries(graphGain)) console.log(`CUDA graph over eager (ours), ${k}: ×${v.toFixed(2)}`);
  console.log(`bf16 matmul ${Number.isFinite(matmulTflops) ? matmulTflops.toFixed(0) : '-'} TFLOP/s; IR_50 (${ir50Att})@512 ${ir50Tflops.toFixed(1)} TFLOP/s = ${(100 * ir50Fraction).toFixed(1)}% of it`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
