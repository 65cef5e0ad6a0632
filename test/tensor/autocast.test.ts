import { describe, expect, it } from 'vitest';
import { autocast, autocastState, randn, scope } from '../../lib/tensor/index.js';

describe('autocast', () => {
  it('turns CUDA autocast on inside fn, nests, and restores the setting after (also on throw)', () => {
    expect(autocastState().enabled).toBe(false);
    const before = autocastState().dtype;
    const inner = autocast('bfloat16', () => {
      expect(autocastState()).toEqual({ enabled: true, dtype: 'bfloat16' });
      autocast('float16', () => expect(autocastState()).toEqual({ enabled: true, dtype: 'float16' }));
      return autocastState();
    });
    expect(inner).toEqual({ enabled: true, dtype: 'bfloat16' });
    expect(autocastState()).toEqual({ enabled: false, dtype: before });
    expect(() =>
      autocast('float16', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(autocastState()).toEqual({ enabled: false, dtype: before });
  });

  it('leaves CPU ops in float32', () => {
    scope(() => {
      const a = randn([8, 8]);
      expect(autocast('bfloat16', () => a.matmul(a)).dtype).toBe('float32');
    });
  });

  it('rejects other dtypes and asynchronous functions', () => {
    expect(() => autocast('float32' as 'float16', () => 1)).toThrow(/dtype must be 'float16' or 'bfloat16'/);
    const p = Promise.resolve(1);
    expect(() => autocast('float16', () => p)).toThrow(/must be synchronous/);
    expect(autocastState().enabled).toBe(false);
  });
});
