import { describe, expect, it } from 'vitest';
import { functional as F, isGradEnabled, noGrad, randn, scope, tensor } from '../../lib/index.js';

describe('autograd', () => {
  it('backward of sum(x²·w) gives 2xw and x²', () =>
    scope(() => {
      const x = randn([3, 4], { dtype: 'float64', requiresGrad: true });
      const w = randn([3, 4], { dtype: 'float64', requiresGrad: true });
      x.mul(x).mul(w).sum().backward();
      const gx = x.grad!.toTypedArray() as Float64Array;
      const gw = w.grad!.toTypedArray() as Float64Array;
      const X = x.toTypedArray() as Float64Array;
      const W = w.toTypedArray() as Float64Array;
      for (let i = 0; i < 12; i++) {
        expect(gx[i]).toBeCloseTo(2 * X[i]! * W[i]!, 12);
        expect(gw[i]).toBeCloseTo(X[i]! * X[i]!, 12);
      }
      x.zeroGrad();
      expect(x.grad).toBeNull();
    }));

  it('conv2d weight gradient matches central finite differences', () =>
    scope(() => {
      const x = randn([2, 3, 5, 5], { dtype: 'float64' });
      const w = randn([4, 3, 3, 3], { dtype: 'float64', requiresGrad: true });
      const loss = () => F.conv2d(x, w, null, { padding: 1 }).sigmoid().sum();
      loss().backward();
      const g = w.grad!.toTypedArray() as Float64Array;
      const flat = w.detach().view(-1);
      const eps = 1e-6;
      for (const i of [0, 17, 53, 107]) {
        const orig = (flat.toTypedArray() as Float64Array)[i]!;
        const setAt = (v: number) => noGrad(() => flat.narrow(0, i, 1).fill_(v));
        setAt(orig + eps);
        const lp = noGrad(() => loss().item());
        setAt(orig - eps);
        const lm = noGrad(() => loss().item());
        setAt(orig);
        expect(Math.abs((lp - lm) / (2 * eps) - g[i]!)).toBeLessThan(1e-6);
      }
    }));

  it('noGrad turns tracking off and restores it, even on throw', () => {
    expect(isGradEnabled()).toBe(true);
    scope(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      const y = noGrad(() => x.mul(2));
      expect(y.requiresGrad).toBe(false);
      expect(x.mul(2).requiresGrad).toBe(true);
    });
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
  });
});
