/**
 * CUDA smoke tests of the tensor layer (node:test; run by scripts/gpu-check.sh on a GPU machine,
 * skipped where CUDA is unavailable).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cuda, memory, randn, scope, zeros } from '../../lib/tensor/index.js';

const skip = !cuda.isAvailable() && 'CUDA not available';

test('tensors move to the GPU and back with the same values', { skip }, () =>
  scope(() => {
    const a = randn([64, 33], { dtype: 'float64' });
    const g = a.to('cuda');
    assert.equal(g.device, 'cuda:0');
    const back = g.mul(2).cpu();
    const ref = a.mul(2);
    assert.equal(back.sub(ref).abs().max().item(), 0);
  }));

test('matmul on the GPU matches the CPU within float32 tolerance', { skip }, () =>
  scope(() => {
    const a = randn([256, 128]);
    const b = randn([128, 64]);
    const ref = a.matmul(b);
    const got = a.cuda().matmul(b.cuda()).cpu();
    const rel = got.sub(ref).abs().max().item() / ref.abs().max().item();
    assert.ok(rel < 1e-3, `relative error ${rel}`);
  }));

test('CUDA memory is released by dispose', { skip }, () => {
  const before = memory().cudaBytes;
  const t = zeros([1024, 1024], { device: 'cuda' });
  assert.equal(memory().cudaBytes, before + 4 * 1024 * 1024);
  t.dispose();
  assert.equal(memory().cudaBytes, before);
  cuda.synchronize();
});
