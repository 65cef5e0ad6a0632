/**
 * GPU check of the data loader: batches decoded into pinned memory and copied to CUDA hold the
 * same values as CPU batches. Runs with `node --test dist/test/cuda/`; skips without CUDA.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cuda, data } from '../../lib/index.js';

function rgbOf(i: number): Buffer {
  const b = Buffer.alloc(112 * 112 * 3);
  for (let p = 0; p < b.length; p++) b[p] = (p * 31 + i * 17) & 255;
  return b;
}

test('loader to CUDA matches the CPU loader (pinned staging)', { skip: !cuda.isAvailable() && 'CUDA is not available' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecf-cuda-data-'));
  try {
    const samples = Array.from({ length: 40 }, (_, i) => ({ label: Math.floor(i / 10), image: data.encodePng(rgbOf(i), 112, 112) }));
    await data.writeRecordIO(dir, samples);
    const ds = data.openRecordIO(dir);
    for (const channelsLast of [false, true]) {
      const opts = { batchSize: 16, seed: 3, train: true, channelsLast, threads: 4 };
      const cpuB: Float32Array[] = [];
      for await (const b of data.loader(ds, opts)) {
        cpuB.push(b.images.toTypedArray() as Float32Array);
        b.dispose();
      }
      let k = 0;
      for await (const b of data.loader(ds, { ...opts, device: 'cuda' })) {
        assert.match(b.images.device, /^cuda/);
        assert.match(b.labels.device, /^cuda/);
        if (channelsLast) assert.ok(b.images.isContiguous('channelsLast'));
        const host = b.images.cpu();
        assert.deepEqual(host.toTypedArray(), cpuB[k++]);
        host.dispose();
        b.dispose();
      }
      assert.equal(k, cpuB.length);
    }
    ds.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
