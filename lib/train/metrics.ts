/**
 * The run's metrics file (`metrics.jsonl`): one JSON object per line, appended as training goes.
 * `type: 'train'` lines carry the step statistics, `type: 'val'` lines one validation set's result,
 * `type: 'lr'` lines each change of the learning rate.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { readRegularFile } from '../io/regular-file.js';
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

/** Appends records to a JSONL file. */
export class MetricsWriter {
  constructor(readonly path: string) {}

  append(r: MetricRecord): void {
    appendFileSync(this.path, JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
  }

  /**
   * Drops the records written after the one of `step` (used on resume: those steps are trained
   * again): the trailing records with a later step. Trailing, not all: after a resume with another
   * world size the step numbering restarts lower (docs/distributed.md), and the records of the
   * earlier world size must stay.
   */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = readMetrics(this.path);
    while (kept.length && kept[kept.length - 1]!.step > step) kept.pop();
    writeFileSync(this.path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}

/** Reads a metrics file (nulls, i.e. non-finite numbers, come back as NaN). */
export function readMetrics(path: string): MetricRecord[] {
  if (!existsSync(path)) throw new Error(`metrics file not found: ${path}`);
  const out: MetricRecord[] = [];
  readRegularFile(path, 'metrics file', 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        out.push(JSON.parse(line, (_k, v: unknown) => (v === null ? NaN : v)) as MetricRecord);
      } catch {
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
}

/**
 * The statistics of the steps since the last log line: mean loss, cosine and hard fraction, the
 * last t, throughput and the data-wait share. {@link LogWindow.flush} turns them into a record
 * and starts a new window.
 */
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
    this.#images += s.images;
    this.#wait += s.waitMs;
    this.#time += s.totalMs;
  }

  /** The sums so far (for a checkpoint). */
  snapshot(): LogWindowState {
    return { n: this.#n, loss: this.#loss, t: this.#t, pos: this.#pos, hard: this.#hard, images: this.#images, wait: this.#wait, time: this.#time };
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
  }

  /** The window's record (time stamped now); the window starts again empty. */
  flush(step: number, epoch: number, lr: number): TrainRecord {
    const n = this.#n;
    const rec: TrainRecord = {
      type: 'train',
      step,
      epoch,
      loss: this.#loss / n,
      lr,
      t: this.#t,
      positiveCosine: this.#pos / n,
      hardFraction: this.#hard / n,
      imagesPerSec: this.#images / (this.#time / 1000),
      dataWait: this.#wait / this.#time,
      time: new Date().toISOString(),
    };
    this.#n = this.#loss = this.#t = this.#pos = this.#hard = this.#images = this.#wait = this.#time = 0;
    return rec;
  }
}
