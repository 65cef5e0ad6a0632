/**
 * Inputs and helpers shared by the fused margin op's tests (test/ops/margin.test.ts) and its
 * sharded form's (test/distributed/margin-shard.test.ts): deterministic batches, the variants'
 * configurations, the op options from a reference configuration, and a relative comparison.
 */
import { expect } from 'vitest';
import { tensor, type DType, type Tensor } from '../../lib/index.js';
import type { MarginLossOptions } from '../../lib/ops/margin.js';
import type { RefConfig } from '../heads/reference.js';

// ------------------------------------------------------------------ deterministic inputs
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export interface Batch {
  x: number[][];
  W: number[][];
  labels: number[];
}

/**
 * B embeddings of size D against C classes; labels include the first and the last class.
 * `easy`: every embedding close to its class column (no hard negatives); otherwise random
 * embeddings (most negatives hard) plus one row near −w_y (the "thresh" fallback branch).
 */
export function makeBatch(seed: number, B: number, D: number, C: number, easy: boolean): Batch {
  const r = rng(seed);
  const W = Array.from({ length: D }, () => Array.from({ length: C }, () => 0.01 * gauss(r)));
  const labels = Array.from({ length: B }, (_, i) => (i === 0 ? 0 : i === 1 ? C - 1 : Math.floor(r() * C)));
  const col = (j: number) => W.map((row) => row[j]!);
  const x = labels.map((y, i) => {
    const w = col(y);
    const n = Math.hypot(...w);
    if (easy) return w.map((e) => (3 * e) / n + 0.3 * gauss(r) / Math.sqrt(D));
    if (i === 2) return w.map((e) => -e / n + 0.05 * gauss(r) / Math.sqrt(D));
    return w.map(() => gauss(r));
  });
  return { x, W, labels };
}

export function toT(a: number[][], dtype: DType, grad = false): Tensor {
  const t = tensor(a, { dtype });
  if (grad) t.requiresGrad_(true);
  return t;
}
export const nested = (t: Tensor): number[][] => t.toArray() as number[][];

export function opOptions(cfg: RefConfig, t: Tensor | null): MarginLossOptions {
  const o: MarginLossOptions = { target: cfg.target, negative: cfg.negative, s: cfg.s, m: cfg.m };
  if (cfg.negative === 'mv') o.mvT = cfg.t;
  if (cfg.negative === 'curricular') {
    o.t = t;
    o.training = cfg.training ?? false;
    o.tNewWeight = cfg.tNewWeight ?? 0.01;
    o.tStatistic = cfg.tStatistic ?? 'cos';
  }
  return o;
}

export const maxAbs = (a: number[][]): number => Math.max(...a.flat().map(Math.abs));
export function expectClose(a: number[][], b: number[][], rel: number, what: string): void {
  const scale = Math.max(maxAbs(b), 1e-30);
  let worst = 0;
  a.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i]![j]!)))));
  expect(worst / scale, `${what}: max |diff| ${worst} vs scale ${scale}`).toBeLessThan(rel);
}

export const CONFIGS: [string, RefConfig][] = [
  ['CosFace', { target: 'cosface', negative: 'plain', s: 64, m: 0.35, t: 0 }],
  ['ArcFace thresh', { target: 'thresh', negative: 'plain', s: 64, m: 0.5, t: 0 }],
  ['ArcFace easy', { target: 'easy', negative: 'plain', s: 64, m: 0.5, t: 0 }],
  ['ArcFace plain', { target: 'plain', negative: 'plain', s: 64, m: 0.5, t: 0 }],
  ['MV-Arc', { target: 'easy', negative: 'mv', s: 64, m: 0.5, t: 0.2 }],
  ['CurricularFace (code rule)', { target: 'thresh', negative: 'curricular', s: 64, m: 0.5, t: 0.1, training: true, tNewWeight: 0.01, tStatistic: 'cos' }],
  ['CurricularFace (paper rule)', { target: 'plain', negative: 'curricular', s: 64, m: 0.5, t: 0.3, training: true, tNewWeight: 0.99, tStatistic: 'cos_m' }],
  ['CurricularFace eval', { target: 'thresh', negative: 'curricular', s: 64, m: 0.5, t: 0.25, training: false }],
  ['normalised softmax', { target: 'none', negative: 'plain', s: 30, m: 0, t: 0 }],
];

