/** Shared by the model tests: the closed-form filler and statistics of test/fixtures/models/make_attention.py. */
import { expect } from 'vitest';
import { tensor, type Tensor } from '../../lib/index.js';
import type { Module } from '../../lib/nn/index.js';

export interface Stats {
  sum: number;
  sumsq: number;
  weighted: number;
  picks: [number, number][];
}

export function fillValues(shape: number[], k: number, name: string): Float64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.sin(1.7 * i + 0.3 * k + 0.1);
    if (name.endsWith('running_var')) v[i] = 1 + 0.5 * s * s;
    else if (shape.length >= 2) v[i] = s * (1.5 / Math.sqrt(n / shape[0]!));
    else v[i] = name.endsWith('weight') ? 0.5 + 0.25 * s : 0.2 * s;
  }
  return v;
}

/** Fills every parameter and float buffer (state_dict order) through loadStateDict(strict: false). */
export function fillModule(m: Module<any, any>): void {
  const sd = new Map<string, Tensor>();
  let j = 0;
  for (const [k, t] of m.stateDict()) {
    if (k.endsWith('num_batches_tracked')) continue;
    sd.set(k, tensor(fillValues(t.shape, j++, k)).view(t.shape));
  }
  const r = m.loadStateDict(sd, { strict: false });
  expect(r.unexpectedKeys).toEqual([]);
  for (const t of sd.values()) t.dispose();
}

export function inputOf(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(0.37 * i) * 1.3 + 0.2 * Math.cos(0.011 * i);
  return tensor(v).view(shape);
}

export function checkStats(y: Tensor, s: Stats, rtol = 1e-10): void {
  const f = y.toTypedArray() as Float64Array;
  let sum = 0;
  let sumsq = 0;
  let weighted = 0;
  for (let i = 0; i < f.length; i++) {
    sum += f[i]!;
    sumsq += f[i]! * f[i]!;
    weighted += f[i]! * Math.cos(0.013 * i);
  }
  const scale = Math.sqrt(s.sumsq);
  const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rtol * Math.max(1, scale, Math.abs(b)));
  close(sum, s.sum);
  close(sumsq, s.sumsq);
  close(weighted, s.weighted);
  for (const [i, v] of s.picks) close(f[i]!, v);
}
