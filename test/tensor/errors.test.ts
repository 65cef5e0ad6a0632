import { describe, expect, it } from 'vitest';
import { cuda, functional as F, ones, tensor, zeros } from '../../lib/index.js';

describe('errors reach JS cleanly', () => {
  it('shape mismatch: libtorch message, no C++ backtrace', () => {
    using a = zeros([2, 3]);
    using b = zeros([4, 5]);
    let err: Error | undefined;
    try {
      a.add(b);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/size of tensor a \(3\) must match the size of tensor b \(5\)/);
    expect(err!.message).not.toMatch(/Exception raised from|frame #|\.cpp:\d+/);
    expect((err as Error & { code?: string }).code).toBe('ERR_TORCH');
    // the process is alive and the addon still works
    using c = a.add(1);
    expect(c.sum().item()).toBe(6);
  });

  it('matmul with incompatible shapes', () => {
    using a = ones([2, 3]);
    expect(() => a.matmul(a)).toThrow(/cannot be multiplied|size mismatch|shapes/i);
  });

  it('bad dtype is a TypeError naming the argument', () => {
    expect(() => zeros([2], { dtype: 'float128' as never })).toThrow(TypeError);
    expect(() => zeros([2], { dtype: 'float128' as never })).toThrow(/options\.dtype.*float128/);
    using a = zeros([2]);
    expect(() => a.to('complex' as never)).toThrow(/invalid device|unknown dtype/);
  });

  it('out-of-range index is a RangeError', () => {
    using a = zeros([2, 3]);
    expect(() => a.select(0, 5)).toThrow(RangeError);
    expect(() => a.select(0, 5)).toThrow(/index 5 out of range/);
    expect(() => a.size(3)).toThrow(RangeError);
  });

  it('CUDA asked for on a CPU build: a clear Error', () => {
    if (cuda.isAvailable()) return; // only meaningful without a GPU
    expect(() => zeros([2], { device: 'cuda' })).toThrow(/CUDA was requested/);
    using a = zeros([2]);
    expect(() => a.to('cuda:0')).toThrow(/CUDA was requested/);
    expect(() => zeros([1], { device: 'gpu' as never })).toThrow(/invalid device 'gpu'/);
  });

  it('wrong JS argument types give a TypeError naming the argument', () => {
    using a = zeros([2, 2]);
    expect(() => a.add('x' as never)).toThrow(TypeError);
    expect(() => a.matmul([1, 2] as never)).toThrow(/argument 'other' must be a Tensor, got an array/);
    expect(() => F.conv2d(a, {} as never)).toThrow(/argument 'weight' must be a Tensor/);
    expect(() => zeros([2, -1])).toThrow(/argument 'shape'/);
  });

  it('using a disposed tensor is a clear Error', () => {
    const a = tensor([1, 2, 3]);
    a.dispose();
    expect(() => a.sum()).toThrow(/disposed/);
    expect(() => a.dispose()).not.toThrow();
  });
});
