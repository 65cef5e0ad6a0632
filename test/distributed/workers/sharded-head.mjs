// The sharded head (this rank's shard, its slice of the batch), fused (the op's sharded form) and
// composed (ATen ops), against the unsharded fused head on the whole batch, computed here, in
// float64: loss, t, stats, embedding and kernel gradients, over three training steps (kernels
// updated by SGD on every side, so t and the weights evolve). Then sampleRate < 1.
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
const relNum = (a, b) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
const sharded = (type, impl, extra = {}) =>
  new ShardedMarginHead({ group, head: { type, numClasses: extra.numClasses ?? C, embeddingSize: D, impl }, embeddingGradScale: 1, ...extra.options }).to('float64');

const out = { rank, heads: {}, sample: {} };
for (const type of ['curricularface', 'arcface', 'cosface', 'mv-arcface']) {
  manualSeed(7);
  const ref = create({ type, numClasses: C, embeddingSize: D }).to('float64');
  const sides = { fused: sharded(type, undefined), composed: sharded(type, 'composed') };
  for (const sh of Object.values(sides)) noGrad(() => sh.kernel.copy_(ref.kernel.narrow(1, sh.classStart, sh.numLocal)));
  const r = { impl: sides.fused.impl, fused: {}, composed: {}, fusedVsComposed: { loss: 0, gradX: 0, gradW: 0 }, tValues: [] };
  for (const k of ['fused', 'composed']) Object.assign(r[k], { loss: 0, t: 0, gradX: 0, gradW: 0, stats: 0 });
  for (let step = 0; step < steps; step++) {
    manualSeed(100 + step);
    const X = randn([W * B, D], { dtype: 'float64' });
    const y = randint(0, C, [W * B], { dtype: 'int64' });
    const Xr = X.clone().requiresGrad_(true);
    const o1 = ref.forward(Xr, y);
    o1.loss.backward();
    const got = {};
    for (const [k, sh] of Object.entries(sides)) {
      const Xs = X.narrow(0, rank * B, B).clone().requiresGrad_(true);
      const o2 = sh.forward(Xs, y.narrow(0, rank * B, B));
      o2.loss.backward();
      got[k] = { Xs, o2 };
      const e = r[k];
      e.loss = Math.max(e.loss, relNum(o2.loss.item(), o1.loss.item()));
      if (type === 'curricularface') e.t = Math.max(e.t, relNum(sh.shard.t.item(), ref.t.item()));
      e.gradX = Math.max(e.gradX, rel(Xs.grad, Xr.grad.narrow(0, rank * B, B)));
      e.gradW = Math.max(e.gradW, rel(sh.kernel.grad, ref.kernel.grad.narrow(1, sh.classStart, sh.numLocal)));
      for (const s of ['positiveCosine', 'top1', 'hardFraction', 't']) {
        if (o1.stats[s] !== undefined) e.stats = Math.max(e.stats, Math.abs(o2.stats[s] - o1.stats[s]));
      }
    }
    const f = r.fusedVsComposed;
    f.loss = Math.max(f.loss, relNum(got.fused.o2.loss.item(), got.composed.o2.loss.item()));
    f.gradX = Math.max(f.gradX, rel(got.fused.Xs.grad, got.composed.Xs.grad));
    f.gradW = Math.max(f.gradW, rel(sides.fused.kernel.grad, sides.composed.kernel.grad));
    if (type === 'curricularface') r.tValues.push([ref.t.item(), sides.fused.shard.t.item(), got.fused.o2.stats.t]);
    noGrad(() => {
      ref.kernel.add_(ref.kernel.grad.mul(-lr));
      for (const sh of Object.values(sides)) sh.kernel.add_(sh.kernel.grad.mul(-lr));
    });
    ref.zeroGrad();
    for (const sh of Object.values(sides)) sh.zeroGrad();
  }
  out.heads[type] = r;
}

// sampleRate 0.25: the loss and gradients equal the unsharded head's on the sampled columns (found
// from which kernel columns received a gradient), with the labels renumbered; fused = composed
// (the same seed picks the same columns).
for (const type of ['arcface', 'curricularface']) {
  manualSeed(9);
  const Cs = 40;
  const ref = create({ type, numClasses: Cs, embeddingSize: D }).to('float64');
  const X = randn([W * B, D], { dtype: 'float64' });
  const y = randint(0, Cs, [W * B], { dtype: 'int64' });
  const runs = {};
  for (const impl of ['fused', 'composed']) {
    const sh = sharded(type, impl, { numClasses: Cs, options: { sampleRate: 0.25 } });
    noGrad(() => sh.kernel.copy_(ref.kernel.narrow(1, sh.classStart, sh.numLocal)));
    const Xs = X.narrow(0, rank * B, B).clone().requiresGrad_(true);
    manualSeed(1000 + rank);
    const o2 = sh.forward(Xs, y.narrow(0, rank * B, B));
    o2.loss.backward();
    runs[impl] = { sh, Xs, o2 };
  }
  const { sh, Xs, o2 } = runs.fused;
  const used = sh.kernel.grad.abs().sum(0).gt(0).long();
  const all = (await group.allGather(used)).flatMap((t) => t.toArray());
  const cols = all.flatMap((u, j) => (u ? [j] : []));
  const ys = y.toArray();
  const refSub = create({ type, numClasses: cols.length, embeddingSize: D }).to('float64');
  noGrad(() => refSub.kernel.copy_(ref.kernel.indexSelect(1, tensor(cols, { dtype: 'int64' }))));
  const Xr = X.clone().requiresGrad_(true);
  const o3 = refSub.forward(Xr, tensor(ys.map((l) => cols.indexOf(l)), { dtype: 'int64' }));
  o3.loss.backward();
  const mine = cols.flatMap((j, k) => (j >= sh.classStart && j < sh.classStart + sh.numLocal ? [[j - sh.classStart, k]] : []));
  const local = tensor(mine.map(([j]) => j), { dtype: 'int64' });
  const inRef = tensor(mine.map(([, k]) => k), { dtype: 'int64' });
  out.sample[type] = {
    columns: cols.length,
    positivesKept: ys.every((l) => cols.includes(l)),
    lossRel: relNum(o2.loss.item(), o3.loss.item()),
    gradX: rel(Xs.grad, Xr.grad.narrow(0, rank * B, B)),
    gradW: rel(sh.kernel.grad.indexSelect(1, local), refSub.kernel.grad.indexSelect(1, inRef)),
    t: type === 'curricularface' ? relNum(sh.shard.t.item(), refSub.t.item()) : 0,
    fusedVsComposed: {
      loss: relNum(o2.loss.item(), runs.composed.o2.loss.item()),
      gradX: rel(Xs.grad, runs.composed.Xs.grad),
      gradW: rel(sh.kernel.grad, runs.composed.sh.kernel.grad),
    },
  };
}
group.destroy();
console.log(JSON.stringify(out));
