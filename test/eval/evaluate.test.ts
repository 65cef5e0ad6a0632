import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibratedThreshold, evaluate, formatTable, validationEntries } from '../../lib/eval/evaluate.js';
import { loadModel } from '../../lib/eval/model.js';
import { formatAccuracy } from '../../lib/eval/verification.js';
import { buildBackbone, parseBackboneSpec } from '../../lib/models/index.js';
import { memory } from '../../lib/tensor/index.js';

const dir = join(__dirname, '../fixtures/checkpoints');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
  spec: unknown;
  bin: { accuracy: number; std: number; folds: number[]; thresholds: number[]; xnorm: number; printed: string; tar1e3: number };
};

describe('evaluate(model, binFiles)', () => {
  it('reproduces the PyTorch + numpy reference on a .bin set (flip TTA, 10 folds) to the printed digit', async () => {
    const live = memory().tensors;
    const m = loadModel(join(dir, 'ir_tiny.pt'), { spec: parseBackboneSpec(expected.spec) });
    const seen: number[] = [];
    const [r] = await evaluate(m, [join(dir, 'pairs_tiny.bin')], { batchSize: 16, onProgress: (_s, done) => seen.push(done) });
    expect(seen).toEqual([16, 32, 48, 60]);
    expect(r!.name).toBe('pairs_tiny');
    expect(r!.pairs).toBe(30);
    expect(formatAccuracy(r!.result)).toBe(expected.bin.printed);
    expect(r!.result.thresholds).toEqual(expected.bin.thresholds);
    r!.result.folds.forEach((a, i) => expect(a).toBeCloseTo(expected.bin.folds[i]!, 12));
    expect(r!.result.xnorm).toBeCloseTo(expected.bin.xnorm, 3);
    expect(r!.result.tar.far1e3.tar).toBeCloseTo(expected.bin.tar1e3, 9);
    const thr = calibratedThreshold([r!]);
    expect(thr.source).toBe('pairs_tiny');
    expect(thr.cosine).toBeCloseTo(1 - thr.distance / 2, 12);
    expect(validationEntries([r!])[0]).toMatchObject({ set: 'pairs_tiny', pairs: 30 });
    const table = formatTable([r!, { ...r!, name: 'other' }]);
    expect(table.split('\n')[0]).toMatch(/^set\s+pairs\s+accuracy \(%\)\s+Accuracy-Flip/);
    expect(table).toContain(`${(r!.result.accuracy * 100).toFixed(2)} ± ${(r!.result.std * 100).toFixed(2)}`);
    expect(table).toContain(expected.bin.printed);
    expect(table.split('\n').at(-1)).toMatch(/^mean/);
    await m.embed([readFileSync(join(dir, 'faces.u8')).subarray(0, 37632)]);
    m.dispose();
    expect(memory().tensors).toBe(live); // nothing leaked by loading, embedding and evaluating
  });

  it('accepts a bare backbone in training mode and leaves it in training mode', async () => {
    const b = buildBackbone(parseBackboneSpec(expected.spec));
    b.train();
    const [r] = await evaluate(b, join(dir, 'pairs_tiny.bin'), { batchSize: 32 });
    expect(b.training).toBe(true);
    expect(r!.result.folds).toHaveLength(10);
    b.dispose();
  });

  it('names the file when a set cannot be read', async () => {
    const b = buildBackbone(parseBackboneSpec(expected.spec));
    await expect(evaluate(b, [join(dir, 'ir_tiny.pt')])).rejects.toThrow(/ir_tiny.pt/);
    b.dispose();
  });
});
