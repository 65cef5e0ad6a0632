/**
 * The experiments' statistics against independent references: Student's t tail from its closed
 * forms for ν = 1, 2, 3 (Cauchy, and the elementary ν = 2 and ν = 3 CDFs), a paired t-test worked by
 * hand in float64, Holm's adjustment by its definition.
 */
import { describe, expect, it } from 'vitest';
import { holm, incompleteBeta, meanStd, pairedTTest, studentQuantileTwoSided, studentTwoSided } from '../../experiments/lib/stats';

// P(|T| ≥ t) from the closed-form CDFs
const twoSided = {
  1: (t: number) => 1 - (2 / Math.PI) * Math.atan(t),
  2: (t: number) => 1 - t / Math.sqrt(t * t + 2),
  3: (t: number) => 1 - (2 / Math.PI) * (t / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(t / Math.sqrt(3))),
} as const;

describe('experiments/lib/stats', () => {
  it("Student's t two-sided tail matches the closed forms for 1, 2 and 3 degrees of freedom", () => {
    for (const df of [1, 2, 3] as const) {
      for (const t of [0, 0.1, 0.5, 1, 1.7, 2.5, 4.3, 10, 60]) {
        expect(studentTwoSided(t, df)).toBeCloseTo(twoSided[df](t), 12);
        expect(studentTwoSided(-t, df)).toBeCloseTo(twoSided[df](t), 12);
      }
    }
  });

  it('the incomplete beta function obeys I_x(a, b) = 1 − I_{1−x}(b, a) and I_x(1, 1) = x', () => {
    for (const x of [0.01, 0.3, 0.5, 0.77, 0.99]) {
      expect(incompleteBeta(x, 1, 1)).toBeCloseTo(x, 13);
      expect(incompleteBeta(x, 2.5, 0.5) + incompleteBeta(1 - x, 0.5, 2.5)).toBeCloseTo(1, 12);
      // I_x(a, 1) = x^a
      expect(incompleteBeta(x, 3.5, 1)).toBeCloseTo(x ** 3.5, 12);
    }
    expect(() => incompleteBeta(1.5, 1, 1)).toThrow(/x must be in \[0, 1\]/);
  });

  it('the two-sided quantile inverts the tail (ν = 2: t = √(2/(1 − (1 − p)²) − 2))', () => {
    for (const p of [0.5, 0.1, 0.05, 0.01]) {
      const q = 1 - p;
      expect(studentQuantileTwoSided(p, 2)).toBeCloseTo(Math.sqrt((2 * q * q) / (1 - q * q)), 9);
      expect(studentTwoSided(studentQuantileTwoSided(p, 7), 7)).toBeCloseTo(p, 10);
    }
  });

  it('mean and sample std (ddof 1)', () => {
    expect(meanStd([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ mean: 5, std: Math.sqrt(32 / 7) });
    expect(meanStd([0.8])).toEqual({ mean: 0.8, std: 0 });
    expect(meanStd([]).mean).toBeNaN();
  });

  it('a paired t-test worked by hand', () => {
    const a = [0.81, 0.84, 0.79];
    const b = [0.8, 0.8, 0.8];
    // d = [0.01, 0.04, −0.01]: mean 1/75, sd √(0.00063333…)
    const d = [0.81 - 0.8, 0.84 - 0.8, 0.79 - 0.8];
    const mean = (d[0]! + d[1]! + d[2]!) / 3;
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / 2);
    const t = mean / (sd / Math.sqrt(3));
    const r = pairedTTest(a, b);
    expect(r.n).toBe(3);
    expect(r.df).toBe(2);
    expect(r.meanDiff).toBeCloseTo(mean, 15);
    expect(r.t).toBeCloseTo(t, 12);
    expect(r.p).toBeCloseTo(twoSided[2](Math.abs(t)), 12);
    // 95 % CI half-width = t_{0.975, 2} · sd/√n with t_{0.975, 2} = √(2·0.95²/(1 − 0.95²))
    const half = Math.sqrt((2 * 0.95 * 0.95) / (1 - 0.95 * 0.95)) * (sd / Math.sqrt(3));
    expect(r.ci95![0]).toBeCloseTo(mean - half, 10);
    expect(r.ci95![1]).toBeCloseTo(mean + half, 10);
  });

  it('a paired t-test of one pair has no p-value; equal differences give p = 0 (or 1 when zero)', () => {
    expect(pairedTTest([0.9], [0.8]).p).toBeNull();
    expect(pairedTTest([0.75, 0.5], [0.5, 0.25]).p).toBe(0); // exact binary fractions: both differences are 0.25
    expect(pairedTTest([0.9, 0.8], [0.9, 0.8]).p).toBe(1);
    expect(() => pairedTTest([1, 2], [1])).toThrow(/2 values against 1/);
  });

  it("Holm's step-down adjustment", () => {
    // sorted 0.01, 0.02, 0.04 of m = 3: 0.03, max(0.03, 0.04), max(0.04, 0.04); nulls stay null
    const r = holm([0.04, null, 0.01, 0.02]);
    expect(r[0]).toBeCloseTo(0.04, 15);
    expect(r[1]).toBeNull();
    expect(r[2]).toBeCloseTo(0.03, 15);
    expect(r[3]).toBeCloseTo(0.04, 15);
    expect(holm([0.6, 0.9])).toEqual([1, 1]);
  });
});
