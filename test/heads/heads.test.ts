import { describe, expect, it } from 'vitest';
import { heads, manualSeed, noGrad, randn, scope, tensor, type Tensor } from '../../lib/index.js';
import { marginRef } from './reference.js';

const nested = (t: Tensor): number[][] => t.toArray() as number[][];
const ctmOf = (c: number, m: number): number => c * Math.cos(m) - Math.sqrt(Math.max(1 - c * c, 1e-7)) * Math.sin(m);

function cosines(x: number[][], W: number[][]): number[][] {
  const C = W[0]!.length;
  const cn = Array.from({ length: C }, (_, j) => Math.hypot(...W.map((r) => r[j]!)));
  return x.map((r) => {
    const n = Math.hypot(...r);
    return Array.from({ length: C }, (_, j) => Math.min(1, Math.max(-1, r.reduce((a, e, d) => a + e * W[d]![j]!, 0) / n / cn[j]!)));
  });
}

describe('heads.create: types, defaults, parameters', () => {
  it('builds every type with the spec defaults', () => {
    scope(() => {
      const cur = heads.create({ type: 'curricularface', numClasses: 10 });
      expect(cur).toBeInstanceOf(heads.CurricularFaceHead);
      expect([cur.s, cur.m, cur.embeddingSize, cur.tUpdate, cur.alpha, cur.tStatistic, cur.target]).toEqual([64, 0.5, 512, 'code', 0.99, 'cos', 'thresh']);
      expect(cur.tNewWeight).toBeCloseTo(0.01, 15);
      const paper = heads.create({ type: 'curricularface', numClasses: 10, tUpdate: 'paper' });
      expect([paper.tNewWeight, paper.tStatistic]).toEqual([0.99, 'cos_m']);
      const arc = heads.create({ type: 'arcface', numClasses: 10 });
      expect([arc.s, arc.m, arc.variant]).toEqual([64, 0.5, 'thresh']);
      const cos = heads.create({ type: 'cosface', numClasses: 10 });
      expect([cos.s, cos.m]).toEqual([64, 0.35]);
      const mv = heads.create({ type: 'mv-arcface', numClasses: 10 });
      expect([mv.s, mv.m, mv.t, mv.easyMargin]).toEqual([64, 0.5, 0.2, true]);
      const mag = heads.create({ type: 'magface', numClasses: 10 });
      expect([mag.s, mag.la, mag.ua, mag.lm, mag.um, mag.lambdaG, mag.easyMargin]).toEqual([64, 10, 110, 0.45, 0.8, 35, true]);
      const sm = heads.create({ type: 'softmax', numClasses: 10, embeddingSize: 8 });
      expect([...sm.stateDict().keys()]).toEqual(['weight', 'bias']);
      expect(sm.weight.shape).toEqual([10, 8]);
      for (const h of [cur, paper, arc, cos, mv, mag, sm]) h.dispose();
    });
  });

  it('names the kernel and t as the reference code, and initialises as the reference code', () => {
    scope(() => {
      manualSeed(3);
      const cur = heads.create({ type: 'curricularface', numClasses: 2000, embeddingSize: 64 });
      expect([...cur.stateDict().keys()]).toEqual(['kernel', 't']);
      expect(cur.kernel.shape).toEqual([64, 2000]);
      expect(cur.t.shape).toEqual([1]);
      expect(cur.t.item()).toBe(0);
      expect(cur.kernel.std().item()).toBeCloseTo(0.01, 3);
      expect(Math.abs(cur.kernel.mean().item())).toBeLessThan(1e-3);
      for (const type of ['mv-arcface', 'magface'] as const) {
        const h = heads.create({ type, numClasses: 50, embeddingSize: 16 });
        expect([...h.stateDict().keys()]).toEqual(['kernel']);
        const norms = h.kernel.norm(2, 0).toArray() as number[];
        for (const n of norms) expect(n).toBeCloseTo(1, 5);
        h.dispose();
      }
      cur.dispose();
    });
  });

  it('rejects unknown types and bad options with clear errors', () => {
    expect(() => heads.create({ type: 'sphereface' as 'arcface', numClasses: 3 })).toThrow(/unknown type 'sphereface'/);
    expect(() => heads.create({ type: 'arcface', numClasses: 0 })).toThrow(/numClasses must be a positive integer/);
    expect(() => heads.create({ type: 'curricularface', numClasses: 3, alpha: 1.5 })).toThrow(/alpha must lie in \[0, 1\]/);
    expect(() => heads.create({ type: 'curricularface', numClasses: 3, tUpdate: 'x' as 'code' })).toThrow(/tUpdate/);
    const h = heads.create({ type: 'arcface', numClasses: 3, embeddingSize: 4 });
    scope(() => {
      expect(() => h.forward(randn([2, 5]), tensor([0, 1], { dtype: 'int64' }))).toThrow(/embeddings must be \[B, 4\], got \[2, 5\]/);
      expect(() => h.forward(randn([2, 4]), tensor([0, 1, 2], { dtype: 'int64' }))).toThrow(/labels must be \[2\]/);
      expect(() => h.forward(randn([2, 4]), tensor([0, 1]))).toThrow(/labels must be an integer tensor/);
    });
    h.dispose();
  });
});

describe('CurricularFace t', () => {
  const B = 6;
  const D = 8;
  const C = 12;
  function steps(options: heads.CurricularFaceOptions, n: number): { got: number[]; want: number[] } {
    return scope(() => {
      manualSeed(11);
      const h = heads.create({ type: 'curricularface', numClasses: C, embeddingSize: D, ...options }).to('float64');
      const W = nested(h.kernel);
      const w = h.tNewWeight;
      let t = 0;
      const got: number[] = [];
      const want: number[] = [];
      for (let k = 0; k < n; k++) {
        const x = randn([B, D], { dtype: 'float64' });
        const labels = Array.from({ length: B }, (_, i) => (i * 5 + k) % C);
        const out = h.forward(x, tensor(labels, { dtype: 'int64' }));
        out.loss.backward(); // gradients accumulate in the kernel; the kernel itself does not change
        got.push(h.t.item());
        expect(out.stats.t).toBeCloseTo(h.t.item(), 12);
        const c = cosines(nested(x), W);
        const cy = labels.map((y, i) => c[i]![y]!);
        const r = (h.tStatistic === 'cos' ? cy : cy.map((v) => ctmOf(v, 0.5))).reduce((a, e) => a + e, 0) / B;
        t = w * r + (1 - w) * t;
        want.push(t);
      }
      h.dispose();
      return { got, want };
    });
  }

  it('code rule: t ← 0.01·mean cos θ_y + 0.99·t, before use, over several steps', () => {
    const { got, want } = steps({}, 5);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 13));
    expect(Math.abs(got[4]!)).toBeLessThan(0.05); // creeps from 0 (time constant 100 steps)
  });

  it('paper rule: t ← α·mean cos(θ_y + m) + (1 − α)·t, α = 0.99 and α = 0.8 (Table 4)', () => {
    for (const alpha of [0.99, 0.8]) {
      const { got, want } = steps({ tUpdate: 'paper', alpha }, 5);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 13));
    }
    // With random embeddings cos θ_y ≈ 0, so the paper-literal t jumps to ≈ −sin m at step 1 (docs/heads.md).
    const { got } = steps({ tUpdate: 'paper' }, 1);
    expect(got[0]!).toBeLessThan(-0.3);
  });

  it('is not updated in eval mode, is saved in the state dict and restored by loadStateDict', () => {
    scope(() => {
      const h = heads.create({ type: 'curricularface', numClasses: C, embeddingSize: D });
      const x = randn([B, D]);
      const y = tensor([0, 1, 2, 3, 4, C - 1], { dtype: 'int64' });
      h.forward(x, y);
      const t1 = h.t.item();
      expect(t1).not.toBe(0);
      h.eval();
      const out = h.forward(x, y);
      expect(h.t.item()).toBe(t1);
      expect(out.stats.t).toBeCloseTo(t1, 7);
      const h2 = heads.create({ type: 'curricularface', numClasses: C, embeddingSize: D });
      h2.loadStateDict(h.stateDict());
      expect(h2.t.item()).toBe(t1);
      expect(nested(h2.kernel)).toEqual(nested(h.kernel));
      h.dispose();
      h2.dispose();
    });
  });
});

describe('head forward', () => {
  it('fused and composed heads give the same loss, gradients and stats; logits only when asked', () => {
    scope(() => {
      for (const type of ['cosface', 'arcface', 'mv-arcface', 'curricularface'] as const) {
        manualSeed(5);
        const h = heads.create({ type, numClasses: 30, embeddingSize: 16 }).to('float64');
        const x = randn([7, 16], { dtype: 'float64' }).requiresGrad_();
        const y = tensor([0, 29, 3, 4, 5, 6, 7], { dtype: 'int64' });
        const run = (impl: 'fused' | 'composed') => {
          h.impl = impl;
          h.zeroGrad();
          x.zeroGrad();
          if (h instanceof heads.CurricularFaceHead) noGrad(() => h.t.fill_(0.2));
          const o = h.forward(x, y);
          o.loss.backward();
          return { loss: o.loss.item(), gx: nested(x.grad!), gk: nested(h.kernel.grad!), stats: o.stats, logits: o.logits };
        };
        const a = run('fused');
        const b = run('composed');
        expect(a.loss).toBeCloseTo(b.loss, 10);
        a.gx.flat().forEach((v, i) => expect(v).toBeCloseTo(b.gx.flat()[i]!, 10));
        a.gk.flat().forEach((v, i) => expect(v).toBeCloseTo(b.gk.flat()[i]!, 10));
        expect(a.stats).toEqual(expect.objectContaining({ positiveCosine: expect.closeTo(b.stats.positiveCosine, 10) }));
        expect(a.logits).toBeUndefined();
        const withLogits = h.forward(x, y, { returnLogits: true });
        expect(withLogits.logits!.shape).toEqual([7, 30]);
        expect(withLogits.logits!.requiresGrad).toBe(false);
        if (type === 'curricularface' || type === 'mv-arcface') {
          expect(a.stats.t).toBeDefined();
          expect(a.stats.hardFraction).toBeGreaterThan(0);
        } else {
          expect(a.stats.t).toBeUndefined();
        }
        h.dispose();
      }
    });
  });

  it('CurricularFace head equals the spec reference (float64)', () => {
    scope(() => {
      manualSeed(8);
      const h = heads.create({ type: 'curricularface', numClasses: 9, embeddingSize: 5 }).to('float64');
      noGrad(() => h.t.fill_(0.3));
      const x = randn([4, 5], { dtype: 'float64' }).requiresGrad_();
      const labels = [0, 8, 2, 5];
      const out = h.forward(x, tensor(labels, { dtype: 'int64' }));
      out.loss.backward();
      const ref = marginRef(nested(x), nested(h.kernel), labels, {
        target: 'thresh',
        negative: 'curricular',
        s: 64,
        m: 0.5,
        t: 0.3,
        training: true,
        tNewWeight: 0.01,
      });
      expect(out.loss.item()).toBeCloseTo(ref.loss, 10);
      nested(x.grad!).flat().forEach((v, i) => expect(v).toBeCloseTo(ref.gx.flat()[i]!, 10));
      nested(h.kernel.grad!).flat().forEach((v, i) => expect(v).toBeCloseTo(ref.gw.flat()[i]!, 10));
      h.dispose();
    });
  });

  it('Softmax head: CE of x·Wᵀ + b, against a plain float64 computation', () => {
    scope(() => {
      manualSeed(2);
      const h = heads.create({ type: 'softmax', numClasses: 6, embeddingSize: 4 }).to('float64');
      noGrad(() => h.bias.copy_(randn([6], { dtype: 'float64' })));
      const x = randn([3, 4], { dtype: 'float64' });
      const labels = [0, 5, 2];
      const out = h.forward(x, tensor(labels, { dtype: 'int64' }), { returnLogits: true });
      const W = nested(h.weight);
      const b = h.bias.toArray() as number[];
      let loss = 0;
      nested(x).forEach((r, i) => {
        const z = W.map((w, j) => w.reduce((a, e, d) => a + e * r[d]!, b[j]!));
        const mx = Math.max(...z);
        loss += (mx + Math.log(z.reduce((a, e) => a + Math.exp(e - mx), 0)) - z[labels[i]!]!) / 3;
      });
      expect(out.loss.item()).toBeCloseTo(loss, 12);
      expect(out.logits!.shape).toEqual([3, 6]);
      // gradients: dL/dz = (softmax − onehot)/B, dL/dW = dzᵀ·x, dL/db = Σ_i dz_i
      out.loss.backward();
      const xs = nested(x);
      const dz = xs.map((r, i) => {
        const z = W.map((w, j) => w.reduce((a, e, d) => a + e * r[d]!, b[j]!));
        const mx = Math.max(...z);
        const se = z.reduce((a, e) => a + Math.exp(e - mx), 0);
        return z.map((e, j) => (Math.exp(e - mx) / se - (j === labels[i] ? 1 : 0)) / 3);
      });
      const gW = nested(h.weight.grad!);
      const gb = h.bias.grad!.toArray() as number[];
      W.forEach((w, j) => {
        w.forEach((_, d) => expect(gW[j]![d]!).toBeCloseTo(dz.reduce((a, r, i) => a + r[j]! * xs[i]![d]!, 0), 12));
        expect(gb[j]!).toBeCloseTo(dz.reduce((a, r) => a + r[j]!, 0), 12);
      });
      const c = cosines(nested(x), W[0]!.map((_, d) => W.map((w) => w[d]!)));
      expect(out.stats.positiveCosine).toBeCloseTo(labels.reduce((a, y, i) => a + c[i]![y]!, 0) / 3, 12);
      h.dispose();
    });
  });
});

describe('MagFace (composed ops)', () => {
  function magRef(x: number[][], W: number[][], labels: number[], o: { la: number; ua: number; lm: number; um: number; lg: number; s: number }): number {
    const c = cosines(x, W);
    let ce = 0;
    let g = 0;
    x.forEach((r, i) => {
      const a = Math.min(o.ua, Math.max(o.la, Math.hypot(...r)));
      const m = ((o.um - o.lm) / (o.ua - o.la)) * (a - o.la) + o.lm;
      const y = labels[i]!;
      const cy = c[i]![y]!;
      const f = cy > 0 ? ctmOf(cy, m) : cy;
      const z = c[i]!.map((v, j) => o.s * (j === y ? f : v));
      const mx = Math.max(...z);
      ce += mx + Math.log(z.reduce((acc, e) => acc + Math.exp(e - mx), 0)) - z[y]!;
      g += a / (o.ua * o.ua) + 1 / a;
    });
    return ce / x.length + (o.lg * g) / x.length;
  }

  it('loss equals the reference; gradients pass finite differences (norms inside and outside [l_a, u_a])', () => {
    scope(() => {
      manualSeed(4);
      const h = heads.create({ type: 'magface', numClasses: 7, embeddingSize: 5 }).to('float64');
      const x0 = nested(randn([4, 5], { dtype: 'float64' }));
      const scales = [3, 15, 40, 200]; // ‖x‖ below l_a, inside, inside, above u_a
      const xs = x0.map((r, i) => {
        const n = Math.hypot(...r);
        return r.map((e) => (e / n) * scales[i]!);
      });
      const labels = [0, 6, 3, 2];
      const y = tensor(labels, { dtype: 'int64' });
      const W = nested(h.kernel);
      const opts = { la: 10, ua: 110, lm: 0.45, um: 0.8, lg: 35, s: 64 };
      const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
      const out = h.forward(x, y);
      expect(out.loss.item()).toBeCloseTo(magRef(xs, W, labels, opts), 10);
      expect(out.stats.meanNorm).toBeCloseTo((10 + 15 + 40 + 110) / 4, 10);
      out.loss.backward();
      const gx = nested(x.grad!);
      const hh = 1e-6;
      for (const [i, j] of [[0, 1], [1, 0], [2, 4], [3, 2], [1, 3]] as const) {
        const bump = (d: number) => xs.map((r, a) => r.map((e, b) => (a === i && b === j ? e + d : e)));
        const fd = (magRef(bump(hh), W, labels, opts) - magRef(bump(-hh), W, labels, opts)) / (2 * hh);
        expect(Math.abs(fd - gx[i]![j]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
      }
      const gk = nested(h.kernel.grad!);
      for (const [d, j] of [[0, 0], [4, 6], [2, 3]] as const) {
        const bump = (e: number) => W.map((r, a) => r.map((v, b) => (a === d && b === j ? v + e : v)));
        const fd = (magRef(xs, bump(hh), labels, opts) - magRef(xs, bump(-hh), labels, opts)) / (2 * hh);
        expect(Math.abs(fd - gk[d]![j]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
      }
      h.dispose();
    });
  });

  it('stays finite when a cosine is exactly ±1', () => {
    scope(() => {
      const h = heads.create({ type: 'magface', numClasses: 4, embeddingSize: 3 }).to('float64');
      const W = nested(h.kernel);
      const col = (j: number, k: number) => W.map((r) => r[j]! * k);
      const x = tensor([col(0, 20), col(1, -30), col(3, 50)], { dtype: 'float64', requiresGrad: true });
      const out = h.forward(x, tensor([0, 1, 2], { dtype: 'int64' }));
      out.loss.backward();
      expect(Number.isFinite(out.loss.item())).toBe(true);
      expect(nested(x.grad!).flat().every(Number.isFinite)).toBe(true);
      expect(nested(h.kernel.grad!).flat().every(Number.isFinite)).toBe(true);
      h.dispose();
    });
  });
});
