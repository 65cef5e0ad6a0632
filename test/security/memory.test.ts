// Memory that is not ours to forget (issues 17, 26 D): forgotten tensors of every size are
// collected under pressure, loaders end their threads.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loader } from '../../lib/data/loader.js';
import { encodeJpeg } from '../../lib/data/codec.js';

const entry = fileURLToPath(new URL('../../dist/lib/index.js', import.meta.url));

/**
 * Creates `n` undisposed float32 tensors of `elems` elements in a child process (written, so their
 * pages are resident), reaching the event loop every 20 (as a server between requests), and
 * returns how far RSS grew above the start, in MiB.
 */
function forgottenGrowthMB(n: number, elems: number): number {
  // The nursery's 1-second flush timer is switched off in the child: it models a machine fast
  // enough to forget 4096 tensors within that second, and keeps the test independent of load.
  const script = `
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = (fn, ms, ...a) => (ms === 1000 ? { unref() {} } : realSetTimeout(fn, ms, ...a));
    const m = await import(${JSON.stringify(entry)});
    m.ones([${elems}]).dispose();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    for (let i = 0; i < ${n}; i++) {
      m.ones([${elems}]);                                   // forgotten
      if (i % 20 === 19) {
        await new Promise((r) => setImmediate(r));
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    }
    console.log(JSON.stringify({ grownMB: (peak - rss0) / 1048576 }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 900_000 });
  return (JSON.parse(out.trim().split('\n').pop()!) as { grownMB: number }).grownMB;
}

describe('forgotten tensors are collected under memory pressure, at every size', () => {
  // Native memory is reported to V8 by aggregate, so small tensors count too. Each case creates
  // about 2.5× its bound: before the accounting covered tensors under 64 KiB, the 2 KiB and 60 KiB
  // cases kept all of it. ECF_FORGOTTEN_FULL=1 runs the issues' full cases (20,000 × 1 MiB;
  // 200,000 × 60 KiB and 400,000 × 2 KiB within 1 GiB).
  const full = process.env.ECF_FORGOTTEN_FULL === '1';
  it.each([
    ['1 MiB', 262144, full ? 20_000 : 1200, 350],
    ['60 KiB', 15360, full ? 200_000 : 12_000, full ? 1024 : 300],
    ['2 KiB', 512, full ? 400_000 : 300_000, full ? 1024 : 300],
  ])('undisposed %s tensors (%i elements) × %i keep RSS within %i MiB of the start', (_, elems, n, boundMB) => {
    expect(forgottenGrowthMB(n, elems)).toBeLessThan(boundMB);
  }, 900_000);
});

/** Threads of this process. */
const threads = (): number => readdirSync('/proc/self/task').length;

describe('loaders end their decode threads', () => {
  const img = encodeJpeg(new Uint8Array(112 * 112 * 3).fill(120), 112, 112, 90);
  const ds = { length: 64, numClasses: 4, imageSize: [112, 112] as [number, number], read: (i: number) => ({ image: img, label: i % 4 }) };

  it('close() (and await using) ends the threads of loaders left mid-epoch', async () => {
    const base = threads();
    const made = [];
    for (let i = 0; i < 20; i++) {
      const l = loader(ds, { batchSize: 8, threads: 4, prefetch: 2 });
      const it = l[Symbol.asyncIterator]();
      (await it.next()).value.dispose(); // one batch, then abandoned
      made.push(l);
    }
    expect(threads()).toBeGreaterThanOrEqual(base + 20 * 3);
    for (const l of made) await l.close();
    expect(threads()).toBeLessThanOrEqual(base + 2);
    {
      await using l = loader(ds, { batchSize: 8, threads: 4 });
      const it = l[Symbol.asyncIterator]();
      (await it.next()).value.dispose();
      expect(threads()).toBeGreaterThanOrEqual(base + 3);
    }
    expect(threads()).toBeLessThanOrEqual(base + 2);
    await expect(async () => made[0]![Symbol.asyncIterator]()).rejects.toThrow(/closed/);
  });

  it('an epoch iterated to its end ends the threads by itself; the next epoch starts them again', async () => {
    const base = threads();
    const l = loader(ds, { batchSize: 16, threads: 4 });
    for (let epoch = 0; epoch < 2; epoch++) {
      let n = 0;
      for await (const b of l) {
        n += b.labels.shape[0]!;
        b.dispose();
      }
      expect(n).toBe(64);
      expect(threads()).toBeLessThanOrEqual(base + 2);
    }
    await l.close();
  });
});
