import { describe, expect, it } from 'vitest';
import { arange, DTYPES, eye, full, linspace, ones, rand, randint, randn, tensor, zeros, type DType } from '../../lib/index.js';

describe('creation', () => {
  it('zeros/ones/full have the requested shape, dtype and values', () => {
    using z = zeros([2, 3]);
    expect(z.shape).toEqual([2, 3]);
    expect(z.dtype).toBe('float32');
    expect(z.device).toBe('cpu');
    expect(Array.from(z.toTypedArray())).toEqual([0, 0, 0, 0, 0, 0]);
    using o = ones([4], { dtype: 'int32' });
    expect(o.toTypedArray()).toEqual(new Int32Array([1, 1, 1, 1]));
    using f = full([2, 2], 2.5, { dtype: 'float64' });
    expect(f.toArray()).toEqual([[2.5, 2.5], [2.5, 2.5]]);
  });

  it('supports every dtype, round-tripping values through the typed array', () => {
    for (const dtype of DTYPES as readonly DType[]) {
      using t = tensor([0, 1, 2, 3], { dtype });
      expect(t.dtype).toBe(dtype);
      const expected = dtype === 'bool' ? [false, true, true, true] : [0, 1, 2, 3];
      expect(t.toArray()).toEqual(expected);
    }
  });

  it('builds from nested arrays and typed arrays', () => {
    using a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    using b = tensor(new Float64Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
    expect(b.dtype).toBe('float64');
    expect(b.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    using c = tensor(new BigInt64Array([5n, -7n]));
    expect(c.dtype).toBe('int64');
    expect(c.toArray()).toEqual([5, -7]);
    using d = tensor(new Uint8Array([255, 0, 7]), { dtype: 'float32' });
    expect(d.dtype).toBe('float32');
    expect(d.toArray()).toEqual([255, 0, 7]);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
  });

  it('arange/linspace/eye follow PyTorch', () => {
    using a = arange(5);
    expect(a.dtype).toBe('int64');
    expect(a.toArray()).toEqual([0, 1, 2, 3, 4]);
    using b = arange(0, 1, 0.25);
    expect(b.dtype).toBe('float32');
    expect(b.toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    using l = linspace(0, 1, 5, { dtype: 'float64' });
    expect(l.toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    using e = eye(2);
    expect(e.toArray()).toEqual([[1, 0], [0, 1]]);
  });

  it('random tensors have plausible statistics and respect bounds', () => {
    using r = rand([10000]);
    const v = r.toTypedArray() as Float32Array;
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThan(1);
    using n = randn([20000], { dtype: 'float64' });
    const m = n.mean().item();
    const s = n.std().item();
    expect(Math.abs(m)).toBeLessThan(0.05);
    expect(Math.abs(s - 1)).toBeLessThan(0.05);
    using ri = randint(3, 7, [1000]);
    const ints = Array.from(ri.toTypedArray() as BigInt64Array, Number);
    expect(Math.min(...ints)).toBe(3);
    expect(Math.max(...ints)).toBe(6);
  });

  it('half types convert to Float32Array on read', () => {
    using h = tensor([0.5, 1.5, -2], { dtype: 'float16' });
    const v = h.toTypedArray();
    expect(v).toBeInstanceOf(Float32Array);
    expect(Array.from(v)).toEqual([0.5, 1.5, -2]);
    using bf = tensor([1, 2], { dtype: 'bfloat16' });
    expect(Array.from(bf.toTypedArray())).toEqual([1, 2]);
  });
});
