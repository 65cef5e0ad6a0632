/**
 * bench:gpu-stability — the paper-scale stability run of issue 16: IR_50 + ESCA + CurricularFace
 * at batch 512, lr 0.1 from the first step (no warm-up), momentum 0.9, weight decay 5e-4 off BN,
 * bfloat16 autocast, channels_last, on 112×112 synthetic identities (lib/data/synth.ts at full
 * size), for 300+ steps. The CPU demo at batch 32 collapsed this way (every ESCA gate saturating);
 * this run tells whether that is a small-batch effect.
 *
 * Every step: the loss (read each step, as training does) and whether it is finite. Every
 * `--every` steps and at the first and last step: the per-block ESCA gate statistics (mean, share
 * below 0.01 / above 0.99 of the channel and spatial gates), collected by issue 15's
 * GateStatsCollector (lib/train/gate-stats.ts) — the training metric, not a second copy of it —
 * and the blocks that saturated. Data: `identities` × `perIdentity` images rendered once by
 * worker threads and kept on the device as uint8; each step draws a random batch there.
 *
 *   node dist/bench/gpu-stability.js --out gpu-out/stability.json
 *   options: --device cuda|cpu --arch ir50 --batch 512 --steps 300 --lr 0.1 --identities 1024
 *            --per-identity 16 --image-size 112 --classes (default: identities) --every 10
 *            --workers (default: cores − 1) --budget S (stop stepping after S seconds) --seed 1
 * Dry run on a CPU machine: --device cpu --batch 4 --steps 3 --identities 8 --per-identity 2 --every 1
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { backboneSpec, buildBackbone, type Arch } from '../lib/models/index.js';
import { create as createHead } from '../lib/heads/index.js';
import { weightDecayGroups } from '../lib/nn/index.js';
import { autocast, buildInfo, cuda, manualSeed, memory, scope, tensor, type Tensor } from '../lib/tensor/index.js';
import { Rng } from '../lib/data/synth.js';
import { SGD } from '../lib/train/sgd.js';

function opt(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const device = opt('device', 'cuda') as 'cuda' | 'cpu';
const arch = opt('arch', 'ir50') as Arch;
const batch = Number(opt('batch', '512'));
const steps = Number(opt('steps', '300'));
const lr = Number(opt('lr', '0.1'));
const identities = Number(opt('identities', '1024'));
const perIdentity = Number(opt('per-identity', '16'));
const size = Number(opt('image-size', '112'));
const classes = Number(opt('classes', String(identities)));
const every = Number(opt('every', '10'));
const workers = Number(opt('workers', String(Math.max(1, availableParallelism() - 1))));
const budget = Number(opt('budget', '0'));
const seed = Number(opt('seed', '1'));
const outPath = opt('out', '');
const amp = device === 'cuda';

/** One block's gate statistics (issue 15's BlockGateStats). */
interface BlockGateStats {
  block: string;
  channel: { mean: number; low: number; high: number };
  spatial: { mean: number; low: number; high: number };
}
interface GateStatsModule {
  GateStatsCollector: new (root: unknown) => { size: number; collect<R>(fn: () => R): { result: R; stats: BlockGateStats[] } };
  saturatedGates(stats: readonly BlockGateStats[], share?: number): string[];
}

/** Issue 15's collector, or null where it has not landed in this tree. */
async function gateStatsModule(): Promise<GateStatsModule | null> {
  const path = '../lib/train/gate-stats.js';
  try {
    return (await import(path)) as GateStatsModule;
  } catch {
    return null;
  }
}

/** Renders the images with worker threads into one shared uint8 buffer [images, size, size, 3]. */
async function renderImages(): Promise<{ pixels: Uint8Array; seconds: number }> {
  const t0 = performance.now();
  const buffer = new SharedArrayBuffer(identities * perIdentity * size * size * 3);
  const here = dirname(fileURLToPath(import.meta.url));
  const n = Math.max(1, Math.min(workers, identities));
  const per = Math.ceil(identities / n);
  await Promise.all(
    Array.from({ length: n }, (_, w) => {
      const from = w * per;
      const to = Math.min(identities, from + per);
      if (from >= to) return Promise.resolve();
      return new Promise<void>((res, rej) => {
        const wk = new Worker(join(here, 'synth-render-worker.js'), { workerData: { buffer, seed, from, to, perIdentity, size } });
        wk.once('message', () => res());
        wk.once('error', rej);
        wk.once('exit', (code) => (code === 0 ? res() : rej(new Error(`render worker exited with ${code}`))));
      });
    }),
  );
  // (a copy into an ordinary ArrayBuffer: the addon takes no SharedArrayBuffer)
  return { pixels: new Uint8Array(buffer).slice(), seconds: (performance.now() - t0) / 1000 };
}

interface StepRecord {
  step: number;
  loss: number;
  ms: number;
  gates?: BlockGateStats[];
  saturated?: string[];
}

async function main(): Promise<void> {
  if (device === 'cuda' && !cuda.isAvailable()) throw new Error('gpu-stability: CUDA is not available (pass --device cpu for a dry run)');
  const card = device === 'cuda' ? cuda.deviceName(0) : 'cpu';
  const gs = await gateStatsModule();
  const settings = { arch, attention: 'esca', head: 'curricularface', batch, steps, lr, warmup: 0, momentum: 0.9, weightDecay: 5e-4, amp: amp ? 'bfloat16' : 'off', channelsLast: true, identities, perIdentity, imageSize: size, classes, every, seed };
  console.log(`gpu-stability: ${card}; libtorch ${buildInfo().torchVersion}; ${JSON.stringify(settings)}`);
  if (!gs) console.log('gpu-stability: lib/train/gate-stats.js (issue 15) is not in this tree: no gate statistics');

  const rendered = await renderImages();
  console.log(`rendered ${identities * perIdentity} images of ${size}×${size} in ${rendered.seconds.toFixed(1)} s with ${workers} worker(s)`);

  manualSeed(seed);
  const backbone = buildBackbone(backboneSpec({ arch, attention: 'esca' })).to(device);
  const head = createHead({ type: 'curricularface', numClasses: classes, embeddingSize: 512 }).to(device);
  const g = weightDecayGroups(backbone);
  const sgd = new SGD(
    [
      { params: [...g.decay, ...head.parameters()], weightDecay: 5e-4 },
      { params: g.noDecay, weightDecay: 0 },
    ],
    { lr, momentum: 0.9 },
  );
  backbone.train(true);
  head.train(true);
  const collector = gs ? new gs.GateStatsCollector(backbone) : null;
  // the images on the device as uint8 [images, H, W, 3]; labels = image index / perIdentity
  const images: Tensor = tensor(rendered.pixels, { shape: [identities * perIdentity, size, size, 3], device });
  const rng = new Rng(seed + 1);
  const rand = (): number => rng.next();
  const records: StepRecord[] = [];
  let diverged: number | null = null;
  const t0 = performance.now();
  const save = (extra: Record<string, unknown> = {}) => {
    if (!outPath) return;
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, JSON.stringify({ card, device, when: new Date().toISOString(), libtorch: buildInfo().torchVersion, settings, renderSeconds: rendered.seconds, gateStats: gs !== null, diverged, records, ...extra }, null, 2));
  };
  try {
    for (let step = 1; step <= steps; step++) {
      if (budget > 0 && (performance.now() - t0) / 1000 > budget) {
        console.log(`budget of ${budget} s spent after ${step - 1} steps`);
        break;
      }
      const withGates = collector !== null && (step === 1 || step === steps || step % every === 0);
      const s0 = performance.now();
      let gates: BlockGateStats[] | undefined;
      const loss = scope(() => {
        const id = new BigInt64Array(batch);
        const im = new BigInt64Array(batch);
        for (let i = 0; i < batch; i++) {
          const who = Math.floor(rand() * identities);
          id[i] = BigInt(who);
          im[i] = BigInt(who * perIdentity + Math.floor(rand() * perIdentity));
        }
        const y = tensor(id, { device });
        const idx = tensor(im, { device });
        const x = images
          .indexSelect(0, idx)
          .permute(0, 3, 1, 2)
          .float()
          .sub(127.5)
          .div(128)
          .contiguous('channelsLast');
        const forward = (): Tensor => (amp ? autocast('bfloat16', () => backbone.forward(x)) : backbone.forward(x));
        let emb: Tensor;
        if (withGates) {
          const r = collector!.collect(forward);
          emb = r.result;
          gates = r.stats;
        } else emb = forward();
        const out = head.forward(emb.dtype === 'float32' ? emb : emb.float(), y);
        const l = out.loss.item();
        out.loss.backward();
        return l;
      });
      sgd.step();
      sgd.zeroGrad();
      const rec: StepRecord = { step, loss, ms: performance.now() - s0 };
      if (gates) {
        rec.gates = gates;
        rec.saturated = gs!.saturatedGates(gates);
      }
      records.push(rec);
      if (!Number.isFinite(loss) && diverged === null) diverged = step;
      if (withGates || step % every === 0) {
        const sat = rec.saturated?.length ? `; saturated: ${rec.saturated.join(', ')}` : '';
        const gm = gates?.length ? `; gate σ̄ channel ${range(gates.map((s) => s.channel.mean))}, spatial ${range(gates.map((s) => s.spatial.mean))}` : '';
        console.log(`step ${step}: loss ${loss.toFixed(4)} (${rec.ms.toFixed(0)} ms)${gm}${sat}`);
        save();
      }
      if (diverged !== null) {
        console.log(`loss not finite at step ${diverged}: stopping`);
        break;
      }
    }
  } finally {
    const peak = memory().cudaAllocator.peakAllocatedBytes;
    save({ seconds: (performance.now() - t0) / 1000, peakAllocatedGB: peak / 2 ** 30 });
    images.dispose();
    sgd.dispose();
    backbone.dispose();
    head.dispose();
  }
  const last = records[records.length - 1];
  const sat = records.filter((r) => r.saturated?.length).map((r) => r.step);
  console.log(
    `\n== stability: ${arch} + ESCA + CurricularFace, batch ${batch}, lr ${lr}, no warm-up, ${amp ? 'bf16' : 'fp32'}: ` +
      `${records.length} steps, loss ${records[0]?.loss.toFixed(3)} → ${last?.loss.toFixed(3)}, ` +
      `${diverged !== null ? `diverged at step ${diverged}` : 'finite throughout'}; ` +
      (gs ? (sat.length ? `saturated gates at steps ${sat.join(', ')}` : 'no block saturated') : 'gate statistics unavailable') +
      ' ==',
  );
}

function range(v: number[]): string {
  return `${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)}`;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
