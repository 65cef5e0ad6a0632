/**
 * CUDA tests of evaluation and inference (node:test; run by scripts/gpu-check.sh on a GPU machine,
 * skipped where CUDA is unavailable): a model loaded on the GPU gives the same embeddings and the
 * same verification numbers as on the CPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cuda } from '../../lib/tensor/index.js';
import { loadModel } from '../../lib/eval/model.js';
import { evaluate } from '../../lib/eval/evaluate.js';
import { parseBackboneSpec } from '../../lib/models/index.js';

const skip = !cuda.isAvailable() && 'CUDA not available';

/** test/fixtures/checkpoints, from dist/test/cuda or from test/cuda. */
function fixtures(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(d, 'test/fixtures/checkpoints');
    if (existsSync(p)) return p;
    d = dirname(d);
  }
  throw new Error('test/fixtures/checkpoints not found');
}

test('embeddings on cuda equal the CPU ones (imported PyTorch checkpoint, flip TTA)', { skip }, async () => {
  const dir = fixtures();
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  const faces = readFileSync(join(dir, 'faces.u8'));
  const imgs = [faces.subarray(0, 37632), faces.subarray(37632)];
  const spec = parseBackboneSpec(expected.spec_esca);
  const cpu = loadModel(join(dir, 'ir_tiny_esca.pt'), { spec });
  const gpu = loadModel(join(dir, 'ir_tiny_esca.pt'), { spec, device: 'cuda' });
  const a = await cpu.embed(imgs);
  const b = await gpu.embed(imgs);
  // cuDNN convolutions run in TF32 by default on Ampere and later (libtorch's allowTF32CuDNN),
  // a 10-bit mantissa: CUDA and CPU agree to about 1e-3 relative, not float32's 1e-6.
  const tol = 2e-3;
  for (let i = 0; i < 2; i++) for (let j = 0; j < a[i]!.length; j++) assert.ok(Math.abs(a[i]![j]! - b[i]![j]!) <= tol, `embedding ${i}[${j}]: ${a[i]![j]} vs ${b[i]![j]}`);
  const raw = await gpu.embedRaw(imgs, { normalise: false, flip: false });
  const rows = raw.toArray() as number[][];
  raw.dispose();
  rows.forEach((r, i) => r.forEach((v, j) => assert.ok(Math.abs(v - expected.embeddings_esca[i][j]) <= tol * Math.max(1, Math.abs(v)), `raw ${i}[${j}] vs PyTorch`)));
  cpu.dispose();
  gpu.dispose();
});

test('evaluate() on cuda prints the same Accuracy-Flip as the reference', { skip }, async () => {
  const dir = fixtures();
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  const m = loadModel(join(dir, 'ir_tiny.pt'), { spec: parseBackboneSpec(expected.spec), device: 'cuda' });
  const [r] = await evaluate(m, [join(dir, 'pairs_tiny.bin')], { batchSize: 32 });
  assert.equal(`${r!.result.accuracy.toFixed(5)}+-${r!.result.std.toFixed(5)}`, expected.bin.printed);
  m.dispose();
});

test('evaluate() of a bare backbone on cuda (as during training) runs where its weights are', { skip }, async () => {
  const dir = fixtures();
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  const m = loadModel(join(dir, 'ir_tiny.pt'), { spec: parseBackboneSpec(expected.spec), device: 'cuda' });
  m.backbone.train();
  const [r] = await evaluate(m.backbone, join(dir, 'pairs_tiny.bin'), { batchSize: 32 });
  assert.equal(m.backbone.training, true);
  assert.equal(`${r!.result.accuracy.toFixed(5)}+-${r!.result.std.toFixed(5)}`, expected.bin.printed);
  m.dispose();
});
