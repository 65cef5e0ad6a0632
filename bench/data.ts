/**
 * `npm run bench:data`: decoded, augmented (flip), normalised, batched images per second from a
 * RecordIO of 112×112 JPEGs — ours (native loader) vs a Python reference loader (PIL + numpy,
 * bench/data_ref.py) over the same files, run side by side. Not a test: prints numbers only.
 *
 * Options (env): BENCH_IMAGES (default 5000), BENCH_BATCH (default 128), BENCH_DIR (cache of the
 * generated pack; default <tmpdir>/ecacface-bench-data-<images>).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { data } from '../lib/index.js';
import { referencePython } from './python.js';

const N = Number(process.env.BENCH_IMAGES ?? 5000);
const BATCH = Number(process.env.BENCH_BATCH ?? 128);
const DIR = process.env.BENCH_DIR ?? join(tmpdir(), `ecacface-bench-data-${N}`);
const IDS = 100;

/** A face-sized synthetic image: smooth gradients + blobs + noise (JPEG size like real faces). */
function synth(i: number): Buffer {
  const s = 112;
  const rgb = Buffer.alloc(s * s * 3);
  let r = (i * 2654435761) >>> 0;
  const rnd = (): number => ((r = (r * 1664525 + 1013904223) >>> 0) / 4294967296);
  const cx = 40 + rnd() * 32, cy = 40 + rnd() * 32, base = [rnd() * 200, rnd() * 200, rnd() * 200];
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const d = Math.hypot(x - cx, y - cy);
      for (let c = 0; c < 3; c++) {
        const v = base[c]! + 50 * Math.sin(d / (6 + c)) + (x + y) * 0.2 + (rnd() - 0.5) * 24;
        rgb[(y * s + x) * 3 + c] = Math.max(0, Math.min(255, v));
      }
    }
  }
  return data.encodeJpeg(rgb, s, s, 95);
}

async function ensurePack(): Promise<void> {
  if (existsSync(join(DIR, 'property'))) return;
  const t0 = performance.now();
  function* samples(): Generator<{ image: Buffer; label: number }> {
    for (let i = 0; i < N; i++) yield { image: synth(i), label: Math.floor((i * IDS) / N) };
  }
  await data.writeRecordIO(DIR, samples());
  console.log(`generated ${N} synthetic 112×112 JPEGs into ${DIR} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function ours(threads: number, fastDecode = false): Promise<{ images: number; wall: number; cpu: number; mainShare: number; elu: number }> {
  const ds = data.openRecordIO(DIR);
  const l = data.loader(ds, { batchSize: BATCH, seed: 0, dropLast: true, train: true, threads, prefetch: 2, fastDecode });
  // warm-up batch (page cache, thread start)
  for await (const b of l) {
    b.dispose();
    break;
  }
  const l2 = data.loader(ds, { batchSize: BATCH, seed: 1, dropLast: true, train: true, threads, prefetch: 2, fastDecode });
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let images = 0;
  for await (const b of l2) {
    images += b.images.shape[0]!;
    b.dispose();
  }
  const wall = (performance.now() - t0) / 1000;
  const cpuU = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  ds.close();
  return { images, wall, cpu: (cpuU.user + cpuU.system) / 1e6, mainShare: l2.stats.mainThreadMs / 1000 / wall, elu };
}

function python(): { images: number; wall_s: number; cpu_s: number } | string {
  const py = referencePython();
  const pil = spawnSync(py, ['-c', 'import PIL, numpy'], { encoding: 'utf8' });
  if (pil.status !== 0) return `PIL or numpy is not installed for ${py} (bash scripts/setup.sh --bench installs python3-pil for Debian's)`;
  const r = spawnSync(py, [join(process.cwd(), 'bench', 'data_ref.py'), DIR, String(BATCH), String(N)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  if (r.status !== 0) return `data_ref.py failed: ${r.stderr.trim().split('\n').at(-1)}`;
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  await ensurePack();
  console.log(`bench:data — ${N} JPEGs 112×112, batch ${BATCH}, flip + normalise to float32 NCHW; ${cores} cores`);
  const rows: string[][] = [['loader', 'threads', 'images/s', 'images/CPU-s', 'main-thread (loader JS)', 'event loop busy']];
  const fmt = (v: number): string => v.toFixed(0);
  const py = python();
  const oursRuns: { threads: number; fast: boolean; r: Awaited<ReturnType<typeof ours>> }[] = [];
  for (const threads of [...new Set([1, Math.max(1, cores - 1), cores])]) {
    oursRuns.push({ threads, fast: false, r: await ours(threads) });
  }
  oursRuns.push({ threads: 1, fast: true, r: await ours(1, true) });
  for (const { threads, fast, r } of oursRuns) {
    rows.push([fast ? 'ours (native, fastDecode)' : 'ours (native)', String(threads), fmt(r.images / r.wall), fmt(r.images / r.cpu), `${(100 * r.mainShare).toFixed(2)}%`, `${(100 * r.elu).toFixed(2)}%`]);
  }
  if (typeof py === 'string') rows.push(['python (PIL+numpy)', '1', py, '', '', '']);
  else rows.push(['python (PIL+numpy)', '1', fmt(py.images / py.wall_s), fmt(py.images / py.cpu_s), '', '']);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((v, c) => v.padEnd(widths[c]!)).join('  '));
  if (typeof py !== 'string') {
    const one = oursRuns[0]!.r;
    const fast = oursRuns.at(-1)!.r;
    const pyPerCpu = py.images / py.cpu_s;
    console.log(`per core (images per CPU-second): ours ${(one.images / one.cpu / pyPerCpu).toFixed(2)}× python ` +
      `(fastDecode ${(fast.images / fast.cpu / pyPerCpu).toFixed(2)}×); single-thread wall: ${(one.images / one.wall / (py.images / py.wall_s)).toFixed(2)}× python (goal ≥ 3× per core)`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
