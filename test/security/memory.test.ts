// Memory that is not ours to forget (issue 17): forgotten tensors are collected under pressure,
// loaders end their threads.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loader } from '../../lib/data/loader.js';
import { encodeJpeg } from '../../lib/data/codec.js';

const entry = fileURLToPath(new URL('../../dist/lib/index.js', import.meta.url));

describe('forgotten tensors are collected under memory pressure', () => {
  // N undisposed 1 MiB tensors (written, so their pages are resident), the event loop reached
  // every 20 (as a server between requests). Before the nursery was flushed by bytes, up to
  // 4096 of them (4 GiB) stayed reachable. ECF_FORGOTTEN_N=20000 runs the full case.
  const n = Number(process.env.ECF_FORGOTTEN_N ?? 1200);
  it(`${n} undisposed 1 MiB tensors keep RSS within 350 MiB of the start`, () => {
    // The nursery's 1-second flush timer is switched off in the child: it models a machine fast
    // enough to forget 4096 tensors within that second, and keeps the test independent of load.
    const script = `
      const realSetTimeout = globalThis.setTimeout;
      globalThis.setTimeout = (fn, ms, ...a) => (ms === 1000 ? { unref() {} } : realSetTimeout(fn, ms, ...a));
      const m = await import(${JSON.stringify(entry)});
      m.ones([262144]).dispose();
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      for (let i = 0; i < ${n}; i++) {
        m.ones([262144]);                                   // forgotten
        if (i % 20 === 19) {
          await new Promise((r) => setImmediate(r));
          peak = Math.max(peak, process.memoryUsage().rss);
        }
      }
      console.log(JSON.stringify({ grownMB: (peak - rss0) / 1048576, created: ${n} }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 600_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { grownMB: number };
    expect(r.grownMB).toBeLessThan(350);
  }, 600_000);
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
