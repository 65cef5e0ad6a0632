/**
 * Independent float64 reference of the margin heads, in plain JS numbers, written from the heads'
 * formulas (as docs/heads.md and the head files state them) and not from the library code: forward loss, t
 * update, stats, and the analytic gradients with respect to the raw embeddings and the raw kernel.
 */

export type Target = 'thresh' | 'easy' | 'plain' | 'cosface' | 'none';
export type Negative = 'plain' | 'curricular' | 'mv';

export interface RefConfig {
  target: Target;
  negative: Negative;
  s: number;
  m: number;
  /** CurricularFace t before this batch, or MV's fixed t. */
  t: number;
  training?: boolean;
  /** t ← w·r + (1 − w)·t */
  tNewWeight?: number;
  tStatistic?: 'cos' | 'cos_m';
}

export interface RefResult {
  loss: number;
  /** t used by the batch. */
  t: number;
  positiveCosine: number;
  hardFraction: number;
  top1: number;
  /** dL/dx [B][D], dL/dW [D][C] */
  gx: number[][];
  gw: number[][];
}

const EPS = 1e-12;
const FLOOR = 1e-7;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

function sinOf(c: number): number {
  return Math.sqrt(Math.max(1 - c * c, FLOOR));
}
function ctmOf(c: number, m: number): number {
  return c * Math.cos(m) - sinOf(c) * Math.sin(m);
}
function ctmDeriv(c: number, m: number): number {
  const r = 1 - c * c;
  return r > FLOOR ? Math.cos(m) + (Math.sin(m) * c) / Math.sqrt(r) : Math.cos(m);
}

/** f(c_y) and f'(c_y) for a target kind (ArcFace, MV-Arc, CosFace). */
export function targetFn(kind: Target, c: number, m: number): [number, number] {
  const th = Math.cos(Math.PI - m);
  const mm = Math.sin(Math.PI - m) * m;
  switch (kind) {
    case 'thresh':
      return c > th ? [ctmOf(c, m), ctmDeriv(c, m)] : [c - mm, 1];
    case 'easy':
      return c > 0 ? [ctmOf(c, m), ctmDeriv(c, m)] : [c, 1];
    case 'plain':
      return [ctmOf(c, m), ctmDeriv(c, m)];
    case 'cosface':
      return [c - m, 1];
    case 'none':
      return [c, 1];
  }
}

/** Gradient of v/max(‖v‖, eps) pulled back: (g − (g·v̂)v̂)/‖v‖, or g/eps when the norm is clamped. */
function normBack(v: number[], g: number[]): number[] {
  const n = Math.hypot(...v);
  if (n < EPS) return g.map((e) => e / EPS);
  const vh = v.map((e) => e / n);
  const dot = g.reduce((a, e, i) => a + e * vh[i]!, 0);
  return g.map((e, i) => (e - dot * vh[i]!) / n);
}

/** The whole margin head on plain arrays. */
export function marginRef(x: number[][], W: number[][], labels: number[], cfg: RefConfig): RefResult {
  const B = x.length;
  const D = W.length;
  const C = W[0]!.length;
  const xh = x.map((r) => {
    const n = Math.max(Math.hypot(...r), EPS);
    return r.map((e) => e / n);
  });
  const colNorm = Array.from({ length: C }, (_, j) => Math.max(Math.hypot(...W.map((r) => r[j]!)), EPS));
  // raw cosines (before the clamp)
  const u = xh.map((r) => Array.from({ length: C }, (_, j) => r.reduce((a, e, d) => a + (e * W[d]![j]!) / colNorm[j]!, 0)));
  const c = u.map((r) => r.map((e) => clamp(e, -1, 1)));
  const cy = labels.map((y, i) => c[i]![y]!);
  let t = cfg.t;
  if (cfg.negative === 'curricular' && cfg.training) {
    const stat = cfg.tStatistic === 'cos_m' ? cy.map((v) => ctmOf(v, cfg.m)) : cy;
    const r = stat.reduce((a, e) => a + e, 0) / B;
    const w = cfg.tNewWeight ?? 0.01;
    t = w * r + (1 - w) * t;
  }
  let hard = 0;
  let top1 = 0;
  let loss = 0;
  const G: number[][] = []; // dL/dc (after the clamp mask)
  for (let i = 0; i < B; i++) {
    const y = labels[i]!;
    const ctm = ctmOf(cy[i]!, cfg.m);
    const z: number[] = [];
    const dz: number[] = [];
    for (let j = 0; j < C; j++) {
      const cj = c[i]![j]!;
      if (j === y) {
        const [f, fd] = targetFn(cfg.target, cj, cfg.m);
        z.push(cfg.s * f);
        dz.push(fd);
        continue;
      }
      const isHard = cfg.negative !== 'plain' && cj > ctm;
      if (isHard) hard++;
      if (!isHard) {
        z.push(cfg.s * cj);
        dz.push(1);
      } else if (cfg.negative === 'curricular') {
        z.push(cfg.s * cj * (t + cj));
        dz.push(t + 2 * cj);
      } else {
        z.push(cfg.s * ((t + 1) * cj + t));
        dz.push(t + 1);
      }
    }
    const mx = Math.max(...z);
    const lse = mx + Math.log(z.reduce((a, e) => a + Math.exp(e - mx), 0));
    loss += (lse - z[y]!) / B;
    let best = 0;
    for (let j = 1; j < C; j++) if (c[i]![j]! > c[i]![best]!) best = j;
    if (best === y) top1++;
    G.push(
      z.map((e, j) => {
        const p = Math.exp(e - lse);
        const pass = u[i]![j]! >= -1 && u[i]![j]! <= 1;
        return pass ? ((p - (j === y ? 1 : 0)) * cfg.s * dz[j]!) / B : 0;
      }),
    );
  }
  // c_ij = x̂_i·ŵ_j: dL/dx̂_i = Σ_j G_ij ŵ_j, dL/dŵ_j = Σ_i G_ij x̂_i, then through the normalisations.
  const gx = x.map((r, i) => {
    const gxh = Array.from({ length: D }, (_, d) => G[i]!.reduce((a, g, j) => a + (g * W[d]![j]!) / colNorm[j]!, 0));
    return normBack(r, gxh);
  });
  const gwCols = Array.from({ length: C }, (_, j) => {
    const col = W.map((r) => r[j]!);
    const gwh = Array.from({ length: D }, (_, d) => xh.reduce((a, r, i) => a + G[i]![j]! * r[d]!, 0));
    return normBack(col, gwh);
  });
  const gw = Array.from({ length: D }, (_, d) => Array.from({ length: C }, (_, j) => gwCols[j]![d]!));
  return {
    loss,
    t,
    positiveCosine: cy.reduce((a, e) => a + e, 0) / B,
    hardFraction: C > 1 ? hard / (B * (C - 1)) : 0,
    top1: top1 / B,
    gx,
    gw,
  };
}

/** Smallest distance of any input to a switching point of the formulas (float32 and float64 may disagree that close to one). */
export function switchDistance(x: number[][], W: number[][], labels: number[], cfg: RefConfig): number {
  const C = W[0]!.length;
  const colNorm = Array.from({ length: C }, (_, j) => Math.hypot(...W.map((r) => r[j]!)));
  let best = Infinity;
  x.forEach((r, i) => {
    const n = Math.hypot(...r);
    const c = Array.from({ length: C }, (_, j) => r.reduce((a, e, d) => a + (e * W[d]![j]!) / colNorm[j]!, 0) / n);
    const y = labels[i]!;
    const cy = c[y]!;
    const ctm = ctmOf(cy, cfg.m);
    if (cfg.target === 'thresh') best = Math.min(best, Math.abs(cy - Math.cos(Math.PI - cfg.m)));
    if (cfg.target === 'easy') best = Math.min(best, Math.abs(cy));
    if (cfg.negative !== 'plain') c.forEach((cj, j) => j !== y && (best = Math.min(best, Math.abs(cj - ctm))));
  });
  return best;
}
