// The sharded head (this rank's shard, its slice of the batch) against the unsharded fused head
// on the whole batch, computed here in float64: loss, t, embedding and kernel gradients, over
// three training steps (kernels updated by SGD on both sides, so t and the weights evolve).
import { init, ShardedMarginHead } from '../../../dist/lib/distributed/index.js';
import { create } from '../../../dist/lib/heads/index.js';
import { manualSeed, noGrad, randn, randint, tensor } from '../../../dist/lib/tensor/index.js';

const { group, rank, worldSize: W } = await init({ timeoutMs: 30000 });
const B = 6, D = 8, C = 11, steps = 3, lr = 0.5;
const rel = (a, b) => {
  const x = a.double().reshape([-1]).toArray(), y = b.double().reshape([-1]).toArray();
  let s = 1e-12, m = 0;
  for (let i = 0; i < y.length; i++) s = Math.max(s, Math.abs(y[i]));
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m / s;
};
const out = { rank, heads: {} };
for (const type of ['curricularface', 'arcface', 'cosface']) {
  manualSeed(7);
  const ref = create({ type, numClasses: C, embeddingSize: D }).to('float64');
  const sh = new ShardedMarginHead({ group, head: { type, numClasses: C, embeddingSize: D }, embeddingGradScale: 1 }).to('float64');
  noGrad(() => sh.kernel.copy_(ref.kernel.narrow(1, sh.classStart, sh.numLocal)));
  const r = { loss: 0, t: 0, gradX: 0, gradW: 0, tValues: [] };
  for (let step = 0; step < steps; step++) {
    manualSeed(100 + step);
    const X = randn([W * B, D], { dtype: 'float64' });
    const y = randint(0, C, [W * B], { dtype: 'int64' });
    const Xr = X.clone().requiresGrad_(true);
    const o1 = ref.forward(Xr, y);
    o1.loss.backward();
    const Xs = X.narrow(0, rank * B, B).clone().requiresGrad_(true);
    const o2 = sh.forward(Xs, y.narrow(0, rank * B, B));
    o2.loss.backward();
    r.loss = Math.max(r.loss, Math.abs(o2.loss.item() - o1.loss.item()) / Math.abs(o1.loss.item()));
    if (type === 'curricularface') {
      r.t = Math.max(r.t, Math.abs(sh.shard.t.item() - ref.t.item()) / Math.max(1e-12, Math.abs(ref.t.item())));
      r.tValues.push([ref.t.item(), sh.shard.t.item(), o2.stats.t]);
    }
    r.gradX = Math.max(r.gradX, rel(Xs.grad, Xr.grad.narrow(0, rank * B, B)));
    r.gradW = Math.max(r.gradW, rel(sh.kernel.grad, ref.kernel.grad.narrow(1, sh.classStart, sh.numLocal)));
    r.positiveCosine = Math.abs(o2.stats.positiveCosine - o1.stats.positiveCosine);
    noGrad(() => {
      ref.kernel.add_(ref.kernel.grad.mul(-lr));
      sh.kernel.add_(sh.kernel.grad.mul(-lr));
    });
    ref.zeroGrad();
    sh.zeroGrad();
  }
  out.heads[type] = r;
}

// sampleRate: the loss equals the unsharded head's on the sampled columns (found from which
// kernel columns received a gradient), with the labels renumbered.
{
  manualSeed(9);
  const Cs = 40;
  const ref = create({ type: 'arcface', numClasses: Cs, embeddingSize: D }).to('float64');
  const sh = new ShardedMarginHead({ group, head: { type: 'arcface', numClasses: Cs, embeddingSize: D }, sampleRate: 0.25, embeddingGradScale: 1 }).to('float64');
  noGrad(() => sh.kernel.copy_(ref.kernel.narrow(1, sh.classStart, sh.numLocal)));
  const X = randn([W * B, D], { dtype: 'float64' });
  const y = randint(0, Cs, [W * B], { dtype: 'int64' });
  const o2 = sh.forward(X.narrow(0, rank * B, B).clone(), y.narrow(0, rank * B, B));
  o2.loss.backward();
  const used = sh.kernel.grad.abs().sum(0).gt(0).long();
  const all = (await group.allGather(used)).flatMap((t) => t.toArray());
  const cols = all.flatMap((u, j) => (u ? [j] : []));
  const ys = y.toArray();
  const refSub = create({ type: 'arcface', numClasses: cols.length, embeddingSize: D }).to('float64');
  noGrad(() => refSub.kernel.copy_(ref.kernel.indexSelect(1, tensor(cols, { dtype: 'int64' }))));
  const o3 = refSub.forward(X, tensor(ys.map((l) => cols.indexOf(l)), { dtype: 'int64' }));
  out.sample = {
    columns: cols.length,
    positivesKept: ys.every((l) => cols.includes(l)),
    lossRel: Math.abs(o2.loss.item() - o3.loss.item()) / Math.abs(o3.loss.item()),
  };
}
group.destroy();
console.log(JSON.stringify(out));
