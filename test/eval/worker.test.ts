// Needs the compiled package (dist/), like test/tensor/worker.test.ts: `npm test` builds it first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../lib/eval/model.js';
import { loadModelInWorker } from '../../lib/eval/worker.js';
import { parseBackboneSpec } from '../../lib/models/index.js';

const dir = join(__dirname, '../fixtures/checkpoints');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { spec: unknown };
const faces = readFileSync(join(dir, 'faces.u8'));

describe('loadModelInWorker', () => {
  it('embeds in a worker thread with the same results, keeps the event loop free, reports errors', async () => {
    const spec = parseBackboneSpec(expected.spec);
    const imgs = [faces.subarray(0, 37632), faces.subarray(37632)];
    const local = loadModel(join(dir, 'ir_tiny.pt'), { spec });
    const want = await local.embed(imgs);
    local.dispose();
    const w = await loadModelInWorker(join(dir, 'ir_tiny.pt'), { spec });
    expect(w.card.embeddingSize).toBe(16);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const many = Array.from({ length: 64 }, (_, i) => imgs[i % 2]!);
    const got = await w.embed(many, { batchSize: 32 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    expect(got).toHaveLength(64);
    expect(got[0]).toBeInstanceOf(Float32Array);
    for (let i = 0; i < 2; i++) got[i]!.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 6));
    const c = await w.compare(imgs[0]!, imgs[0]!, { threshold: 1 });
    expect(c.same).toBe(true);
    await expect(w.embed([new Uint8Array(5)])).rejects.toThrow(/neither a JPEG\/PNG file nor a raw/);
    await w.close();
    await expect(w.embed(imgs)).rejects.toThrow(/closed/);
  });

  it('rejects when the model cannot be loaded', async () => {
    await expect(loadModelInWorker(join(dir, 'nope'))).rejects.toThrow(/does not exist/);
  });
});
