/**
 * CUDA tests of the fused margin op (node:test; run by scripts/gpu-check.sh on a GPU machine,
 * skipped where CUDA is unavailable): CUDA float32 / float16 / bfloat16 / float64 against the CPU
 * float64 op on the same (rounded) inputs, with the CUDA caching allocator and the per-row
 * outputs poisoned with NaN beforehand so that an entry a kernel forgot to write shows up. The
 * sharded form (marginLossShard, two column shards combined here) against the same CPU reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cat, cuda, full, manualSeed, randint, randn, scope, stack, tensor, where, type DType, type Tensor } from '../../lib/index.js';
import { marginLoss, marginLossShard, normalizeEmbeddings, type MarginLossOptions } from '../../lib/ops/margin.js';

// ECF_MARGIN_TEST_DEVICE=cpu runs the float32/float64 cases on the CPU (a self-check of this file).
const DEV = (process.env.ECF_MARGIN_TEST_DEVICE ?? 'cuda') as 'cpu' | 'cuda';
const skip = DEV === 'cuda' && !cuda.isAvailable() && 'CUDA not available';

const B = 64;
const D = 128;
const C = 1000;

/** Embeddings whose target cosine sits in [0.2, 0.6] (away from 0 and cos(π − m)), plus one row near −w_y. */
function inputs(): { x: Tensor; W: Tensor; y: Tensor } {
  manualSeed(123);
  const W = randn([D, C], { dtype: 'float64' }).mul(0.01);
  const labels = randint(0, C, [B]).toArray() as number[];
  labels[0] = 0;
  labels[1] = C - 1;
  const y = tensor(labels, { dtype: 'int64' });
  const wy = W.t().indexSelect(0, y); // [B, D]
  const wyHat = wy.div(wy.norm(2, 1, true));
  const noise = randn([B, D], { dtype: 'float64' });
  const nHat = noise.div(noise.norm(2, 1, true));
  const alpha = tensor(Array.from({ length: B }, (_, i) => (i === 2 ? -0.97 : 0.2 + (0.4 * i) / B)), { dtype: 'float64' }).unsqueeze(1);
  const x = wyHat.mul(alpha).add(nHat.mul(alpha.square().rsub(1).sqrt())).mul(3);
  return { x, W, y };
}

interface Out {
  loss: number;
  gx: Tensor;
  gw: Tensor;
  stats: number[];
  t: number | null;
}

function run(x0: Tensor, W0: Tensor, y: Tensor, o: MarginLossOptions, device: 'cpu' | 'cuda', dtype: DType, poison = false): Out {
  const x = x0.to({ device, dtype }).detach().requiresGrad_();
  const W = W0.to({ device, dtype }).detach().requiresGrad_();
  const t = o.negative === 'curricular' ? tensor([0.1], { device, dtype: dtype === 'float64' ? 'float64' : 'float32' }) : null;
  if (poison && device === 'cuda') {
    // Poison the caching allocator: freed NaN blocks are what the op's buffers get next.
    for (const n of [B * 8, B * C, D * C, B * D, 4 * B * C]) full([n], Number.NaN, { device: 'cuda', dtype }).dispose();
  }
  if (poison) process.env.ECF_POISON_OUTPUTS = '1'; // the ops' one switch: NaN-fill outputs before the kernels
  let r: ReturnType<typeof marginLoss>;
  try {
    r = marginLoss(x, W, y.to(device), { ...o, t });
  } finally {
    delete process.env.ECF_POISON_OUTPUTS;
  }
  r.loss.backward();
  const s = r.stats;
  return {
    loss: r.loss.item(),
    gx: x.grad!.to({ device: 'cpu', dtype: 'float64' }),
    gw: W.grad!.to({ device: 'cpu', dtype: 'float64' }),
    stats: [s.positiveCosine, s.t, s.hardFraction, s.top1],
    t: t ? t.item() : null,
  };
}

/** The kernel in two column shards, each through marginLossShard on `device`, combined as the sharded head does. */
function runShards(x0: Tensor, W0: Tensor, y: Tensor, o: MarginLossOptions, device: 'cpu' | 'cuda', dtype: DType): Out {
  const acc = dtype === 'float64' ? 'float64' : 'float32';
  const x = x0.to({ device, dtype }).detach().requiresGrad_();
  const xhat = normalizeEmbeddings(x);
  // the targets' cosines as the owners provide them (float64 on the CPU here)
  const wy = W0.t().indexSelect(0, y);
  const cy = x0.mul(wy).sum(1).div(x0.norm(2, 1).mul(wy.norm(2, 1))).to({ device, dtype: acc });
  const half = W0.size(1) / 2;
  const ts: Tensor[] = [];
  const yd = y.to(device);
  const shards = [0, 1].map((k) => {
    const Wk = W0.narrow(1, k * half, half).to({ device, dtype }).detach().requiresGrad_();
    const mine = yd.ge(k * half).logicalAnd(yd.lt((k + 1) * half));
    const labels = where(mine, yd.sub(k * half), full([y.size(0)], -1, { device, dtype: 'int64' }));
    const t = o.negative === 'curricular' ? tensor([0.1], { device, dtype: acc }) : null;
    if (t) ts.push(t);
    process.env.ECF_POISON_OUTPUTS = '1';
    try {
      return { Wk, r: marginLossShard(xhat, Wk, labels, cy, { ...o, t }) };
    } finally {
      delete process.env.ECF_POISON_OUTPUTS;
    }
  });
  const lse = stack(shards.map((sh) => sh.r.lse)).logsumexp(0);
  // each rank's loss subtracts its own target: the value once, the gradient from every shard
  const loss = lse.mean().sub(shards[0]!.r.target.mean()).sub(shards[1]!.r.target.mean()).add(shards[0]!.r.target.mean().detach());
  loss.backward();
  const B = y.size(0);
  const hard = shards.reduce((a, sh) => a + sh.r.hard.sum().item(), 0);
  const cmax = stack(shards.map((sh) => sh.r.maxCosine)).max(0);
  const cyc = cy.clamp(-1, 1);
  const tUsed = ts[0] ? ts[0].item() : o.negative === 'mv' ? (o.mvT ?? 0.2) : 0;
  return {
    loss: loss.item(),
    gx: x.grad!.to({ device: 'cpu', dtype: 'float64' }),
    gw: cat(shards.map((sh) => sh.Wk.grad!), 1).to({ device: 'cpu', dtype: 'float64' }),
    stats: [cyc.mean().item(), tUsed, o.negative === 'plain' ? 0 : hard / (B * (W0.size(1) - 1)), cyc.ge(cmax).double().mean().item()],
    t: ts[0] ? ts[0].item() : null,
  };
}

function relErr(a: Tensor, b: Tensor): number {
  return a.sub(b).abs().max().item() / Math.max(b.abs().max().item(), 1e-30);
}

const CONFIGS: [string, MarginLossOptions][] = [
  ['CurricularFace', { target: 'thresh', negative: 'curricular', s: 64, m: 0.5, training: true, tNewWeight: 0.01 }],
  ['CurricularFace paper rule', { target: 'plain', negative: 'curricular', s: 64, m: 0.5, training: true, tNewWeight: 0.99, tStatistic: 'cos_m' }],
  ['ArcFace', { target: 'thresh', negative: 'plain', s: 64, m: 0.5 }],
  ['CosFace', { target: 'cosface', negative: 'plain', s: 64, m: 0.35 }],
  ['MV-Arc', { target: 'easy', negative: 'mv', s: 64, m: 0.5, mvT: 0.2 }],
];
const TOL: Record<string, { loss: number; grad: number; stat: number }> = {
  float64: { loss: 1e-12, grad: 1e-10, stat: 1e-12 },
  float32: { loss: 1e-5, grad: 1e-4, stat: 1e-5 },
  float16: { loss: 5e-3, grad: 3e-2, stat: 5e-3 },
  bfloat16: { loss: 3e-2, grad: 1e-1, stat: 3e-2 },
};

for (const [name, o] of CONFIGS) {
  for (const dtype of ['float64', 'float32', 'float16', 'bfloat16'] as const) {
    const low = dtype === 'float16' || dtype === 'bfloat16';
    test(`${name} ${dtype}: CUDA matches the CPU float64 op on the same rounded inputs`, { skip: skip || (DEV === 'cpu' && low && 'half precision is CUDA-only') }, () =>
      scope(() => {
        const { x, W, y } = inputs();
        // the CPU reference sees exactly the values the GPU sees
        const xr = x.to(dtype).double();
        const Wr = W.to(dtype).double();
        const ref = run(xr, Wr, y, o, 'cpu', 'float64');
        const got = run(xr, Wr, y, o, DEV, dtype, true);
        const tol = TOL[dtype]!;
        assert.ok(Number.isFinite(got.loss), `loss ${got.loss}`);
        assert.ok(Math.abs(got.loss - ref.loss) / ref.loss < tol.loss, `loss ${got.loss} vs ${ref.loss}`);
        assert.ok(got.gx.isfinite().all().item(), 'dL/dx has non-finite entries');
        assert.ok(got.gw.isfinite().all().item(), 'dL/dW has non-finite entries');
        const ex = relErr(got.gx, ref.gx);
        const ew = relErr(got.gw, ref.gw);
        assert.ok(ex < tol.grad, `dL/dx relative error ${ex}`);
        assert.ok(ew < tol.grad, `dL/dW relative error ${ew}`);
        got.stats.forEach((v, i) => assert.ok(Math.abs(v - ref.stats[i]!) < tol.stat * Math.max(1, Math.abs(ref.stats[i]!)), `stat ${i}: ${v} vs ${ref.stats[i]}`));
        if (ref.t !== null) assert.ok(Math.abs(got.t! - ref.t) < tol.stat, `t ${got.t} vs ${ref.t}`);
      }));
  }
}

for (const [name, o] of CONFIGS) {
  for (const dtype of ['float64', 'float32', 'float16', 'bfloat16'] as const) {
    const low = dtype === 'float16' || dtype === 'bfloat16';
    test(`${name} ${dtype}, sharded form (2 column shards): matches the CPU float64 unsharded op`, { skip: skip || (DEV === 'cpu' && low && 'half precision is CUDA-only') }, () =>
      scope(() => {
        const { x, W, y } = inputs();
        const xr = x.to(dtype).double();
        const Wr = W.to(dtype).double();
        const ref = run(xr, Wr, y, o, 'cpu', 'float64');
        const got = runShards(xr, Wr, y, o, DEV, dtype);
        const tol = TOL[dtype]!;
        assert.ok(Math.abs(got.loss - ref.loss) / ref.loss < tol.loss, `loss ${got.loss} vs ${ref.loss}`);
        assert.ok(got.gx.isfinite().all().item() && got.gw.isfinite().all().item(), 'non-finite gradients');
        const ex = relErr(got.gx, ref.gx);
        const ew = relErr(got.gw, ref.gw);
        assert.ok(ex < tol.grad, `dL/dx relative error ${ex}`);
        assert.ok(ew < tol.grad, `dL/dW relative error ${ew}`);
        got.stats.forEach((v, i) => assert.ok(Math.abs(v - ref.stats[i]!) < tol.stat * Math.max(1, Math.abs(ref.stats[i]!)), `stat ${i}: ${v} vs ${ref.stats[i]}`));
        if (ref.t !== null) assert.ok(Math.abs(got.t! - ref.t) < tol.stat, `t ${got.t} vs ${ref.t}`);
      }));
  }
}

test('cos exactly ±1 and a zero embedding stay finite on CUDA (float16)', { skip: skip || (DEV === 'cpu' && 'CUDA-only') }, () =>
  scope(() => {
    const { x, W, y } = inputs();
    const wy = W.t().indexSelect(0, y);
    const rows = x.clone();
    rows.select(0, 0).copy_(wy.select(0, 0).mul(10));
    rows.select(0, 1).copy_(wy.select(0, 1).mul(-10));
    rows.select(0, 3).zero_();
    const got = run(rows, W, y, CONFIGS[0]![1], 'cuda', 'float16', true);
    assert.ok(Number.isFinite(got.loss));
    assert.ok(got.gw.isfinite().all().item());
  }));
