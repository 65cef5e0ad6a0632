import { describe, expect, it } from 'vitest';
import { randn, scope, tensor } from '../../lib/index.js';

describe('long native work off the event loop', () => {
  it('timers keep firing while matmulAsync runs, and the result is right', async () => {
    const a = randn([1400, 1400]);
    const b = randn([1400, 1400]);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 2);
    const t0 = performance.now();
    const jobs = [a.matmulAsync(b), a.matmulAsync(b), a.matmulAsync(b)];
    const results = await Promise.all(jobs);
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    // the event loop ran during the native work: about one tick per 2 ms, allow heavy slack
    expect(elapsed).toBeGreaterThan(20);
    expect(ticks).toBeGreaterThanOrEqual(Math.min(5, Math.floor(elapsed / 20)));
    const ref = scope(() => a.matmul(b).sum().item());
    for (const r of results) {
      expect(Math.abs(r.sum().item() - ref)).toBeLessThan(1e-3 * Math.max(1, Math.abs(ref)));
      r.dispose();
    }
    a.dispose();
    b.dispose();
  });

  it('errors in async work reject the promise with the libtorch message', async () => {
    using a = tensor([[1, 2, 3]]);
    await expect(a.matmulAsync(a)).rejects.toThrow(/cannot be multiplied|shapes|size mismatch/i);
  });
});
