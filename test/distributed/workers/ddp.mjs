// Data parallel (2 ranks × micro-batches of B, gradAccum a) against one process running the same
// W·a micro-batches of B with accumulated gradients (BatchNorm statistics per micro-batch on both
// sides). Prints, on rank 0, the largest relative parameter difference after K SGD steps.
import { DataParallel, init } from '../../../dist/lib/distributed/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../../../dist/lib/nn/index.js';
import { functional as F, manualSeed, noGrad, randint, randn } from '../../../dist/lib/tensor/index.js';

const { group, rank, worldSize: W } = await init({ timeoutMs: 30000 });
const B = 4, K = 3, lr = 0.1;
const makeModel = (seed) => {
  manualSeed(seed);
  return new Sequential(new Conv2d(3, 6, 3, { padding: 1 }), new BatchNorm2d(6), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(6, 5)).to('float64');
};
const batch = (step, a) => {
  manualSeed(1000 + step);
  return { x: randn([W * a * B, 3, 6, 6], { dtype: 'float64' }), y: randint(0, 5, [W * a * B], { dtype: 'int64' }) };
};
const sgd = (model) =>
  noGrad(() => {
    for (const p of model.parameters()) {
      p.add_(p.grad.mul(-lr));
    }
    model.zeroGrad();
  });
const flat = (model) => model.parameters().flatMap((p) => p.double().reshape([-1]).toArray());

const out = { rank, cases: {} };
for (const a of [1, 2]) {
  // Rank 1 starts from different weights: the broadcast must replace them with rank 0's.
  const model = makeModel(1 + rank);
  const dp = await DataParallel.create(model, group, { bucketCapMB: 0.0004 });
  for (let step = 0; step < K; step++) {
    const { x, y } = batch(step, a);
    for (let m = 0; m < a; m++) {
      const rows = (rank * a + m) * B;
      dp.beforeBackward(m === a - 1);
      const loss = F.crossEntropy(model.forward(x.narrow(0, rows, B)), y.narrow(0, rows, B)).mul(1 / a);
      loss.backward();
      dp.afterBackward();
    }
    sgd(model);
  }
  const buckets = dp.stats().bucketNumel.length;
  dp.dispose();
  if (rank === 0) {
    const refModel = makeModel(1);
    for (let step = 0; step < K; step++) {
      const { x, y } = batch(step, a);
      for (let j = 0; j < W * a; j++) {
        F.crossEntropy(refModel.forward(x.narrow(0, j * B, B)), y.narrow(0, j * B, B)).mul(1 / (W * a)).backward();
      }
      sgd(refModel);
    }
    const p = flat(model), q = flat(refModel);
    let scale = 1e-12, m = 0;
    for (let i = 0; i < q.length; i++) scale = Math.max(scale, Math.abs(q[i]));
    for (let i = 0; i < q.length; i++) m = Math.max(m, Math.abs(p[i] - q[i]));
    out.cases[`accum${a}`] = { maxRel: m / scale, buckets, params: p.length };
  }
  const mine = flat(model);
  out.cases[`accum${a}`] = { ...(out.cases[`accum${a}`] ?? {}), checksum: mine.reduce((s, v) => s + v, 0) };
}
group.destroy();
console.log(JSON.stringify(out));
