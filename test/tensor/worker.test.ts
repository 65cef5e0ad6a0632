import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('worker_threads', () => {
  it('the addon loads and runs in several workers at once (per-environment state)', async () => {
    const entry = pathToFileURL(join(root, 'dist', 'lib', 'index.js')).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.entry).then((m) => {
        const a = m.tensor([1, 2, 3, 4]).view(2, 2);
        const s = a.matmul(a).sum().item();
        a.dispose();
        parentPort.postMessage({ s, live: m.memory().tensors });
      }).catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
    const run = () =>
      new Promise<{ s: number; live: number; error?: string }>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { entry } });
        w.once('message', (m) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      });
    const results = await Promise.all([run(), run(), run()]);
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.s).toBe(54);
    }
  });
});
