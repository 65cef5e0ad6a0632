/**
 * The command line every experiment script shares: the dataset (the synthetic set by default, or a
 * RecordIO pack / image folder plus .bin sets), the backbone, the seeds, the step budget, the
 * device, the rows to run, and where the results go.
 */
import { parseArgs } from 'node:util';

/** What an experiment runs on and how; every field has a default (see {@link USAGE}). */
export interface ExperimentOptions {
  /** Training data: a RecordIO pack (train.rec or its folder) or an image folder; null = the synthetic set. */
  train: { type: 'recordio' | 'folder'; path: string } | null;
  /** Verification .bin sets (required with `train`; the synthetic set brings its own two). */
  bins: string[];
  arch: string;
  /** The attention module of every row, in experiments whose rows do not set it (null: the script's default). */
  attention: string | null;
  /** Head options added to every row's head (`--head-option key=value`, the value parsed as JSON when it parses). */
  headOptions: Record<string, unknown>;
  /** Input side; default 48 for MobileFaceNet on the synthetic set, else 112. */
  imageSize: number;
  embeddingSize: number;
  seeds: number[];
  /** Optimizer steps per run (the same for every row and seed). */
  steps: number;
  batchSize: number;
  lr: number;
  /** Linear warm-up steps; default a third of the steps. */
  warmup: number;
  /** LR ÷10 at these epochs; default: the last quarter of the epochs (none for a one-epoch run). */
  milestones: number[] | null;
  device: string;
  /** libtorch intra-op threads (1 by default: see docs/experiments.md). */
  threads: number;
  /** Loader decode threads. */
  workers: number;
  /** Runs trained at once, each in its own process (with `threads` threads each). */
  jobs: number;
  /** Internal: run only this `row:seed` and write its result file (what `jobs` children get). */
  task: { row: string; seed: number } | null;
  /** Results folder; the experiment writes into `<out>/<experiment>/`. */
  out: string;
  /** Only these rows (by name), in the script's order; default all. */
  rows: string[] | null;
  /** The row every other row is tested against; default the script's (the paper's method). */
  baseline: string | null;
  /** Synthetic set: variant and size. */
  synth: { variant: 'plain' | 'wild'; identities: number; images: number; valIdentities: number; pairs: number };
  /** Training log line (and gate statistics) every this many steps. */
  logEvery: number;
  /** Print only the table (and errors). */
  quiet: boolean;
}

export const USAGE = `options (all optional):
  data     --rec <train.rec|dir>  RecordIO training pack     --folder <dir>  image folder (one sub-folder per identity)
           --bin <set.bin>        verification set (repeat; required with --rec/--folder)
           without --rec/--folder: the synthetic face set (generated once under .cache/synth), sized by
           --synth-identities 200 --synth-images 20 --synth-val-identities 150 --synth-pairs 600
           --synth-variant plain|wild  (wild: clutter, occluders, misalignment, pose; see docs/experiments.md)
  model    --arch mobilefacenet|ir18|ir34|ir50|ir101|ir152 (mobilefacenet)  --attention <kind> (tables whose rows keep it fixed)
           --head-option key=value (repeat; added to every row's head options, e.g. tUpdate=code)  --image-size (48 synthetic MobileFaceNet, else 112)
           --embedding-size 128|512 (128 synthetic MobileFaceNet, else 512)
  schedule --seeds 1,2,3  --steps 300  --batch-size 32  --lr 0.02  --warmup <steps> (steps/3)  --milestones <epochs,…>
  machine  --device cpu|cuda|cuda:N (cpu)  --jobs 2 (runs at once, one process each)  --threads 1 (per run)  --workers 1
  rows     --rows a,b,…   only these rows      --baseline <row>  the row the others are tested against
  output   --out experiments-out   --log-every 10   --quiet
Results go to <out>/<experiment>/: results.md, results.json, one JSON per finished row × seed (rows/),
and the run directories (runs/). Rerunning the same command resumes: finished row × seed results are
read back, an interrupted run continues from its checkpoint.`;

function ints(s: string, what: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`${what}: expected a comma-separated list of non-negative integers, got '${s}'`);
  return v;
}

function num(s: string | undefined, what: string, check: (x: number) => boolean, rule: string): number | undefined {
  if (s === undefined) return undefined;
  const x = Number(s);
  if (!Number.isFinite(x) || !check(x)) throw new Error(`${what}: expected ${rule}, got '${s}'`);
  return x;
}

function headOption(s: string): [string, unknown] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new Error(`--head-option: expected key=value, got '${s}'`);
  const raw = s.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a plain string (e.g. tUpdate=paper)
  }
  return [s.slice(0, eq), value];
}

function parseTask(s: string): { row: string; seed: number } {
  const m = /^(.+):(\d+)$/.exec(s);
  if (!m) throw new Error(`--task: expected <row>:<seed>, got '${s}'`);
  return { row: m[1]!, seed: Number(m[2]) };
}

const posInt = (x: number) => Number.isInteger(x) && x > 0;

/** Parses the shared options (throws an Error naming the option on a bad value; `help` asks for the usage). */
export function parseOptions(argv: string[]): ExperimentOptions | 'help' {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      rec: { type: 'string' },
      folder: { type: 'string' },
      bin: { type: 'string', multiple: true },
      arch: { type: 'string' },
      attention: { type: 'string' },
      'head-option': { type: 'string', multiple: true },
      'image-size': { type: 'string' },
      'embedding-size': { type: 'string' },
      seeds: { type: 'string' },
      steps: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      warmup: { type: 'string' },
      milestones: { type: 'string' },
      device: { type: 'string' },
      threads: { type: 'string' },
      workers: { type: 'string' },
      jobs: { type: 'string' },
      task: { type: 'string' },
      out: { type: 'string' },
      rows: { type: 'string' },
      baseline: { type: 'string' },
      'synth-variant': { type: 'string' },
      'synth-identities': { type: 'string' },
      'synth-images': { type: 'string' },
      'synth-val-identities': { type: 'string' },
      'synth-pairs': { type: 'string' },
      'log-every': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return 'help';
  if (v.rec && v.folder) throw new Error('--rec and --folder: give one training set');
  const train = v.rec ? { type: 'recordio' as const, path: v.rec } : v.folder ? { type: 'folder' as const, path: v.folder } : null;
  const bins = v.bin ?? [];
  if (train && bins.length === 0) throw new Error('--bin: a training set of your own needs at least one verification .bin set');
  if (!train && bins.length > 0) throw new Error('--bin: only with --rec or --folder (the synthetic set brings its own .bin sets)');
  const arch = v.arch ?? 'mobilefacenet';
  const synthetic = train === null;
  const small = synthetic && arch === 'mobilefacenet';
  const steps = num(v.steps, '--steps', posInt, 'a positive integer') ?? 300;
  const variant = v['synth-variant'] ?? 'plain';
  if (variant !== 'plain' && variant !== 'wild') throw new Error(`--synth-variant: expected plain or wild, got '${variant}'`);
  const device = v.device ?? 'cpu';
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new Error(`--device: expected cpu, cuda or cuda:N, got '${device}'`);
  return {
    train,
    bins,
    arch,
    attention: v.attention ?? null,
    headOptions: Object.fromEntries((v['head-option'] ?? []).map(headOption)),
    imageSize: num(v['image-size'], '--image-size', posInt, 'a positive integer') ?? (small ? 48 : 112),
    embeddingSize: num(v['embedding-size'], '--embedding-size', posInt, 'a positive integer') ?? (small ? 128 : 512),
    seeds: v.seeds ? ints(v.seeds, '--seeds') : [1, 2, 3],
    steps,
    batchSize: num(v['batch-size'], '--batch-size', (x) => Number.isInteger(x) && x >= 2, 'an integer ≥ 2') ?? 32,
    lr: num(v.lr, '--lr', (x) => x > 0, 'a positive number') ?? 0.02,
    warmup: num(v.warmup, '--warmup', (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer') ?? Math.round(steps / 3),
    milestones: v.milestones ? ints(v.milestones, '--milestones') : null,
    device,
    threads: num(v.threads, '--threads', (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer (0 = all cores)') ?? 1,
    workers: num(v.workers, '--workers', (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer') ?? 1,
    jobs: num(v.jobs, '--jobs', posInt, 'a positive integer') ?? 2,
    task: v.task ? parseTask(v.task) : null,
    out: v.out ?? 'experiments-out',
    rows: v.rows ? v.rows.split(',').map((s) => s.trim()).filter(Boolean) : null,
    baseline: v.baseline ?? null,
    synth: {
      variant,
      identities: num(v['synth-identities'], '--synth-identities', posInt, 'a positive integer') ?? 200,
      images: num(v['synth-images'], '--synth-images', posInt, 'a positive integer') ?? 20,
      valIdentities: num(v['synth-val-identities'], '--synth-val-identities', posInt, 'a positive integer') ?? 150,
      pairs: num(v['synth-pairs'], '--synth-pairs', posInt, 'a positive integer') ?? 400,
    },
    logEvery: num(v['log-every'], '--log-every', posInt, 'a positive integer') ?? 10,
    quiet: v.quiet ?? false,
  };
}
