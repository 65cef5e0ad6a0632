/**
 * CUDA graphs and the allocator's peak (issue 16), on a GPU machine (node:test; skipped where
 * CUDA is unavailable): a captured computation replays on new inputs copied into its static
 * input; a captured train step (forward, loss, backward, SGD) gives the same parameters as the
 * same steps run eagerly; memory()'s peak covers what ran since the last reset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cuda, CudaGraph, manualSeed, memory, randn, scope, zeros, type Tensor } from '../../lib/tensor/index.js';
import { Linear } from '../../lib/nn/index.js';
import { SGD } from '../../lib/train/sgd.js';
import { GraphedTrainStep } from '../../bench/graphed-step.js';

const skip = !cuda.isAvailable() && 'CUDA not available';

test('a captured computation replays on the values copied into its static input', { skip }, () =>
  scope(() => {
    const x = zeros([256, 64], { device: 'cuda' });
    const w = randn([64, 32], { device: 'cuda' });
    let y: Tensor | null = null;
    // warm up (cuBLAS handles) before the capture
    x.matmul(w).relu();
    cuda.synchronize();
    using g = CudaGraph.capture(() => {
      y = x.matmul(w).relu();
    });
    for (let i = 0; i < 3; i++) {
      const v = randn([256, 64], { device: 'cuda' });
      x.copy_(v);
      g.replay();
      const ref = v.matmul(w).relu();
      assert.ok(y!.sub(ref).abs().max().item() < 1e-3);
    }
  }));

test('a graphed train step equals the same steps run eagerly', { skip }, () =>
  scope(() => {
    const run = (graphed: boolean): number[] => {
      manualSeed(1);
      const model = new Linear(32, 8).to('cuda');
      const opt = new SGD([{ params: model.parameters(), weightDecay: 0 }], { lr: 0.05, momentum: 0.9 });
      const x = zeros([64, 32], { device: 'cuda' });
      const t = zeros([64, 8], { device: 'cuda' });
      const step = (): Tensor => {
        const loss = model.forward(x).sub(t).pow(2).mean();
        loss.backward();
        opt.step();
        return loss;
      };
      const data = Array.from({ length: 8 }, (_, i) => {
        manualSeed(100 + i);
        return [randn([64, 32], { device: 'cuda' }), randn([64, 8], { device: 'cuda' })] as [Tensor, Tensor];
      });
      const losses: number[] = [];
      if (graphed) {
        // the warm-up steps train too: feed them the first batches
        x.copy_(data[0]![0]);
        t.copy_(data[0]![1]);
        using gs = GraphedTrainStep.create({ inputs: [x, t], step, zeroGrad: () => opt.zeroGrad(), warmup: 1 });
        for (const [a, b] of data.slice(1)) losses.push(gs.run([a, b]).item());
      } else {
        for (const [i, [a, b]] of data.entries()) {
          x.copy_(a);
          t.copy_(b);
          const l = scope(() => step().item());
          opt.zeroGrad();
          if (i > 0) losses.push(l);
        }
      }
      const w = model.parameters()[0]!.flatten().cpu().toTypedArray() as Float32Array;
      opt.dispose();
      model.dispose();
      return [...losses, ...w.slice(0, 16)];
    };
    const eager = run(false);
    const graphed = run(true);
    eager.forEach((v, i) => assert.ok(Math.abs(v - graphed[i]!) <= 1e-4 * Math.max(1, Math.abs(v)), `${i}: ${v} vs ${graphed[i]}`));
  }));

test('memory(): the CUDA allocator peak covers what ran since the last reset', { skip }, () => {
  cuda.synchronize();
  const base = memory({ resetPeak: true }).cudaAllocator;
  const big = zeros([64, 1024, 1024], { device: 'cuda' }); // 256 MiB
  big.dispose();
  const after = memory({ resetPeak: true }).cudaAllocator;
  assert.ok(after.peakAllocatedBytes >= base.allocatedBytes + 256 * 1024 * 1024, JSON.stringify({ base, after }));
  const again = memory().cudaAllocator;
  assert.ok(again.peakAllocatedBytes < base.allocatedBytes + 256 * 1024 * 1024, JSON.stringify({ base, again }));
  assert.ok(again.reservedBytes >= again.allocatedBytes);
});
