import { describe, expect, it } from 'vitest';
import { scope, tensor, zeros, type DType } from '../../lib/index.js';
import { marginLoss, marginLossComposed, type MarginLossOptions } from '../../lib/ops/margin.js';
import { marginRef, switchDistance, type RefConfig } from '../heads/reference.js';
import { CONFIGS, expectClose, makeBatch, nested, opOptions, rng, toT, type Batch } from './margin-fixtures.js';

interface Run {
  loss: number;
  gx: number[][];
  gw: number[][];
  stats: { positiveCosine: number; t: number; hardFraction: number; top1: number };
  tAfter: number | null;
}

function runOp(batch: Batch, cfg: RefConfig, dtype: DType, impl: 'fused' | 'composed' = 'fused'): Run {
  return scope(() => {
    const x = toT(batch.x, dtype, true);
    const W = toT(batch.W, dtype, true);
    const y = tensor(batch.labels, { dtype: 'int64' });
    const t = cfg.negative === 'curricular' ? tensor([cfg.t], { dtype }) : null;
    const fn = impl === 'fused' ? marginLoss : marginLossComposed;
    const r = fn(x, W, y, opOptions(cfg, t));
    r.loss.backward();
    return {
      loss: r.loss.item(),
      gx: nested(x.grad!),
      gw: nested(W.grad!),
      stats: r.stats,
      tAfter: t ? t.item() : null,
    };
  });
}

describe('fused margin op vs the float64 spec reference', () => {
  for (const [name, cfg] of CONFIGS) {
    for (const easy of [false, true]) {
      it(`${name}, ${easy ? 'no hard negatives' : 'hard negatives'}: loss, t, stats, dL/dx, dL/dW`, () => {
        const batch = makeBatch(easy ? 11 : 7, 6, easy ? 24 : 8, 13, easy);
        const ref = marginRef(batch.x, batch.W, batch.labels, cfg);
        const got = runOp(batch, cfg, 'float64');
        expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(1e-12);
        expectClose(got.gx, ref.gx, 1e-10, 'dL/dx');
        expectClose(got.gw, ref.gw, 1e-10, 'dL/dW');
        expect(got.stats.positiveCosine).toBeCloseTo(ref.positiveCosine, 12);
        expect(got.stats.hardFraction).toBeCloseTo(ref.hardFraction, 12);
        expect(got.stats.top1).toBeCloseTo(ref.top1, 12);
        if (cfg.negative !== 'plain') expect(got.stats.t).toBeCloseTo(ref.t, 12);
        if (cfg.negative === 'curricular') expect(got.tAfter).toBeCloseTo(ref.t, 14);
        if (easy && cfg.negative !== 'plain') expect(got.stats.hardFraction).toBe(0);
        if (!easy && cfg.negative !== 'plain') expect(got.stats.hardFraction).toBeGreaterThan(0.2);
      });
    }
  }

  it('the "thresh" fallback branch is exercised (a target cosine below cos(π − m))', () => {
    const b = makeBatch(7, 6, 8, 13, false);
    const n = Math.hypot(...b.x[2]!);
    const y = b.labels[2]!;
    const w = b.W.map((r) => r[y]!);
    const cy = b.x[2]!.reduce((a, e, d) => a + e * w[d]!, 0) / n / Math.hypot(...w);
    expect(cy).toBeLessThan(Math.cos(Math.PI - 0.5));
  });
});

describe('fused vs composed ATen ops (float64)', () => {
  for (const [name, cfg] of CONFIGS) {
    it(name, () => {
      const batch = makeBatch(3, 5, 8, 11, false);
      const a = runOp(batch, cfg, 'float64', 'fused');
      const b = runOp(batch, cfg, 'float64', 'composed');
      expect(Math.abs(a.loss - b.loss) / b.loss).toBeLessThan(1e-12);
      expectClose(a.gx, b.gx, 1e-10, 'dL/dx');
      expectClose(a.gw, b.gw, 1e-10, 'dL/dW');
      expect(a.stats.hardFraction).toBeCloseTo(b.stats.hardFraction, 12);
      expect(a.stats.top1).toBeCloseTo(b.stats.top1, 12);
      if (cfg.negative === 'curricular') expect(a.tAfter).toBeCloseTo(b.tAfter!, 14);
    });
  }
});

describe('finite differences (float64, eval mode so t is a constant)', () => {
  for (const [name, cfg0] of CONFIGS.filter(([, c]) => !c.training)) {
    it(name, () => {
      const cfg = { ...cfg0, training: false };
      const batch = makeBatch(21, 4, 6, 7, false);
      expect(switchDistance(batch.x, batch.W, batch.labels, cfg)).toBeGreaterThan(2e-3);
      const an = runOp(batch, cfg, 'float64');
      const lossAt = (b: Batch) => runOp(b, cfg, 'float64').loss;
      const h = 1e-6;
      const r = rng(5);
      for (let k = 0; k < 6; k++) {
        for (const which of ['x', 'W'] as const) {
          const src = batch[which];
          const i = Math.floor(r() * src.length);
          const j = Math.floor(r() * src[0]!.length);
          const bump = (d: number): Batch => {
            const copy = src.map((row) => row.slice());
            copy[i]![j]! += d;
            return { ...batch, [which]: copy };
          };
          const fd = (lossAt(bump(h)) - lossAt(bump(-h))) / (2 * h);
          const g = (which === 'x' ? an.gx : an.gw)[i]![j]!;
          expect(Math.abs(fd - g), `${which}[${i}][${j}] fd ${fd} analytic ${g}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(g)));
        }
      }
    });
  }
});

describe('numerical safety', () => {
  const cfgs: [string, RefConfig][] = [
    ['CurricularFace', { target: 'thresh', negative: 'curricular', s: 64, m: 0.5, t: 0.5, training: true }],
    ['ArcFace', { target: 'thresh', negative: 'plain', s: 64, m: 0.5, t: 0 }],
    ['MV-Arc', { target: 'easy', negative: 'mv', s: 64, m: 0.5, t: 0.2 }],
  ];
  for (const [name, cfg] of cfgs) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name} ${dtype}: cos exactly ±1, a zero embedding and a zero class column give finite values`, () => {
        const b = makeBatch(9, 5, 6, 7, false);
        const col = (j: number) => b.W.map((r) => r[j]!);
        b.x[0] = col(b.labels[0]!).map((e) => 5 * e); // target cos = +1
        b.x[1] = col(b.labels[1]!).map((e) => -2 * e); // target cos = −1
        b.x[2] = col(3).map((e) => -e); // a negative at cos = −1 …
        b.x[3] = col(4).slice(); // … and one at +1 (a hard negative far above the target)
        b.x[4] = b.x[4]!.map(() => 0); // zero embedding → cos 0 for the whole row
        for (const r of b.W) r[5] = 0; // zero class column
        const got = runOp(b, cfg, dtype);
        expect(Number.isFinite(got.loss)).toBe(true);
        expect(got.gx.flat().every(Number.isFinite)).toBe(true);
        expect(got.gw.flat().every(Number.isFinite)).toBe(true);
        expect(Number.isFinite(got.stats.positiveCosine)).toBe(true);
        if (dtype === 'float64') {
          const ref = marginRef(b.x, b.W, b.labels, cfg);
          expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(1e-9);
        }
      });
    }
  }
});

describe('float32 agrees with float64 (inputs ≥ 2e-3 from every switching point)', () => {
  for (const [name, cfg] of CONFIGS) {
    it(name, () => {
      const batch = makeBatch(31, 8, 16, 40, false);
      expect(switchDistance(batch.x, batch.W, batch.labels, cfg)).toBeGreaterThan(2e-3);
      const ref = marginRef(batch.x, batch.W, batch.labels, cfg);
      const got = runOp(batch, cfg, 'float32');
      expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(2e-5);
      expectClose(got.gx, ref.gx, 2e-4, 'dL/dx');
      expectClose(got.gw, ref.gw, 2e-4, 'dL/dW');
      if (cfg.negative === 'curricular') expect(got.tAfter!).toBeCloseTo(ref.t, 6);
    });
  }
  it('a larger float32 batch (vectorised CPU path with tails) matches the composed ops', () => {
    const batch = makeBatch(41, 33, 32, 1003, false);
    const cfg: RefConfig = { target: 'thresh', negative: 'curricular', s: 64, m: 0.5, t: 0.2, training: true };
    const a = runOp(batch, cfg, 'float32', 'fused');
    const b = runOp(batch, cfg, 'float64', 'composed');
    expect(Math.abs(a.loss - b.loss) / b.loss).toBeLessThan(2e-5);
    expectClose(a.gx, b.gx, 2e-4, 'dL/dx');
    expectClose(a.gw, b.gw, 2e-4, 'dL/dW');
  });
  it('every per-row output is written (ECF_POISON_OUTPUTS: NaN-filled first, the switch ESCA uses too)', () => {
    const batch = makeBatch(9, 17, 8, 37, false);
    const cfg: RefConfig = { target: 'thresh', negative: 'curricular', s: 64, m: 0.5, t: 0.2, training: true };
    const plain = runOp(batch, cfg, 'float64');
    process.env.ECF_POISON_OUTPUTS = '1';
    let poisoned: ReturnType<typeof runOp>;
    try {
      poisoned = runOp(batch, cfg, 'float64');
    } finally {
      delete process.env.ECF_POISON_OUTPUTS;
    }
    expect(Number.isFinite(poisoned.loss)).toBe(true);
    expect(poisoned.loss).toBe(plain.loss);
    expectClose(poisoned.gx, plain.gx, 1e-15, 'dL/dx');
  });
});

describe('errors', () => {
  const cfg: MarginLossOptions = { target: 'thresh', negative: 'plain', s: 64, m: 0.5 };
  it('names the problem', () => {
    scope(() => {
      const x = zeros([4, 8]);
      const W = zeros([8, 10]);
      expect(() => marginLoss(x, W, tensor([0, 1, 2, 10], { dtype: 'int64' }), cfg)).toThrow(/labels must lie in \[0, 10\), got values in \[0, 10\]/);
      expect(() => marginLoss(x, zeros([7, 10]), tensor([0, 1, 2, 3], { dtype: 'int64' }), cfg)).toThrow(/8-d but the kernel has 7 rows/);
      expect(() => marginLoss(x, W.double(), tensor([0, 1, 2, 3], { dtype: 'int64' }), cfg)).toThrow(/same dtype/);
      expect(() => marginLoss(x, W, tensor([0, 1, 2], { dtype: 'int64' }), cfg)).toThrow(/labels must be \[4\]/);
      expect(() => marginLoss(x, W, tensor([0, 1, 2, 3], { dtype: 'int64' }), { ...cfg, negative: 'curricular' })).toThrow(/needs the t buffer/);
    });
  });
  it('refuses a second backward through the same graph', () => {
    scope(() => {
      const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
      const W = tensor([[1, 0, 1], [0, 1, 1]], { requiresGrad: true });
      const r = marginLoss(x, W, tensor([0, 2], { dtype: 'int64' }), cfg);
      r.loss.backward(undefined, { retainGraph: true });
      expect(() => r.loss.backward()).toThrow(/backward ran twice/);
    });
  });
  it('returns the un-margined logits s·cos θ only when asked', () => {
    scope(() => {
      const b = makeBatch(1, 3, 4, 5, false);
      const x = toT(b.x, 'float64');
      const W = toT(b.W, 'float64');
      const y = tensor(b.labels, { dtype: 'int64' });
      expect(marginLoss(x, W, y, cfg).logits).toBeUndefined();
      const r = marginLoss(x, W, y, { ...cfg, returnLogits: true });
      const ref = marginLossComposed(x, W, y, { ...cfg, returnLogits: true });
      expect(r.logits!.shape).toEqual([3, 5]);
      expectClose(nested(r.logits!), nested(ref.logits!), 1e-12, 'logits');
    });
  });
});
