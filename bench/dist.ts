/**
 * bench:dist — data-parallel training steps on CPU (Gloo over 127.0.0.1): one process vs two
 * ranks, same per-rank batch, MobileFaceNet+ESCA at 112×112 (or --arch). Each rank reports its
 * step time, the time afterBackward() waited for the gradient allreduce (communication the
 * backward did not hide), and, after training, one allreduce of all the gradients on its own
 * (what it would cost without overlap). Worker processes are this file with --worker.
 *
 *   npm run bench:dist -- [--steps 6 --batch 8 --threads 1 --arch mobilefacenet --bucket-mb 25]
 *
 * `--head`: the sharded CurricularFace head instead (2 ranks, 512-d, --classes in all, --batch per
 * rank): its fused implementation (the margin op's sharded form) against the composed ATen ops,
 * both in the same processes, steps interleaved (forward + backward, embeddings gathered); then the
 * extra resident memory of one step of each (VmHWM reset before it).
 *
 *   npm run bench:dist -- --head [--classes 85742 --batch 64 --steps 4 --threads 1]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { ARCHS, type Arch } from '../lib/models/archs.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}
const steps = Number(arg('steps', '6'));
const batch = Number(arg('batch', '8'));
const threads = arg('threads', '1');
const archArg = arg('arch', 'mobilefacenet');
if (!(ARCHS as readonly string[]).includes(archArg)) throw new Error(`bench:dist: --arch must be one of ${ARCHS.join(', ')}, got '${archArg}'`);
const arch = archArg as Arch;
const bucketMB = arg('bucket-mb', '25');
const headMode = process.argv.includes('--head');
const classes = Number(arg('classes', '85742'));
const headBatch = Number(arg('batch', '64'));

interface WorkerResult {
  rank: number;
  world: number;
  stepMs: number;
  waitMs: number;
  allreduceMs: number;
  gradMB: number;
  buckets: number;
}

async function worker(): Promise<void> {
  const { init, DataParallel } = await import('../lib/distributed/index.js');
  const { backbone } = await import('../lib/models/index.js');
  const { manualSeed, randn, cat, noGrad } = await import('../lib/tensor/index.js');
  const { group, rank, worldSize } = await init({ timeoutMs: 120_000 });
  manualSeed(0);
  const model = backbone({ arch, attention: 'esca' });
  const dp = await DataParallel.create(model, group, { bucketCapMB: Number(bucketMB) });
  const x = randn([batch, 3, 112, 112]);
  const times: number[] = [];
  let wait0 = 0;
  for (let s = 0; s < steps + 1; s++) {
    if (s === 1) wait0 = dp.stats().waitMs; // step 0 warms up
    const t0 = performance.now();
    dp.beforeBackward(true);
    const y = model.forward(x);
    const loss = y.square().mean();
    loss.backward();
    dp.afterBackward();
    loss.dispose();
    y.dispose();
    model.zeroGrad();
    if (s > 0) times.push(performance.now() - t0);
  }
  const waitMs = (dp.stats().waitMs - wait0) / steps;
  // The same bytes in one allreduce, not overlapped with anything.
  const flat = noGrad(() => cat(model.parameters().map((p) => p.detach().reshape([-1])), 0));
  await group.allReduce(flat);
  const t0 = performance.now();
  for (let k = 0; k < 3; k++) await group.allReduce(flat);
  const allreduceMs = (performance.now() - t0) / 3;
  const r: WorkerResult = {
    rank,
    world: worldSize,
    stepMs: times.reduce((a, b) => a + b, 0) / times.length,
    waitMs,
    allreduceMs,
    gradMB: (flat.numel * 4) / 2 ** 20,
    buckets: dp.stats().bucketNumel.length,
  };
  dp.dispose();
  group.destroy();
  console.log(JSON.stringify(r));
}

interface HeadResult {
  rank: number;
  classesLocal: number;
  /** median ms per step, per implementation */
  ms: Record<'fused' | 'composed', number>;
  /** extra resident MiB of one step */
  peakMiB: Record<'fused' | 'composed', number>;
  loss: Record<'fused' | 'composed', number>;
}

function statusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function headWorker(): Promise<void> {
  const { init, ShardedMarginHead } = await import('../lib/distributed/index.js');
  const { manualSeed, noGrad, randn, randint } = await import('../lib/tensor/index.js');
  const { group, rank } = await init({ timeoutMs: 600_000 });
  const D = 512;
  const impls = ['fused', 'composed'] as const;
  manualSeed(rank);
  const head = Object.fromEntries(
    impls.map((impl) => [impl, new ShardedMarginHead({ group, head: { type: 'curricularface', numClasses: classes, embeddingSize: D, impl } })]),
  ) as Record<(typeof impls)[number], InstanceType<typeof ShardedMarginHead>>;
  noGrad(() => head.composed.kernel.copy_(head.fused.kernel)); // same weights: the losses must agree
  const x = randn([headBatch, D]).requiresGrad_();
  const y = randint(0, classes, [headBatch]);
  const step = (impl: (typeof impls)[number]): number => {
    head[impl].zeroGrad();
    x.zeroGrad();
    const out = head[impl].forward(x, y);
    out.loss.backward();
    const l = out.loss.item();
    out.loss.dispose();
    return l;
  };
  const times = { fused: [] as number[], composed: [] as number[] };
  const loss = { fused: 0, composed: 0 };
  for (const impl of impls) step(impl); // warm-up
  for (let s = 0; s < steps; s++) {
    for (const impl of s % 2 ? [...impls].reverse() : impls) {
      const t0 = performance.now();
      loss[impl] = step(impl);
      times[impl].push(performance.now() - t0);
    }
  }
  const peakMiB = { fused: 0, composed: 0 };
  for (const impl of impls) {
    head[impl].zeroGrad();
    x.zeroGrad();
    writeFileSync('/proc/self/clear_refs', '5');
    const base = statusKiB('VmRSS');
    step(impl);
    peakMiB[impl] = (statusKiB('VmHWM') - base) / 1024;
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const r: HeadResult = { rank, classesLocal: head.fused.numLocal, ms: { fused: median(times.fused), composed: median(times.composed) }, peakMiB, loss };
  group.destroy();
  console.log(JSON.stringify(r));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 29500));
    });
  });
}

async function run<R = WorkerResult>(world: number, extra: string[] = []): Promise<R[]> {
  const port = await freePort();
  const self = fileURLToPath(import.meta.url);
  return Promise.all(
    Array.from({ length: world }, (_, rank) => new Promise<R>((resolve, reject) => {
      const c = spawn(process.execPath, [self, '--worker', '--steps', String(steps), '--batch', String(batch), '--arch', arch, '--bucket-mb', bucketMB, ...extra], {
        env: { ...process.env, RANK: String(rank), WORLD_SIZE: String(world), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), ECACFACE_NUM_THREADS: threads, OMP_NUM_THREADS: threads },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`rank ${rank} exited with ${code}`))));
    })),
  );
}

async function main(): Promise<void> {
  const one = await run(1);
  const two = await run(2);
  const rows = [...one, ...two];
  console.log(`bench:dist — ${arch}+ESCA, batch ${batch} per rank, ${threads} thread(s) per rank, buckets of ${bucketMB} MiB, ${steps} steps (after 1 warm-up)`);
  console.log('| ranks | rank | step ms | waited for allreduce ms | allreduce alone ms | hidden by backward | gradient MiB | buckets |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const hidden = r.world > 1 ? `${Math.max(0, 100 * (1 - r.waitMs / r.allreduceMs)).toFixed(0)}%` : '—';
    console.log(`| ${r.world} | ${r.rank} | ${r.stepMs.toFixed(1)} | ${r.waitMs.toFixed(1)} | ${r.allreduceMs.toFixed(1)} | ${hidden} | ${r.gradMB.toFixed(1)} | ${r.buckets} |`);
  }
  const s1 = one[0]!.stepMs;
  const s2 = Math.max(...two.map((r) => r.stepMs));
  console.log(`\n2 ranks vs 1: step time ×${(s2 / s1).toFixed(2)}, throughput ×${((2 * s1) / s2).toFixed(2)} (2× the images per step)`);
}

async function mainHead(): Promise<void> {
  const rows = await run<HeadResult>(2, ['--head', '--classes', String(classes), '--batch', String(headBatch)]);
  console.log(`bench:dist --head — sharded CurricularFace, ${classes} classes over 2 ranks, 512-d, batch ${headBatch} per rank (${2 * headBatch} gathered), ${threads} thread(s) per rank, median of ${steps} interleaved steps`);
  console.log('| rank | classes here | fused ms | composed ms | composed/fused | fused MiB | composed MiB | MiB fused/composed | loss fused − composed |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.rank} | ${r.classesLocal} | ${r.ms.fused.toFixed(0)} | ${r.ms.composed.toFixed(0)} | ${(r.ms.composed / r.ms.fused).toFixed(2)} | ` +
        `${r.peakMiB.fused.toFixed(0)} | ${r.peakMiB.composed.toFixed(0)} | ${(r.peakMiB.fused / r.peakMiB.composed).toFixed(2)} | ${(r.loss.fused - r.loss.composed).toExponential(1)} |`,
    );
  }
}

if (process.argv.includes('--worker')) await (headMode ? headWorker() : worker());
else await (headMode ? mainHead() : main());
