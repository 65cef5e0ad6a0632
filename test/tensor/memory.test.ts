import { describe, expect, it } from 'vitest';
import { empty, keep, memory, ones, scope, zeros } from '../../lib/index.js';

describe('deterministic memory', () => {
  it('dispose() and `using` release at once; memory() counts live tensors and bytes', () => {
    const before = memory();
    const a = zeros([1024], { dtype: 'float64' });
    expect(memory().tensors).toBe(before.tensors + 1);
    expect(memory().bytes).toBe(before.bytes + 8192);
    const v = a.view(32, 32); // a view shares the storage: counted once
    expect(memory().tensors).toBe(before.tensors + 2);
    expect(memory().bytes).toBe(before.bytes + 8192);
    v.dispose();
    a.dispose();
    expect(memory().tensors).toBe(before.tensors);
    {
      using b = ones([10]);
      expect(memory().tensors).toBe(before.tensors + 1);
      expect(b.sum().item()).toBe(10);
    }
    // b and the temporary sum handle: b disposed by `using`, the sum freed by GC later at most
    expect(memory().tensors).toBeLessThanOrEqual(before.tensors + 1);
  });

  it('scope frees everything but what it returns or keeps; scopes nest', () => {
    const before = memory().tensors;
    const { out, kept } = scope(() => {
      const a = ones([3]);
      const b = a.mul(2).add(1);
      const k = keep(a.sub(1));
      const inner = scope(() => b.mul(b).sum());
      return { out: inner, kept: k };
    });
    expect(memory().tensors).toBe(before + 2);
    expect(out.item()).toBe(27);
    expect(kept.toArray()).toEqual([0, 0, 0]);
    out.dispose();
    kept.dispose();
    expect(memory().tensors).toBe(before);
    expect(() =>
      scope(() => {
        ones([2]);
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(memory().tensors).toBe(before);
  });

  it('200,000 create/dispose cycles of 1 MB tensors keep RSS within 100 MB', () => {
    const warm = empty([262144]);
    warm.dispose();
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 200_000; i++) {
      const t = empty([262144]); // 1 MiB of float32
      t.dispose();
    }
    const grown = process.memoryUsage().rss - rss0;
    expect(grown).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('garbage-collector safety net', () => {
  it('frees the native memory of tensors that were never disposed', async () => {
    const { execFileSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const entry = fileURLToPath(new URL('../../dist/lib/index.js', import.meta.url));
    const script = `
      const m = await import(${JSON.stringify(entry)});
      const base = m.memory().tensors;
      (() => { for (let i = 0; i < 100; i++) m.zeros([1000]); })();   // forgotten, never disposed
      const made = m.memory().tensors - base;
      await new Promise((r) => setTimeout(r, 1200));                   // nursery flush
      for (let i = 0; i < 5 && m.memory().tensors - base > 0; i++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 50));                   // finalization callbacks
      }
      console.log(JSON.stringify({ made, left: m.memory().tensors - base }));`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const { made, left } = JSON.parse(out.trim().split('\n').pop()!);
    expect(made).toBe(100);
    expect(left).toBe(0);
  });
});
