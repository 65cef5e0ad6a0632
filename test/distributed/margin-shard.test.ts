// The fused margin op's sharded form (marginLossShard), in one process: the kernel split into K
// column shards (K = 1: the whole kernel), each shard's op called as its rank would, the shards'
// logsumexps combined here, against the float64 spec reference of the unsharded head
// (test/heads/reference.ts): loss, dL/dx, dL/dW, t, hard fraction and top-1.
import { describe, expect, it } from 'vitest';
import { cat, scope, stack, tensor, type DType } from '../../lib/index.js';
import { marginLoss, marginLossShard, normalizeEmbeddings } from '../../lib/ops/margin.js';
import { marginRef, type RefConfig } from '../heads/reference.js';
import { CONFIGS, expectClose, makeBatch, nested, opOptions, toT, type Batch } from '../ops/margin-fixtures.js';
import { shardRange } from '../../lib/distributed/sharded-head.js';

interface ShardRun {
  loss: number;
  gx: number[][];
  gw: number[][];
  /** t after the call, per shard (each shard holds its own buffer, as each rank does). */
  tAfter: number[];
  hardFraction: number;
  top1: number;
  /** max |target_k − target_0| over shards (every shard computes s·f(c_y) for every row). */
  targetSpread: number;
}

/** Each row's target cosine x̂·w_y/‖w_y‖ (unclamped), as the owning shard provides it. */
function targetCosines(b: Batch): number[] {
  return b.labels.map((y, i) => {
    const w = b.W.map((r) => r[y]!);
    const x = b.x[i]!;
    return x.reduce((a, e, d) => a + e * w[d]!, 0) / Math.max(Math.hypot(...x), 1e-12) / Math.max(Math.hypot(...w), 1e-12);
  });
}

function runShards(b: Batch, cfg: RefConfig, K: number, dtype: DType): ShardRun {
  return scope(() => {
    const C = b.W[0]!.length;
    const B = b.x.length;
    const x = toT(b.x, dtype, true);
    const W = toT(b.W, dtype);
    const xhat = normalizeEmbeddings(x);
    const cy = tensor(targetCosines(b), { dtype: dtype === 'float64' ? 'float64' : 'float32' });
    const shards = Array.from({ length: K }, (_, k) => {
      const { start, count } = shardRange(C, K, k);
      const Wk = W.narrow(1, start, count).clone().requiresGrad_(true);
      const labels = tensor(b.labels.map((y) => (y >= start && y < start + count ? y - start : -1)), { dtype: 'int64' });
      const t = cfg.negative === 'curricular' ? tensor([cfg.t], { dtype }) : null;
      return { Wk, t, r: marginLossShard(xhat, Wk, labels, cy, opOptions(cfg, t)) };
    });
    const lse = stack(shards.map((s) => s.r.lse)).logsumexp(0);
    // Each rank's loss is mean(lse − its own target), whose gradient reaches only the columns it
    // owns; in one process: Σ_k target_k for the gradient, the value of one of them.
    let loss = lse.mean();
    for (const s of shards) loss = loss.sub(s.r.target.mean());
    loss = loss.add(shards[0]!.r.target.mean().detach().mul(K - 1));
    loss.backward();
    const hard = shards.reduce((a, s) => a + s.r.hard.sum().item(), 0);
    const cmax = stack(shards.map((s) => s.r.maxCosine)).max(0);
    const t0 = shards[0]!.r.target;
    return {
      loss: loss.item(),
      gx: nested(x.grad!),
      gw: nested(cat(shards.map((s) => s.Wk.grad!), 1)),
      tAfter: shards.map((s) => (s.t ? s.t.item() : Number.NaN)),
      hardFraction: C > 1 ? hard / (B * (C - 1)) : 0,
      top1: cy.clamp(-1, 1).ge(cmax).double().mean().item(),
      targetSpread: Math.max(...shards.map((s) => s.r.target.sub(t0).abs().max().item())),
    };
  });
}

describe('marginLossShard (one process, K column shards) vs the float64 spec reference', () => {
  for (const [name, cfg] of CONFIGS) {
    for (const K of [1, 3]) {
      it(`${name}, ${K === 1 ? 'one shard = the whole kernel' : `${K} shards`}: loss, dL/dx, dL/dW, t, stats`, () => {
        const batch = makeBatch(7, 6, 8, 13, false);
        const ref = marginRef(batch.x, batch.W, batch.labels, cfg);
        const got = runShards(batch, cfg, K, 'float64');
        expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(1e-12);
        expectClose(got.gx, ref.gx, 1e-10, 'dL/dx');
        expectClose(got.gw, ref.gw, 1e-10, 'dL/dW');
        expect(got.hardFraction).toBeCloseTo(ref.hardFraction, 12);
        expect(got.top1).toBeCloseTo(ref.top1, 12);
        expect(got.targetSpread).toBe(0);
        if (cfg.negative === 'curricular') for (const t of got.tAfter) expect(t).toBeCloseTo(ref.t, 14);
        if (cfg.negative !== 'plain') expect(got.hardFraction).toBeGreaterThan(0.2);
      });
    }
  }

  it('float32 (vectorised CPU path with tails, 3 shards of 334–335 columns) matches the unsharded fused op', () => {
    const batch = makeBatch(41, 33, 32, 1003, false);
    const cfg: RefConfig = { target: 'thresh', negative: 'curricular', s: 64, m: 0.5, t: 0.2, training: true };
    const got = runShards(batch, cfg, 3, 'float32');
    const ref = scope(() => {
      const x = toT(batch.x, 'float64', true);
      const W = toT(batch.W, 'float64', true);
      const t = tensor([cfg.t], { dtype: 'float64' });
      const r = marginLoss(x, W, tensor(batch.labels, { dtype: 'int64' }), opOptions(cfg, t));
      r.loss.backward();
      return { loss: r.loss.item(), gx: nested(x.grad!), gw: nested(W.grad!), t: t.item() };
    });
    expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(2e-5);
    expectClose(got.gx, ref.gx, 2e-4, 'dL/dx');
    expectClose(got.gw, ref.gw, 2e-4, 'dL/dW');
    for (const t of got.tAfter) expect(t).toBeCloseTo(ref.t, 6);
  });

  it('rows whose target is on another shard get no target term (a shard owning no label)', () => {
    scope(() => {
      const b = makeBatch(3, 4, 8, 9, false);
      b.labels = [0, 1, 2, 0];
      const cy = tensor(targetCosines(b), { dtype: 'float64' });
      const x = normalizeEmbeddings(toT(b.x, 'float64'));
      const Wk = toT(b.W, 'float64').narrow(1, 5, 4).clone().requiresGrad_(true);
      const o = opOptions({ target: 'thresh', negative: 'plain', s: 64, m: 0.5, t: 0 }, null);
      const r = marginLossShard(x, Wk, tensor([-1, -1, -1, -1], { dtype: 'int64' }), cy, o);
      // the shard's logsumexp is that of its plain logits s·c (no margin on columns it does not own)
      const c = x.mm(Wk.div(Wk.norm(2, 0, true))).clamp(-1, 1).mul(64);
      expectClose([r.lse.toArray() as number[]], [c.logsumexp(1).toArray() as number[]], 1e-13, 'lse');
      // dL/dtarget alone moves nothing here
      r.target.sum().backward();
      expect(Wk.grad!.abs().max().item()).toBe(0);
    });
  });

  it('names bad input', () => {
    scope(() => {
      const x = tensor([[1, 0], [0, 1]], { dtype: 'float64' });
      const W = tensor([[1, 0, 1], [0, 1, 1]], { dtype: 'float64' });
      const o = opOptions({ target: 'thresh', negative: 'plain', s: 64, m: 0.5, t: 0 }, null);
      const cy = tensor([0.5, 0.5], { dtype: 'float64' });
      expect(() => marginLossShard(x, W, tensor([-2, 0], { dtype: 'int64' }), cy, o)).toThrow(/marginLossShard: labels must lie in \[-1, 3\), got values in \[-2, 0\]/);
      expect(() => marginLossShard(x, W, tensor([0, 1], { dtype: 'int64' }), tensor([0.5], { dtype: 'float64' }), o)).toThrow(/cy \(the target cosines\) must be \[2\]/);
      expect(() => marginLossShard(x, W, tensor([0, 1], { dtype: 'int64' }), cy, { ...o, negative: 'curricular' })).toThrow(/marginLossShard: CurricularFace needs the t buffer/);
    });
  });
});
