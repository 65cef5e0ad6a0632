/**
 * bench:backbones — forward+backward time at batch 8 (train mode) of the paper's backbones with
 * attention none/eca/esca/se/cbam, ours against the same model in Python PyTorch (Debian's
 * python3-torch: the same libtorch; bench/backbones_ref.py), side by side in one run, with the same
 * intra-op thread count. Prints (1) the time per config and the ratio ours/Python (goal ≤ 1.0),
 * (2) each attention's overhead over `none` on the same backbone (goal: ESCA ≤ +5% on IR_101).
 * Both are given in wall time and in process CPU time (user + system, all threads; for Python its
 * `time.process_time()`): on this shared 2-core machine the CPU-time columns are the ones other
 * load disturbs least, and with --threads 1 they are the figure to compare.
 * Ours and Python's iterations alternate (Python runs as a line-driven child process), so both see
 * the same machine load — this machine's 2 cores are shared.
 *
 *   npm run bench:backbones [-- --ir101 --batch 8 --warmup 1 --iters 3 --threads N --archs mobilefacenet,ir50 --attentions none,eca,esca,se,cbam --channels-last]
 *
 * --channels-last: the input batch (and, in Python, the model) in channels_last, so every
 * activation is NHWC; our ESCA then runs its NHWC kernels.
 *
 * IR_101 is off by default (about 2× IR_50's time; on 2 cores the whole default run takes ~5–10 min):
 * pass --ir101 to add it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
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
const channelsLast = flag('channels-last');
setNumThreads(threads);
manualSeed(0);

const here = fileURLToPath(new URL('.', import.meta.url));
const refScript = join(here, '..', '..', 'bench', 'backbones_ref.py');

/** The Python reference as a line-driven child process (see backbones_ref.py). */
class PythonRef {
  #proc: ChildProcessWithoutNullStreams | null = null;
  #lines: string[] = [];
  #waiters: ((line: string) => void)[] = [];
  #error: string | null = null;

  constructor() {
    try {
      const p = spawn('/usr/bin/python3', [refScript, String(threads), channelsLast ? 'channels_last' : 'contiguous'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.#proc = p;
      let buf = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const w = this.#waiters.shift();
          if (w) w(line);
          else this.#lines.push(line);
        }
      });
      let err = '';
      p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      p.on('exit', () => {
        this.#error = err.trim().split('\n').pop() || 'python exited';
        for (const w of this.#waiters.splice(0)) w(`error ${this.#error}`);
      });
      p.on('error', (e) => {
        this.#error = e.message;
        for (const w of this.#waiters.splice(0)) w(`error ${this.#error}`);
      });
      p.stdin.on('error', () => {}); // a dead child: reported through 'exit'/'error' above
    } catch (e) {
      this.#error = (e as Error).message;
    }
  }

  async ask(cmd: string): Promise<string> {
    if (this.#proc === null || this.#error !== null) return `error ${this.#error}`;
    const r = new Promise<string>((res) => {
      const l = this.#lines.shift();
      if (l !== undefined) res(l);
      else this.#waiters.push(res);
    });
    this.#proc.stdin.write(`${cmd}\n`);
    return r;
  }

  close(): void {
    this.#proc?.stdin.end('quit\n');
  }
}

const median = (v: number[]): number => {
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/**
 * One config: ours and Python's iterations interleaved (ours, Python, ours, …) so both see the
 * same load; returns the median seconds of each (null when Python is unavailable).
 */
interface Times {
  ours: number;
  py: number | null;
  oursCpu: number;
  pyCpu: number | null;
}

async function measure(py: PythonRef, arch: Arch, att: AttentionKind): Promise<Times> {
  const m = backbone({ arch, attention: att });
  const x = channelsLast ? scope(() => randn([batch, 3, 112, 112]).contiguous('channelsLast')) : randn([batch, 3, 112, 112]);
  const built = await py.ask(`build ${arch} ${att} ${batch}`);
  let pyOk = built === 'ok';
  if (!pyOk) console.error(`Python reference unavailable (${built}); run: sudo bash scripts/setup.sh --bench`);
  const o: number[] = [];
  const oc: number[] = [];
  const p: number[] = [];
  const pc: number[] = [];
  for (let i = 0; i < warmup + iters; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    scope(() => m.forward(x).sum().backward());
    m.zeroGrad();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    if (i >= warmup) {
      o.push(dt);
      oc.push((c.user + c.system) / 1e6);
    }
    if (pyOk) {
      const r = await py.ask('step');
      const [v, vc] = r.split(' ').map(Number) as [number, number];
      if (!Number.isFinite(v) || !Number.isFinite(vc)) {
        console.error(`Python reference failed (${r}); run: sudo bash scripts/setup.sh --bench`);
        pyOk = false;
      } else if (i >= warmup) {
        p.push(v);
        pc.push(vc);
      }
    }
  }
  x.dispose();
  m.dispose();
  const havePy = pyOk && p.length > 0;
  return { ours: median(o), py: havePy ? median(p) : null, oursCpu: median(oc), pyCpu: havePy ? median(pc) : null };
}

console.log(
  `bench:backbones — forward+backward, batch ${batch}, train mode, ${channelsLast ? 'channels_last' : 'contiguous NCHW'}, ` +
    `median of ${iters} after ${warmup} warm-up, ${threads} intra-op thread(s), ours and Python interleaved`,
);
console.log(
  'backbone'.padEnd(15) +
    'attention'.padEnd(11) +
    'ours s'.padStart(9) +
    'python s'.padStart(10) +
    'ratio'.padStart(8) +
    'ours cpu s'.padStart(12) +
    'py cpu s'.padStart(10) +
    'cpu ratio'.padStart(11),
);
const results = new Map<string, Times>();
const py = new PythonRef();
for (const arch of archs) {
  for (const att of attentions) {
    const r = await measure(py, arch, att);
    results.set(`${arch}:${att}`, r);
    console.log(
      arch.padEnd(15) +
        att.padEnd(11) +
        r.ours.toFixed(3).padStart(9) +
        (r.py === null ? '—' : r.py.toFixed(3)).padStart(10) +
        (r.py === null ? '—' : (r.ours / r.py).toFixed(2)).padStart(8) +
        r.oursCpu.toFixed(3).padStart(12) +
        (r.pyCpu === null ? '—' : r.pyCpu.toFixed(3)).padStart(10) +
        (r.pyCpu === null ? '—' : (r.oursCpu / r.pyCpu).toFixed(2)).padStart(11),
    );
  }
}
py.close();

console.log('\noverhead over none (same backbone; wall: ours, python; process CPU time: ours, python)');
for (const arch of archs) {
  const base = results.get(`${arch}:none`);
  if (!base) continue;
  for (const att of attentions) {
    if (att === 'none') continue;
    const r = results.get(`${arch}:${att}`)!;
    const po = ((r.ours / base.ours - 1) * 100).toFixed(1);
    const pp = r.py !== null && base.py !== null ? `${((r.py / base.py - 1) * 100).toFixed(1)}%` : '—';
    const co = `${((r.oursCpu / base.oursCpu - 1) * 100).toFixed(1)}%`;
    const cp = r.pyCpu !== null && base.pyCpu !== null ? `${((r.pyCpu / base.pyCpu - 1) * 100).toFixed(1)}%` : '—';
    const goal = arch === 'ir101' && att === 'esca' ? '   (goal ≤ +5%)' : '';
    console.log(
      `${arch.padEnd(15)}${att.padEnd(11)}${`${po}%`.padStart(9)}${pp.padStart(10)}${co.padStart(12)}${cp.padStart(10)}${goal}`,
    );
  }
}
