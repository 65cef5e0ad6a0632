import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../lib/tensor/index.js';
import { evaluate, formatAccuracy, thresholdAtFar } from '../../lib/eval/verification.js';
import { contiguousFolds, formatFixed, numpyGrid } from '../../lib/eval/numpy-compat.js';

interface Expected {
  accuracy: number;
  std: number;
  thresholds: number[];
  folds: number[];
  bestThreshold: number;
  tar: Record<'far1e3' | 'far1e4', { tar: number; std: number; far: number }>;
  roc: { tpr: number[]; fpr: number[] };
  xnorm: number;
  printed: string;
}
interface Case {
  name: string;
  D: number;
  folds: number;
  embeddings: string;
  flipped?: string;
  issame: boolean[];
  expected: Expected;
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/verification_ref.json'), 'utf8')) as { cases: Case[] };
const f32 = (b64: string): Float32Array => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

describe('verification.evaluate against the independent numpy reference', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const r = evaluate(f32(c.embeddings), c.issame, {
        folds: c.folds,
        flippedEmbeddings: c.flipped ? f32(c.flipped) : undefined,
      });
      const e = c.expected;
      expect(formatAccuracy(r)).toBe(e.printed);
      expect(r.accuracy).toBeCloseTo(e.accuracy, 12);
      expect(r.std).toBeCloseTo(e.std, 12);
      expect(r.folds).toHaveLength(c.folds);
      r.folds.forEach((a, i) => expect(a).toBeCloseTo(e.folds[i]!, 12));
      // best thresholds are grid values: exactly equal
      expect(r.thresholds).toEqual(e.thresholds);
      expect(r.bestThreshold).toBeCloseTo(e.bestThreshold, 12);
      for (const k of ['far1e3', 'far1e4'] as const) {
        expect(r.tar[k].tar).toBeCloseTo(e.tar[k].tar, 12);
        expect(r.tar[k].std).toBeCloseTo(e.tar[k].std, 12);
        expect(r.tar[k].far).toBeCloseTo(e.tar[k].far, 12);
      }
      expect(r.roc.tpr).toHaveLength(400);
      r.roc.tpr.forEach((v, i) => expect(v).toBeCloseTo(e.roc.tpr[i]!, 12));
      r.roc.fpr.forEach((v, i) => expect(v).toBeCloseTo(e.roc.fpr[i]!, 12));
      expect(r.xnorm).toBeCloseTo(e.xnorm, 3);
      expect(r.pairs).toBe(c.issame.length);
    });
  }

  it('accepts a [2P, D] Tensor and gives the same numbers', () => {
    const c = fixture.cases.find((x) => x.name === 'noflip_P605')!;
    const flat = f32(c.embeddings);
    const t = tensor(flat).reshape(-1, c.D);
    const r = evaluate(t, c.issame, { folds: c.folds });
    t.dispose();
    expect(formatAccuracy(r)).toBe(c.expected.printed);
  });
});

describe('protocol pieces', () => {
  it('numpyGrid is np.arange(0, 4, step): i·step in float64', () => {
    const g = numpyGrid(4, 0.01);
    expect(g.length).toBe(400);
    expect(g[3]).toBe(3 * 0.01); // 0.03 (np.arange gives 0.03, not 0.030000000000000002)
    expect(g[399]).toBe(399 * 0.01);
    expect(numpyGrid(4, 0.001).length).toBe(4000);
  });

  it('contiguous folds: the first P mod K folds get one extra pair', () => {
    expect(contiguousFolds(23, 10)).toEqual([
      [0, 3], [3, 6], [6, 9], [9, 11], [11, 13], [13, 15], [15, 17], [17, 19], [19, 21], [21, 23],
    ]);
    expect(() => contiguousFolds(5, 10)).toThrow(/cannot split 5 pairs into 10 folds/);
  });

  it('strict "<": a distance equal to a threshold is "different"', () => {
    // 2-d unit vectors: pair 0 at distance exactly 0 (same), pair 1 at distance exactly 4 (different).
    // Folds of one pair each: training on the other fold only.
    const emb = new Float32Array([1, 0, 1, 0, 1, 0, -1, 0]);
    const r = evaluate(emb, [true, false], { folds: 2 });
    // fold 0 trains on the "different" pair at distance 4: every threshold < 4 rejects it,
    // accuracy 1 everywhere, first argmax → threshold 0, and dist 0 < 0 is false → wrong.
    expect(r.thresholds).toEqual([0, 0.01]);
    expect(r.folds).toEqual([0, 1]);
  });

  it('thresholdAtFar: last point with FAR ≤ target, linear to the next; 0 when never reached', () => {
    const grid = [0, 0.1, 0.2, 0.3, 0.4];
    expect(thresholdAtFar([0, 0, 0, 0.0005, 0.0009], grid, 1e-3)).toBe(0);
    // duplicates (scipy raises here): last FAR ≤ 1e-3 is index 2, next is 0.004 at 0.3
    expect(thresholdAtFar([0, 0, 0, 0.004, 0.004], grid, 1e-3)).toBeCloseTo(0.2 + 0.1 * (0.001 / 0.004), 15);
    expect(thresholdAtFar([0, 0.001, 0.001, 0.002, 0.003], grid, 1e-3)).toBe(0.2);
    expect(thresholdAtFar([0, 0, 0, 0, 0.001], grid, 1e-3)).toBe(0.4);
  });

  it('formats like Python %1.5f (exact ties to even)', () => {
    expect(formatFixed(0.015625, 5)).toBe('0.01562');
    expect(formatFixed(0.046875, 5)).toBe('0.04688');
    expect(formatFixed(0.99816666, 5)).toBe('0.99817');
    expect(formatAccuracy({ accuracy: 0.5, std: 0 })).toBe('0.50000+-0.00000');
  });

  it('rejects inconsistent input with clear messages', () => {
    expect(() => evaluate(new Float32Array(10), [true, false], { embeddingSize: 2 })).toThrow(/5 embeddings but 2 pairs/);
    expect(() => evaluate(new Float32Array(12), [true, false, true], { embeddingSize: 2, folds: 2, flippedEmbeddings: new Float32Array(4) })).toThrow(/flippedEmbeddings has 4 values/);
    expect(() => evaluate(new Float32Array(8), [true, 'x' as unknown as boolean])).toThrow(/issame\[1\]/);
  });
});
