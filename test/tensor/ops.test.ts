import { describe, expect, it } from 'vitest';
import { cat, functional as F, randn, scope, stack, tensor, where, type Tensor } from '../../lib/index.js';

const f64 = (t: Tensor) => Array.from(t.toTypedArray() as Float64Array);

function close(a: number[], b: number[], tol = 1e-12) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)));
}

describe('elementwise and reductions against float64 JS formulas', () => {
  it('arithmetic with tensors and scalars', () =>
    scope(() => {
      const a = randn([5, 4], { dtype: 'float64' });
      const b = randn([5, 4], { dtype: 'float64' });
      const A = f64(a), B = f64(b);
      close(f64(a.add(b)), A.map((x, i) => x + B[i]!));
      close(f64(a.sub(b)), A.map((x, i) => x - B[i]!));
      close(f64(a.mul(b)), A.map((x, i) => x * B[i]!));
      close(f64(a.div(b)), A.map((x, i) => x / B[i]!));
      close(f64(a.mul(3)), A.map((x) => x * 3));
      close(f64(a.add(0.5)), A.map((x) => x + 0.5));
      close(f64(a.rsub(1)), A.map((x) => 1 - x));
      close(f64(a.exp()), A.map(Math.exp));
      close(f64(a.sigmoid()), A.map((x) => 1 / (1 + Math.exp(-x))));
      close(f64(a.clamp(-0.5, 0.5)), A.map((x) => Math.min(0.5, Math.max(-0.5, x))));
      close(f64(a.abs().sqrt()), A.map((x) => Math.sqrt(Math.abs(x))));
    }));

  it('broadcasting, reductions and comparisons', () =>
    scope(() => {
      const a = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
      const row = tensor([10, 20, 30], { dtype: 'float64' });
      expect(a.add(row).toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
      expect(a.sum().item()).toBe(21);
      expect(a.sum(0).toArray()).toEqual([5, 7, 9]);
      expect(a.mean(1, true).toArray()).toEqual([[2], [5]]);
      expect(a.max().item()).toBe(6);
      expect(a.argmax(1).toArray()).toEqual([2, 2]);
      const { values, indices } = a.maxDim(0);
      expect(values.toArray()).toEqual([4, 5, 6]);
      expect(indices.toArray()).toEqual([1, 1, 1]);
      expect(a.gt(3).toArray()).toEqual([[false, false, false], [true, true, true]]);
      expect(a.var(undefined, { unbiased: false }).item()).toBeCloseTo(35 / 12, 12);
      expect(a.norm().item()).toBeCloseTo(Math.sqrt(91), 12);
      expect(where(a.gt(3), a, a.neg()).toArray()).toEqual([[-1, -2, -3], [4, 5, 6]]);
    }));

  it('matmul equals the float64 triple loop', () =>
    scope(() => {
      const a = randn([7, 5], { dtype: 'float64' });
      const b = randn([5, 3], { dtype: 'float64' });
      const A = f64(a), B = f64(b);
      const ref: number[] = [];
      for (let i = 0; i < 7; i++)
        for (let j = 0; j < 3; j++) {
          let s = 0;
          for (let k = 0; k < 5; k++) s += A[i * 5 + k]! * B[k * 3 + j]!;
          ref.push(s);
        }
      close(f64(a.matmul(b)), ref);
    }));

  it('views, slicing and joining', () =>
    scope(() => {
      const a = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], { dtype: 'int64' }).view(3, 4);
      expect(a.slice(1, 1, 3).toArray()).toEqual([[1, 2], [5, 6], [9, 10]]);
      expect(a.at(2).toArray()).toEqual([8, 9, 10, 11]);
      expect(a.t().shape).toEqual([4, 3]);
      expect(a.permute(1, 0).contiguous().view(-1).toArray().slice(0, 3)).toEqual([0, 4, 8]);
      expect(cat([a, a], 0).shape).toEqual([6, 4]);
      expect(stack([a, a], 0).shape).toEqual([2, 3, 4]);
      expect(a.flip(1).at(0).toArray()).toEqual([3, 2, 1, 0]);
      expect(a.chunk(2, 1).map((t) => t.shape)).toEqual([[3, 2], [3, 2]]);
      expect(a.flatten().shape).toEqual([12]);
      expect(a.unsqueeze(0).shape).toEqual([1, 3, 4]);
      const idx = tensor([2, 0], { dtype: 'int64' });
      expect(a.indexSelect(0, idx).toArray()).toEqual([[8, 9, 10, 11], [0, 1, 2, 3]]);
    }));
});

describe('nn.functional against direct formulas', () => {
  it('conv2d equals a direct float64 convolution (stride, padding, groups)', () =>
    scope(() => {
      const x = randn([2, 4, 6, 5], { dtype: 'float64' });
      const w = randn([6, 2, 3, 3], { dtype: 'float64' });
      const b = randn([6], { dtype: 'float64' });
      const y = F.conv2d(x, w, b, { stride: 2, padding: 1, groups: 2 });
      expect(y.shape).toEqual([2, 6, 3, 3]);
      const X = f64(x), W = f64(w), B = f64(b), Y = f64(y);
      const at = (n: number, c: number, h: number, ww: number) =>
        h < 0 || h >= 6 || ww < 0 || ww >= 5 ? 0 : X[((n * 4 + c) * 6 + h) * 5 + ww]!;
      for (let n = 0; n < 2; n++)
        for (let o = 0; o < 6; o++)
          for (let i = 0; i < 3; i++)
            for (let j = 0; j < 3; j++) {
              const g = Math.floor(o / 3);
              let s = B[o]!;
              for (let ci = 0; ci < 2; ci++)
                for (let kh = 0; kh < 3; kh++)
                  for (let kw = 0; kw < 3; kw++) s += W[((o * 2 + ci) * 3 + kh) * 3 + kw]! * at(n, g * 2 + ci, i * 2 - 1 + kh, j * 2 - 1 + kw);
              expect(Math.abs(Y[((n * 6 + o) * 3 + i) * 3 + j]! - s)).toBeLessThan(1e-12);
            }
    }));

  it('cross-entropy equals −log softmax of the target, averaged', () =>
    scope(() => {
      const logits = randn([4, 7], { dtype: 'float64' }).mul(10);
      const target = tensor([0, 6, 3, 3], { dtype: 'int64' });
      const L = f64(logits);
      const T = [0, 6, 3, 3];
      let ref = 0;
      for (let i = 0; i < 4; i++) {
        const row = L.slice(i * 7, i * 7 + 7);
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        ref += lse - row[T[i]!]!;
      }
      expect(F.crossEntropy(logits, target).item()).toBeCloseTo(ref / 4, 12);
    }));

  it('batch norm (training) normalises and updates running stats with momentum', () =>
    scope(() => {
      const x = randn([8, 3, 2, 2], { dtype: 'float64' });
      const rm = tensor([0, 0, 0], { dtype: 'float64' });
      const rv = tensor([1, 1, 1], { dtype: 'float64' });
      const y = F.batchNorm(x, rm, rv, { training: true, momentum: 0.1, eps: 1e-5 });
      const yc = y.transpose(0, 1).reshape(3, -1);
      close(f64(yc.mean(1)), [0, 0, 0], 1e-12);
      const xc = x.transpose(0, 1).reshape(3, -1);
      close(f64(rm), f64(xc.mean(1).mul(0.1)), 1e-12);
      close(f64(rv), f64(xc.var(1).mul(0.1).add(0.9)), 1e-12);
    }));

  it('normalize, prelu, pooling', () =>
    scope(() => {
      const x = tensor([[3, 4], [0, 0]], { dtype: 'float64' });
      expect(F.normalize(x).toArray()).toEqual([[0.6, 0.8], [0, 0]]);
      const p = F.prelu(tensor([[-2, 2]], { dtype: 'float64' }).view(1, 2, 1, 1), tensor([0.25, 0.5], { dtype: 'float64' }));
      expect(p.flatten().toArray()).toEqual([-0.5, 2]);
      const img = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { dtype: 'float64' }).view(1, 1, 3, 3);
      expect(F.maxPool2d(img, 3, { stride: 1, padding: 1 }).flatten().toArray()).toEqual([5, 6, 6, 8, 9, 9, 8, 9, 9]);
      expect(F.avgPool2d(img, 3, { stride: 1, padding: 1 }).flatten().toArray()[4]).toBeCloseTo(5, 12);
      expect(F.avgPool2d(img, 3, { stride: 1, padding: 1 }).flatten().toArray()[0]).toBeCloseTo(12 / 9, 12);
    }));
});
