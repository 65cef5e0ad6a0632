/**
 * CUDA tests of the training area (node:test; run on a GPU machine, skipped without CUDA):
 * the fused SGD step on the GPU equals the CPU one, autocast switches matmuls to bf16/fp16,
 * gradient unscaling finds overflow, and a tiny run trains with fp16 loss scaling and bf16.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../../lib/native.js';
import { autocast, autocastState, cuda, randn, scope, tensor } from '../../lib/tensor/index.js';
import { SGD } from '../../lib/train/sgd.js';
import { validateConfig } from '../../lib/train/config.js';
import { ArraySource } from '../helpers/array-source.js';
import { runTraining } from '../../lib/train/trainer.js';
import { TinyBackbone, TinyHead, tinyFaces } from '../train/tiny.js';

const skip = !cuda.isAvailable() && 'CUDA not available';

test('sgdStep on CUDA matches the CPU step', { skip }, () => {
  const init = randn([1000]);
  const g = randn([1000]);
  const run = (device: 'cpu' | 'cuda') =>
    scope(() => {
      const p = init.to(device).requiresGrad_(true);
      const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
      for (let k = 0; k < 3; k++) {
        p.grad = g.to(device).mul(k + 1);
        opt.step();
      }
      opt.dispose();
      return p.detach().cpu();
    });
  const a = run('cpu');
  const b = run('cuda');
  // float32 values up to a few units: a few ulps (CUDA fuses multiply-adds) is ~1e-6 absolute.
  const scale = Math.max(1, a.abs().max().item());
  assert.ok(a.sub(b).abs().max().item() <= 1e-5 * scale);
});

test('autocast makes CUDA matmuls bf16 / fp16, nests, and turns off again', { skip }, () =>
  scope(() => {
    const a = randn([64, 64], { device: 'cuda' });
    const m = autocast('bfloat16', () => {
      assert.equal(autocastState().enabled, true);
      const h = autocast('float16', () => a.matmul(a));
      assert.equal(h.dtype, 'float16');
      return a.matmul(a); // the outer dtype again
    });
    assert.equal(m.dtype, 'bfloat16');
    assert.equal(autocastState().enabled, false);
    assert.equal(a.matmul(a).dtype, 'float32');
  }));

test('unscaleGrads scales and detects inf', { skip }, () =>
  scope(() => {
    const p = tensor([1, 2], { device: 'cuda' }).requiresGrad_(true);
    p.grad = tensor([4, 8], { device: 'cuda' });
    assert.equal(native.unscaleGrads([p.handle], 0.25), false);
    assert.deepEqual(Array.from(p.grad!.cpu().toTypedArray() as Float32Array), [1, 2]);
    p.grad = tensor([Infinity, 1], { device: 'cuda' });
    assert.equal(native.unscaleGrads([p.handle], 1), true);
  }));

for (const precision of ['fp16', 'bf16'] as const) {
  test(`a tiny run trains on CUDA with ${precision}`, { skip }, async () => {
    const data = tinyFaces(4, 12, 16);
    const cfg = validateConfig(
      {
        backbone: 'mobilefacenet',
        imageSize: 16,
        data: { train: { type: 'recordio', path: tmpdir() } },
        batchSize: 8,
        epochs: 3,
        milestones: [2],
        lr: 0.05,
        logEvery: 1,
        device: 'cuda',
        precision,
        outDir: mkdtempSync(join(tmpdir(), 'ecf-cuda-train-')),
        name: precision,
      },
      { cudaAvailable: true },
    );
    const backbone = new TinyBackbone();
    const head = new TinyHead(4);
    const source = new ArraySource({ ...data, size: 16, batchSize: 8, seed: 3 });
    const s = await runTraining(cfg, { backbone, head, source, backboneGroups: () => backbone.groups() }, { handleSigint: false });
    assert.equal(s.steps, 18);
    assert.ok(Number.isFinite(s.finalLoss));
    backbone.dispose();
    head.dispose();
  });
}
