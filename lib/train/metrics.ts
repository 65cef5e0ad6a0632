/**
 * The run's metrics file (`metrics.jsonl`): one JSON object per line, appended as training goes.
 * `type: 'train'` lines carry the step statistics, `type: 'val'` lines one validation set's result,
 * `type: 'lr'` lines each change of the learning rate.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { readRegularFile } from '../io/regular-file.js';
import { namingFile } from '../io/write-error.js';
import type { BlockGateStats } from './gate-stats.js';

/** Training statistics logged every `logEvery` steps (averages over the steps since the last line). */
export interface TrainRecord {
  type: 'train';
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  /** CurricularFace's t (NaN for heads without one). */
  t: number;
  positiveCosine: number;
  hardFraction: number;
  imagesPerSec: number;
  /** Share of wall time spent waiting for the data loader, in [0, 1]. */
  dataWait: number;
  /** ESCA gate statistics per block (config `gateStats`; lib/train/gate-stats.ts). */
  gates?: BlockGateStats[];
  time: string;
}

/** One verification set's 10-fold result. */
export interface ValRecord {
  type: 'val';
  step: number;
  epoch: number;
  name: string;
  /** Mean 10-fold accuracy in [0, 1]. */
  accuracy: number;
  std: number;
  threshold?: number;
  /** The 10-fold mean ROC, thinned to at most {@link ROC_POINTS} points (see {@link thinRoc}). */
  roc?: { fpr: number[]; tpr: number[] };
  time: string;
}

/**
 * A change of the learning rate: from optimizer step `step` (1-based, the step whose update used it)
 * on, the LR is `lr` — written at a session's first step and whenever the LR differs from the step
 * before (every warm-up step, each milestone), so the LR curve is exact without logging every step.
 */
export interface LrRecord {
  type: 'lr';
  step: number;
  epoch: number;
  lr: number;
}

/** One line of metrics.jsonl. */
export type MetricRecord = TrainRecord | ValRecord | LrRecord;

/** Most points a stored ROC keeps. */
export const ROC_POINTS = 120;

/**
 * Thins a ROC curve for storage: drops repeated points (the threshold grid gives many at either
 * end), then keeps evenly spaced ones plus both ends, rounded to 6 decimals.
 */
export function thinRoc(roc: { fpr: ArrayLike<number>; tpr: ArrayLike<number> }, max = ROC_POINTS): { fpr: number[]; tpr: number[] } {
  const pts: [number, number][] = [];
  for (let i = 0; i < roc.fpr.length; i++) {
    const p: [number, number] = [Math.round(roc.fpr[i]! * 1e6) / 1e6, Math.round(roc.tpr[i]! * 1e6) / 1e6];
    const q = pts[pts.length - 1];
    if (!q || q[0] !== p[0] || q[1] !== p[1]) pts.push(p);
  }
  let kept = pts;
  if (pts.length > max) {
    kept = [];
    for (let k = 0; k < max; k++) kept.push(pts[Math.round((k * (pts.length - 1)) / (max - 1))]!);
  }
  return { fpr: kept.map((p) => p[0]), tpr: kept.map((p) => p[1]) };
}

const line = (r: MetricRecord) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n';

/** Appends records to a JSONL file. */
export class MetricsWriter {
  constructor(readonly path: string) {}

  /** Appends one record (an error, e.g. ENOSPC, names the file). */
  append(r: MetricRecord): void {
    namingFile(this.path, 'appending a record to', () => appendFileSync(this.path, line(r)));
  }

  /**
   * Drops the records written after the one of `step` (used on resume: those steps are trained
   * again): the trailing records with a later step. Trailing, not all: after a resume with another
   * world size the step numbering restarts lower (docs/distributed.md), and the records of the
   * earlier world size must stay. A torn last line (a crash or a full disk mid-write) goes too,
   * reported through `onWarning`. The file is replaced atomically.
   */
  truncateAfter(step: number, options: ReadMetricsOptions = {}): void {
    if (!existsSync(this.path)) return;
    const kept = readMetrics(this.path, options);
    while (kept.length && kept[kept.length - 1]!.step > step) kept.pop();
    namingFile(this.path, 'rewriting', () => writeFileAtomic(this.path, [Buffer.from(kept.map(line).join(''))]));
  }
}

/** Options of {@link readMetrics}. */
export interface ReadMetricsOptions {
  /** Told about a torn last line that was skipped (default: console.warn). */
  onWarning?: (message: string) => void;
}

/**
 * Reads a metrics file (nulls, i.e. non-finite numbers, come back as NaN). A last line that is
 * cut short (no newline, not JSON: a crash or a full disk mid-append) is skipped with a warning;
 * any other line that is not JSON is an error naming the file and line.
 */
export function readMetrics(path: string, options: ReadMetricsOptions = {}): MetricRecord[] {
  if (!existsSync(path)) throw new Error(`metrics file not found: ${path}`);
  const out: MetricRecord[] = [];
  const lines = readRegularFile(path, 'metrics file', 'utf8').split('\n');
  lines.forEach((text, i) => {
    if (!text.trim()) return;
    try {
      out.push(JSON.parse(text, (_k, v: unknown) => (v === null ? NaN : v)) as MetricRecord);
    } catch {
      // the last element after split has no newline after it: an append that did not finish
      if (i === lines.length - 1) {
        const warn = options.onWarning ?? ((m: string) => console.warn(`ecacface: ${m}`));
        warn(`${path}:${i + 1}: skipped a torn last line (${text.length} bytes, cut off mid-record by a crash or a full disk)`);
        return;
      }
      throw new Error(`${path}:${i + 1}: not a JSON line`);
    }
  });
  return out;
}

/** What one training step adds to the logging window. */
export interface StepSample {
  loss: number;
  /** Head statistics (NaN where the head has none). */
  t: number;
  positiveCosine: number;
  hardFraction: number;
  images: number;
  /** Milliseconds spent waiting for the batch, and for the whole step including the wait. */
  waitMs: number;
  totalMs: number;
  /**
   * The first step a process runs: libtorch creates its kernels (oneDNN primitives), the heap
   * grows and JavaScript compiles, so it takes about twice a later step. Its time is kept out of
   * the window's throughput and data-wait share unless the window has no other step.
   */
  warmUp?: boolean;
}

/**
 * The statistics of the steps since the last log line: mean loss, cosine and hard fraction, the
 * last t, throughput and the data-wait share. {@link LogWindow.flush} turns them into a record
 * and starts a new window.
 */
/**
 * The logging rule: the step that makes `step` steps in all and `batch` batches of its epoch writes
 * a log line when `step` is a multiple of `logEvery` or the epoch ends with it.
 */
export function isLogStep(step: number, batch: number, logEvery: number, batchesPerEpoch: number): boolean {
  return step % logEvery === 0 || batch === batchesPerEpoch;
}

/** A log window's sums (JSON), saved in checkpoints. */
export interface LogWindowState {
  n: number;
  loss: number;
  t: number;
  pos: number;
  hard: number;
  images: number;
  wait: number;
  time: number;
}

export class LogWindow {
  #n = 0;
  #loss = 0;
  #t = 0;
  #pos = 0;
  #hard = 0;
  #images = 0;
  #wait = 0;
  #time = 0;
  /** Images, wait and time of warm-up steps (see {@link StepSample.warmUp}). */
  #warm = { images: 0, wait: 0, time: 0 };

  /** Steps in the window. */
  get size(): number {
    return this.#n;
  }

  add(s: StepSample): void {
    this.#n++;
    this.#loss += s.loss;
    this.#t = s.t;
    this.#pos += s.positiveCosine;
    this.#hard += s.hardFraction;
    const timing = s.warmUp ? this.#warm : null;
    if (timing) {
      timing.images += s.images;
      timing.wait += s.waitMs;
      timing.time += s.totalMs;
    } else {
      this.#images += s.images;
      this.#wait += s.waitMs;
      this.#time += s.totalMs;
    }
  }

  /** Images, wait and time the throughput is computed from: the steps after the warm-up, if any. */
  #timing(): { images: number; wait: number; time: number } {
    return this.#time > 0 ? { images: this.#images, wait: this.#wait, time: this.#time } : this.#warm;
  }

  /** The sums so far (for a checkpoint). */
  snapshot(): LogWindowState {
    const { images, wait, time } = this.#timing();
    return { n: this.#n, loss: this.#loss, t: this.#t, pos: this.#pos, hard: this.#hard, images, wait, time };
  }

  /** Continues a window from {@link snapshot} (on resume). */
  restore(s: LogWindowState): void {
    // JSON turns NaN (heads without t or statistics) into null
    const v = (x: number | null) => (x === null ? NaN : x);
    this.#n = v(s.n);
    this.#loss = v(s.loss);
    this.#t = v(s.t);
    this.#pos = v(s.pos);
    this.#hard = v(s.hard);
    this.#images = v(s.images);
    this.#wait = v(s.wait);
    this.#time = v(s.time);
    this.#warm = { images: 0, wait: 0, time: 0 };
  }

  /** The window's record (time stamped now); the window starts again empty. */
  flush(step: number, epoch: number, lr: number): TrainRecord {
    const n = this.#n;
    const { images, wait, time } = this.#timing();
    const rec: TrainRecord = {
      type: 'train',
      step,
      epoch,
      loss: this.#loss / n,
      lr,
      t: this.#t,
      positiveCosine: this.#pos / n,
      hardFraction: this.#hard / n,
      imagesPerSec: images / (time / 1000),
      dataWait: wait / time,
      time: new Date().toISOString(),
    };
    this.#n = this.#loss = this.#t = this.#pos = this.#hard = this.#images = this.#wait = this.#time = 0;
    this.#warm = { images: 0, wait: 0, time: 0 };
    return rec;
  }
}
