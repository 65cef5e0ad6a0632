/**
 * CUDA tests of the nn modules and backbones (node:test; run by scripts/gpu-check.sh on a GPU
 * machine, skipped where CUDA is unavailable): Module.to('cuda') moves every parameter and buffer,
 * and a backbone gives the same embeddings on the GPU as on the CPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cuda, manualSeed, noGrad, randn, scope } from '../../lib/tensor/index.js';
import { backbone } from '../../lib/models/index.js';
import { ATTENTION_KINDS } from '../../lib/nn/index.js';

const skip = !cuda.isAvailable() && 'CUDA not available';

test('Module.to("cuda") moves parameters and buffers; int64 counters stay int64', { skip }, () => {
  const m = backbone({ arch: 'mobilefacenet', attention: 'esca' });
  m.to('cuda');
  for (const [n, t] of m.stateDict()) assert.ok(t.isCuda, `${n} on ${t.device}`);
  assert.equal(m.stateDict().get('bn.num_batches_tracked')!.dtype, 'int64');
  m.dispose();
});

test('every attention kind in MobileFaceNet: GPU embeddings equal CPU ones (eval, float32)', { skip }, () => {
  manualSeed(0);
  for (const att of ATTENTION_KINDS) {
    const m = backbone({ arch: 'mobilefacenet', attention: att });
    scope(() => {
      // one training step on the CPU so the BN running statistics are not trivial
      m.forward(randn([4, 3, 112, 112])).sum().backward();
      m.eval();
      const x = randn([3, 3, 112, 112]);
      const ref = noGrad(() => m.forward(x));
      m.to('cuda');
      const got = noGrad(() => m.forward(x.cuda())).cpu();
      const rel = got.sub(ref).abs().max().item() / ref.abs().max().item();
      assert.ok(rel < 1e-3, `${att}: relative error ${rel}`);
    });
    m.dispose();
  }
});

test('IR_50 + ESCA trains on the GPU: forward+backward, gradients everywhere, batch 8', { skip }, () => {
  const m = backbone({ arch: 'ir50', attention: 'esca' }).to('cuda');
  scope(() => {
    const y = m.forward(randn([8, 3, 112, 112], { device: 'cuda' }));
    assert.deepEqual(y.shape, [8, 512]);
    y.square().mean().backward();
    const missing = m.namedParameters().filter(([, p]) => p.grad === null).map(([n]) => n);
    assert.deepEqual(missing, []);
  });
  cuda.synchronize();
  m.dispose();
});
