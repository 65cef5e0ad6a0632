// cuda.cudnnBenchmark / cuda.emptyCache (native/ops/runtime_ops.cc): process-wide libtorch
// settings that work in CPU-only builds too (emptyCache is then a no-op).
import { describe, expect, it } from 'vitest';

import { cuda } from '../../lib/tensor/index.js';

describe('cuda runtime settings', () => {
  it('cudnnBenchmark sets the flag and returns the setting before', () => {
    const start = cuda.cudnnBenchmark();
    expect(typeof start).toBe('boolean');
    expect(cuda.cudnnBenchmark(true)).toBe(start);
    expect(cuda.cudnnBenchmark()).toBe(true);
    expect(cuda.cudnnBenchmark(false)).toBe(true);
    expect(cuda.cudnnBenchmark()).toBe(false);
    cuda.cudnnBenchmark(start);
  });
  it('emptyCache runs without CUDA', () => {
    expect(() => cuda.emptyCache()).not.toThrow();
  });
  it('a non-boolean argument names the argument', () => {
    expect(() => (cuda.cudnnBenchmark as (v: unknown) => boolean)('yes')).toThrow(/cudnnBenchmark.*enable/);
  });
});
