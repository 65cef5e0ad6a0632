/**
 * bench:backbones — one training step at batch 8 (train mode) of the paper's backbones with
 * attention none/eca/esca/se/cbam, ours against the same model in Python PyTorch
 * (bench/backbones_ref.py), side by side in one run, with the same intra-op thread count.
 * The step is forward + backward, or with --sgd forward + backward + SGD step (lr 0.1, momentum
 * 0.9, weight decay 5e-4 except BatchNorm: our SGD against torch.optim.SGD), the train step.
 * Prints (1) the time per config and the ratio ours/Python (goal ≤ 1.0), (2) each attention's
 * overhead over `none` on the same backbone (goal: ESCA ≤ +5% on IR_101).
 * Both are given in wall time and in process CPU time (user + system, all threads; for Python its
 * `time.process_time()`): on a shared machine the CPU-time columns are the ones other load
 * disturbs least, and with --threads 1 they are the figure to compare. The `flt` columns are the
 * minor page faults per step (median): memory the C library gave back and faults in again each
 * step, a count that other load does not change (see docs/decisions/performance.md).
 * The sides' iterations alternate (each reference runs as a line-driven child process), so all see
 * the same machine load:
 *   - ours, in this process;
 *   - Python eager (bench/backbones_ref.py);
 *   - with --compile, the same Python model under `torch.compile` (inductor); its first steps
 *     compile, so give it --warmup 2 or more;
 *   - with --also-native PATH[,PATH…], our side again with another build of the addon (e.g. the one
 *     against Debian's libtorch 1.13 beside one against PyTorch 2.13), each in a node child process
 *     that runs this file with --serve.
 * --warmup (default 2) steps of every side are not timed: a process's first step creates libtorch's
 * kernels (oneDNN primitives), grows the heap and compiles JavaScript, and takes about twice a later
 * step; from the second step on a config's time does not depend on what the process ran before.
 *
 * The reference interpreter is --python, else $ECF_BENCH_PYTHON, else Debian's /usr/bin/python3
 * (bench/python.ts); our side is whichever addon loads (ECACFACE_NATIVE picks another build). E.g.
 * our addon built against PyTorch 2.13 against PyTorch 2.13 eager and compiled:
 *
 *   ECACFACE_NATIVE=build-torch2/Release/ecacface.node npm run bench:backbones -- \
 *     --python "$(bash scripts/torch-venv.sh 2.13.0+cpu)/bin/python" --sgd --compile --threads 1
 *
 *   npm run bench:backbones [-- --ir101 --batch 8 --warmup 2 --iters 5 --threads N --archs mobilefacenet,ir50
 *                              --attentions none,eca,esca,se,cbam --channels-last --sgd --compile --python PATH
 *                              --also-native PATH[,PATH] --ref-malloc system|fixed]
 *
 * --ref-malloc fixed: the Python sides run with the C library heap thresholds our addon sets when it
 * loads (through GLIBC_TUNABLES; docs/decisions/performance.md); by default they run with glibc's
 * defaults, as PyTorch users run them.
 *
 * --channels-last: the input batch (and, in Python, the model) in channels_last, so every
 * activation is NHWC; our ESCA then runs its NHWC kernels.
 *
 * IR_101 is off by default (about 2× IR_50's time; on 2 cores the whole default run takes ~5–10 min):
 * pass --ir101 to add it.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildInfo, getNumThreads, manualSeed, randn, scope, setNumThreads, type Tensor } from '../lib/index.js';
import { backbone, type Arch } from '../lib/models/index.js';
import { weightDecayGroups, type AttentionKind } from '../lib/nn/index.js';
import { SGD } from '../lib/train/sgd.js';
import { LineServer, pythonTorchVersion, referenceHint, referencePython } from './python.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const batch = Number(arg('batch', '8'));
const warmup = Number(arg('warmup', '2'));
const iters = Number(arg('iters', '5'));
const threads = Number(arg('threads', String(getNumThreads())));
const archs = arg('archs', 'mobilefacenet,ir50').split(',') as Arch[];
if (flag('ir101') && !archs.includes('ir101')) archs.push('ir101');
const attentions = arg('attentions', 'none,eca,esca,se,cbam').split(',') as AttentionKind[];
const channelsLast = flag('channels-last');
const withSgd = flag('sgd');
const withCompile = flag('compile');
const otherNatives = arg('also-native', '').split(',').filter((v) => v !== '');
setNumThreads(threads);
manualSeed(0);

const self = fileURLToPath(import.meta.url);
const refScript = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bench', 'backbones_ref.py');

/** Our side of one config: the model, its input and (with --sgd) its optimizer. */
function ourSide(arch: Arch, att: AttentionKind): { step: () => void; dispose: () => void } {
  const m = backbone({ arch, attention: att });
  const x: Tensor = channelsLast ? scope(() => randn([batch, 3, 112, 112]).contiguous('channelsLast')) : randn([batch, 3, 112, 112]);
  let opt: SGD | null = null;
  if (withSgd) {
    const g = weightDecayGroups(m);
    opt = new SGD(
      [
        { params: g.decay, weightDecay: 5e-4 },
        { params: g.noDecay, weightDecay: 0 },
      ],
      { lr: 0.1, momentum: 0.9 },
    );
  }
  return {
    step: () => {
      scope(() => m.forward(x).sum().backward());
      if (opt) {
        opt.step();
        opt.zeroGrad();
      } else m.zeroGrad();
    },
    dispose: () => {
      opt?.dispose();
      x.dispose();
      m.dispose();
    },
  };
}

/** One step of ours: wall and process-CPU seconds, minor page faults. */
function timeStep(step: () => void): [number, number, number] {
  const f0 = process.resourceUsage().minorPageFault;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  step();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) / 1e6, process.resourceUsage().minorPageFault - f0];
}

if (flag('serve')) {
  // Our side as a line server, the protocol of backbones_ref.py (build / step / quit), for
  // --also-native: the parent runs this file with another ECACFACE_NATIVE.
  let cur: ReturnType<typeof ourSide> | null = null;
  const say = (s: string) => process.stdout.write(`${s}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, a1, a2] = line.trim().split(/\s+/);
    try {
      if (cmd === 'build') {
        cur?.dispose();
        cur = ourSide(a1 as Arch, a2 as AttentionKind);
        say('ok');
      } else if (cmd === 'step' && cur) say(timeStep(cur.step).join(' '));
      else if (cmd === 'version') say(buildInfo().torchVersion);
      else if (cmd === 'quit') break;
      else say(`error unknown command ${line.trim()}`);
    } catch (e) {
      say(`error ${(e as Error).message.split('\n')[0]}`);
    }
  }
  cur?.dispose();
  process.exit(0);
}

const median = (v: number[]): number => {
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/**
 * Medians over the timed steps of one side of one config (null: that side failed): wall and
 * process-CPU seconds, and minor page faults (memory the C library handed back to the kernel and
 * took again: a count, undisturbed by other load).
 */
interface SideTimes {
  wall: number;
  cpu: number;
  faults: number;
}

/** One side: ours in this process, or a line server (Python eager / compiled, or ours with another addon). */
interface Side {
  readonly label: string;
  build(arch: Arch, att: AttentionKind): Promise<void>;
  step(timed: boolean): Promise<void>;
  result(): SideTimes | null;
  close(): void;
}

class Samples {
  readonly wall: number[] = [];
  readonly cpu: number[] = [];
  readonly faults: number[] = [];
  clear(): void {
    this.wall.length = this.cpu.length = this.faults.length = 0;
  }
  push([w, c, f]: [number, number, number]): void {
    this.wall.push(w);
    this.cpu.push(c);
    this.faults.push(f);
  }
  result(): SideTimes | null {
    return this.wall.length ? { wall: median(this.wall), cpu: median(this.cpu), faults: median(this.faults) } : null;
  }
}

class OursHere implements Side {
  readonly label = `ours ${buildInfo().torchVersion}`;
  #cur: ReturnType<typeof ourSide> | null = null;
  readonly #s = new Samples();
  async build(arch: Arch, att: AttentionKind): Promise<void> {
    this.#cur?.dispose();
    this.#s.clear();
    this.#cur = ourSide(arch, att);
  }
  async step(timed: boolean): Promise<void> {
    const r = timeStep(this.#cur!.step);
    if (timed) this.#s.push(r);
  }
  result(): SideTimes | null {
    return this.#s.result();
  }
  close(): void {
    this.#cur?.dispose();
  }
}

class ServerSide implements Side {
  #ok = false;
  readonly #s = new Samples();
  constructor(
    readonly label: string,
    private readonly server: LineServer,
    private readonly buildArgs: (arch: Arch, att: AttentionKind) => string,
    private readonly hint: string,
  ) {}
  async build(arch: Arch, att: AttentionKind): Promise<void> {
    this.#s.clear();
    const r = await this.server.ask(`build ${this.buildArgs(arch, att)}`);
    this.#ok = r === 'ok';
    if (!this.#ok) console.error(`${this.label}: unavailable for ${arch}/${att} (${r}); ${this.hint}`);
  }
  async step(timed: boolean): Promise<void> {
    if (!this.#ok) return;
    const r = await this.server.ask('step');
    const v = r.split(' ').map(Number) as [number, number, number];
    if (v.length !== 3 || !v.every(Number.isFinite)) {
      console.error(`${this.label}: step failed (${r})`);
      this.#ok = false;
    } else if (timed) this.#s.push(v);
  }
  result(): SideTimes | null {
    return this.#ok ? this.#s.result() : null;
  }
  close(): void {
    this.server.close();
  }
}

const python = referencePython();
const pyTorch = pythonTorchVersion(python);
const pyLabel = 'version' in pyTorch ? pyTorch.version : 'python';
const refArgs = [String(threads), channelsLast ? 'channels_last' : 'contiguous'];
// --ref-malloc fixed: the Python sides get the heap policy our addon sets (native/core/process_setup.cc)
// through glibc's tunables, for a comparison without it; by default they run as PyTorch users run them.
const refMalloc = arg('ref-malloc', 'system');
if (refMalloc !== 'system' && refMalloc !== 'fixed') throw new Error(`--ref-malloc must be system or fixed, got ${refMalloc}`);
const refEnv: Record<string, string> = refMalloc === 'fixed' ? { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824' } : {};
const sides: Side[] = [new OursHere()];
const pyBuild = (mode: string) => (arch: Arch, att: AttentionKind) => `${arch} ${att} ${batch} ${mode} ${withSgd ? 1 : 0}`;
sides.push(new ServerSide(`eager ${pyLabel}`, new LineServer(python, refScript, refArgs, refEnv), pyBuild('eager'), referenceHint(python)));
if (withCompile) sides.push(new ServerSide(`compiled ${pyLabel}`, new LineServer(python, refScript, refArgs, refEnv), pyBuild('compile'), referenceHint(python)));
for (const path of otherNatives) {
  const server = new LineServer(process.execPath, self, ['--serve', ...process.argv.slice(2)], { ECACFACE_NATIVE: path });
  const v = await server.ask('version');
  const label = v.startsWith('error') ? `ours ${path}` : `ours ${v}`;
  sides.push(new ServerSide(label, server, (arch, att) => `${arch} ${att}`, `check that ECACFACE_NATIVE=${path} loads`));
}

/** One config: the sides' iterations interleaved (ours, eager, [compiled], [ours@other], ours, …). */
async function measure(arch: Arch, att: AttentionKind): Promise<(SideTimes | null)[]> {
  for (const s of sides) await s.build(arch, att);
  for (let i = 0; i < warmup + iters; i++) for (const s of sides) await s.step(i >= warmup);
  return sides.map((s) => s.result());
}

const fmt = (v: number | undefined, d = 3): string => (v === undefined ? '—' : v.toFixed(d));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '—' : (a / b).toFixed(2));
const W = 24;

console.log(
  `bench:backbones — ${withSgd ? 'forward+backward+SGD step' : 'forward+backward'}, batch ${batch}, train mode, ` +
    `${channelsLast ? 'channels_last' : 'contiguous NCHW'}, median of ${iters} after ${warmup} warm-up, ${threads} intra-op thread(s), ` +
    `sides interleaved`,
);
console.log(
  `reference: ${python} (${'version' in pyTorch ? `torch ${pyTorch.version}` : pyTorch.error}), ` +
    `${refMalloc === 'fixed' ? "with our addon's malloc thresholds" : "glibc's default malloc"}; per side: wall s, process CPU s, minor faults`,
);
console.log('backbone'.padEnd(15) + 'attention'.padEnd(11) + sides.map((s) => s.label.padStart(W)).join(''));
const results = new Map<string, (SideTimes | null)[]>();
for (const arch of archs) {
  for (const att of attentions) {
    const r = await measure(arch, att);
    results.set(`${arch}:${att}`, r);
    const cell = (t: SideTimes | null) => (t ? `${fmt(t.wall)} ${fmt(t.cpu)} ${String(t.faults).padStart(6)}` : '—');
    console.log(arch.padEnd(15) + att.padEnd(11) + r.map((t) => cell(t).padStart(W)).join(''));
  }
}
for (const s of sides) s.close();

console.log(`\nratios ours/other, wall (process CPU): ${sides.slice(1).map((s) => `ours/${s.label}`).join(', ')}`);
for (const [key, r] of results) {
  const [arch, att] = key.split(':') as [string, string];
  const o = r[0];
  const cells = r.slice(1).map((t) => `${ratio(o?.wall, t?.wall)} (${ratio(o?.cpu, t?.cpu)})`);
  console.log(arch.padEnd(15) + att.padEnd(11) + cells.map((c) => c.padStart(W)).join(''));
}
console.log(`goals: ours/eager ≤ 1.0${withCompile ? '; ours/compiled ≤ 1.2' : ''}`);

const pct = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '—' : `${((a / b - 1) * 100).toFixed(1)}%`);
console.log(`\noverhead over none (same backbone), wall (process CPU): ${sides.map((s) => s.label).join(', ')}`);
for (const arch of archs) {
  const base = results.get(`${arch}:none`);
  if (!base) continue;
  for (const att of attentions) {
    if (att === 'none') continue;
    const r = results.get(`${arch}:${att}`)!;
    const goal = arch === 'ir101' && att === 'esca' ? '   (goal ≤ +5%)' : '';
    const cells = r.map((t, i) => `${pct(t?.wall, base[i]?.wall)} (${pct(t?.cpu, base[i]?.cpu)})`);
    console.log(`${arch.padEnd(15)}${att.padEnd(11)}${cells.map((c) => c.padStart(W)).join('')}${goal}`);
  }
}
