/**
 * The run's metrics file (`metrics.jsonl`): one JSON object per line, appended as training goes.
 * `type: 'train'` lines carry the step statistics, `type: 'val'` lines one validation set's result.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

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
  time: string;
}

export type MetricRecord = TrainRecord | ValRecord;

/** Appends records to a JSONL file. */
export class MetricsWriter {
  constructor(readonly path: string) {}

  append(r: MetricRecord): void {
    appendFileSync(this.path, JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
  }

  /** Drops records after `step` (used on resume: those steps are trained again). */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = readMetrics(this.path).filter((r) => r.step <= step);
    writeFileSync(this.path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}

/** Reads a metrics file (nulls, i.e. non-finite numbers, come back as NaN). */
export function readMetrics(path: string): MetricRecord[] {
  if (!existsSync(path)) throw new Error(`metrics file not found: ${path}`);
  const out: MetricRecord[] = [];
  readFileSync(path, 'utf8')
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
