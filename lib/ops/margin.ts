/**
 * The margin family's loss (CurricularFace, ArcFace, CosFace, MV-Arc-Softmax) as functions of
 * tensors (the heads in lib/heads/ hold the class kernel and the t buffer).
 *
 * `marginLoss` is the op the heads call: the fused native op (native/ops/margin.cc, kernels in
 * native/kernels/margin*) — margin logits and the mean cross-entropy in one op with its own
 * backward, holding a single [batch × classes] matrix, on CPU (float32/float64) and CUDA
 * (float32/float64/float16/bfloat16). The embeddings are L2-normalised here with ATen ops
 * (autograd through them, eps 1e-12 as `F.normalize`); the kernel [D, C] is passed raw and its
 * columns are normalised inside the op. `marginLossComposed` is the same math composed of ATen
 * ops in the shape of the reference PyTorch code: the reference the fused op is tested and
 * benchmarked against, and the heads' `impl: 'composed'` (e.g. for double backward).
 * Public as `heads.marginLoss` / `heads.marginLossComposed`.
 *
 * `marginLossShard` is the fused op's sharded form, the per-rank piece of the Partial-FC head
 * (lib/distributed/sharded-head.ts): one shard's columns, labels local to the shard, the target
 * cosines given from outside; it returns each row's logsumexp over the shard instead of a loss.
 */
import { native } from '../native.js';
import { functional as F, noGrad, scope, where, type Tensor } from '../tensor/index.js';
import { handleOf, wrap } from '../tensor/tensor.js';

/** Target-logit function f(cos θ_y) of the margin family (CosFace, ArcFace, MV-Arc, CurricularFace; docs/heads.md). */
export type MarginTarget =
  /** cos(θ+m) if cos θ > cos(π−m), else cos θ − m·sin(π−m) (ArcFace "thresh", CurricularFace). */
  | 'thresh'
  /** cos(θ+m) if cos θ > 0, else cos θ (easy margin: MV-Arc, MagFace). */
  | 'easy'
  /** cos(θ+m) with no fallback (the papers' equations). */
  | 'plain'
  /** cos θ − m (CosFace). */
  | 'cosface'
  /** cos θ (normalised softmax, no margin). */
  | 'none';

/** How negatives are reweighted. */
export type MarginNegative =
  /** unchanged: s·cos θ_j */
  | 'plain'
  /** CurricularFace: cos θ_j·(t + cos θ_j) where cos θ_j > cos(θ_y + m), t the adaptive buffer */
  | 'curricular'
  /** MV-Arc-Softmax (adaptive): (t + 1)·cos θ_j + t where cos θ_j > cos(θ_y + m), t fixed */
  | 'mv';

/** Options of {@link marginLoss}. */
export interface MarginLossOptions {
  target: MarginTarget;
  negative: MarginNegative;
  /** Scale s. */
  s: number;
  /** Margin m (angular, or additive cosine for 'cosface'). */
  m: number;
  /** MV-Arc's fixed t (default 0.2). */
  mvT?: number;
  /** CurricularFace: the t buffer ([1]); updated in place when `training`. */
  t?: Tensor | null;
  /** CurricularFace: update t before use (default false). */
  training?: boolean;
  /** CurricularFace: weight w of the new batch statistic in t ← w·r + (1 − w)·t. */
  tNewWeight?: number;
  /** CurricularFace: the statistic r: mean cos θ_y ('cos', the code) or mean cos(θ_y + m) ('cos_m'). */
  tStatistic?: 'cos' | 'cos_m';
  /** Also return s·cos θ (no margin, no grad) for accuracy logging: one more [B × C] matrix. */
  returnLogits?: boolean;
}

/** Per-batch statistics, as plain numbers (no gradient). */
export interface MarginStats {
  /** Mean target cosine cos θ_y (clamped, no margin). */
  positiveCosine: number;
  /** The t this batch used (CurricularFace: after this batch's update; MV: the fixed t). */
  t: number;
  /** Hard negatives (cos θ_j > cos(θ_y + m), j ≠ y) over the B·(C − 1) non-target entries; 0 without reweighting. */
  hardFraction: number;
  /** Fraction of rows whose largest cos θ_j is the label's (first index on ties). */
  top1: number;
}

/** Result of {@link marginLoss}. */
export interface MarginLossResult {
  /** Mean cross-entropy (float32 for float32/float16/bfloat16 inputs, float64 for float64). */
  loss: Tensor;
  stats: MarginStats;
  /** s·cos θ [B, C], when asked for. */
  logits?: Tensor;
}

const TARGET: Record<MarginTarget, number> = { thresh: 0, easy: 1, plain: 2, cosface: 3, none: 4 };
const NEGATIVE: Record<MarginNegative, number> = { plain: 0, curricular: 1, mv: 2 };

/** The native ops' config object. */
function nativeConfig(o: MarginLossOptions, fn: string) {
  const target = TARGET[o.target];
  const negative = NEGATIVE[o.negative];
  if (target === undefined) throw new RangeError(`${fn}: unknown target '${String(o.target)}'`);
  if (negative === undefined) throw new RangeError(`${fn}: unknown negative '${String(o.negative)}'`);
  return {
    target,
    negative,
    s: o.s,
    m: o.m,
    mvT: o.mvT ?? 0.2,
    training: o.training ?? false,
    tNewWeight: o.tNewWeight ?? 0.01,
    tStatistic: o.tStatistic === 'cos_m' ? 1 : 0,
    returnLogits: o.returnLogits ?? false,
  };
}

/**
 * Rows of `embeddings` [B, D] L2-normalised (eps 1e-12, as `F.normalize`), with autograd; float16
 * and bfloat16 are normalised in float32 (eps 1e-12 underflows to 0 in half precision).
 */
export function normalizeEmbeddings(embeddings: Tensor): Tensor {
  const low = embeddings.dtype === 'float16' || embeddings.dtype === 'bfloat16';
  return low
    ? scope(() => F.normalize(embeddings.float(), { p: 2, dim: 1, eps: 1e-12 }).to(embeddings.dtype))
    : F.normalize(embeddings, { p: 2, dim: 1, eps: 1e-12 });
}

/**
 * Fused margin loss from raw embeddings [B, D] and the raw class kernel [D, C]. Gradients flow to
 * both (through the embedding normalisation and the kernel's column normalisation).
 */
export function marginLoss(embeddings: Tensor, kernel: Tensor, labels: Tensor, o: MarginLossOptions): MarginLossResult {
  const config = nativeConfig(o, 'marginLoss');
  const xhat = normalizeEmbeddings(embeddings);
  let out: [ReturnType<typeof handleOf>, ReturnType<typeof handleOf>, ReturnType<typeof handleOf> | null];
  try {
    out = native.marginLoss(handleOf(xhat, 'embeddings'), handleOf(kernel, 'kernel'), handleOf(labels, 'labels'), o.t ? handleOf(o.t, 't') : null, config);
  } finally {
    xhat.dispose(); // the graph keeps what backward needs
  }
  const loss = wrap(out[0]);
  const statsT = wrap(out[1]);
  let v: Float64Array;
  try {
    v = statsT.toTypedArray() as Float64Array;
  } finally {
    statsT.dispose();
  }
  const result: MarginLossResult = {
    loss,
    stats: { positiveCosine: v[0]!, t: v[1]!, hardFraction: v[2]!, top1: v[3]! },
  };
  if (out[2] !== null) result.logits = wrap(out[2]);
  return result;
}

/** Result of {@link marginLossShard}: per row of the batch, accumulation dtype. */
export interface MarginShardResult {
  /** logsumexp of the margin logits over this shard's columns [B] (differentiable). */
  lse: Tensor;
  /**
   * The target logit s·f(c_y) [B] from the given c_y (differentiable: its gradient reaches the
   * target's column on the shard that owns it, nothing elsewhere).
   */
  target: Tensor;
  /** Hard negatives among this shard's columns, per row (the owned target column excluded; no grad). */
  hard: Tensor;
  /** Largest clamped cosine c_ij over this shard's columns, per row (no grad). */
  maxCosine: Tensor;
}

/**
 * The fused op's sharded form: the margin logits of one shard of the classes, for a loss
 * `mean(logsumexp over shards of lse − target)` that the caller assembles (the Partial-FC head
 * all-reduces `lse`).
 *
 * @param xhat L2-normalised embeddings [B, D] (all ranks' rows, see {@link normalizeEmbeddings}).
 * @param kernel This shard's raw kernel columns [D, C].
 * @param labels [B] integers: the target's column in this shard, or −1 where another shard owns it.
 * @param cy [B] every row's target cosine x̂·w_y/‖w_y‖ (unclamped, no gradient) as the owning
 *   shard computes it: the hard-negative threshold, the target logit and CurricularFace's t
 *   update (in place, when `training`: the same on every rank given the same `cy`) use it.
 * @param o As {@link marginLoss} (`returnLogits` is ignored).
 */
export function marginLossShard(xhat: Tensor, kernel: Tensor, labels: Tensor, cy: Tensor, o: MarginLossOptions): MarginShardResult {
  const config = nativeConfig(o, 'marginLossShard');
  const out = native.marginLossShard(handleOf(xhat, 'embeddings'), handleOf(kernel, 'kernel'), handleOf(labels, 'labels'), handleOf(cy, 'cy'), o.t ? handleOf(o.t, 't') : null, config);
  const stats = wrap(out[2]);
  try {
    return { lse: wrap(out[0]), target: wrap(out[1]), hard: stats.select(1, 0), maxCosine: stats.select(1, 1) };
  } finally {
    stats.dispose();
  }
}

/**
 * The target logit before ×s for each margin variant (`fy`), and cos(θ_y + m) (`ctm`, the
 * hard-negative threshold), from the target cosines `cy`. Shared by the composed op and the
 * sharded head (lib/distributed/sharded-head.ts).
 */
export function marginTarget(cy: Tensor, o: Pick<MarginLossOptions, 'm' | 'target'>): { fy: Tensor; ctm: Tensor } {
  const { m } = o;
  const cosM = Math.cos(m);
  const sinM = Math.sin(m);
  const th = Math.cos(Math.PI - m);
  const mm = Math.sin(Math.PI - m) * m;
  const ctm = cy.mul(cosM).sub(cy.square().rsub(1).clamp(1e-7, null).sqrt().mul(sinM));
  switch (o.target) {
    case 'thresh':
      return { fy: where(cy.gt(th), ctm, cy.sub(mm)), ctm };
    case 'easy':
      return { fy: where(cy.gt(0), ctm, cy), ctm };
    case 'plain':
      return { fy: ctm, ctm };
    case 'cosface':
      return { fy: cy.sub(m), ctm };
    case 'none':
      return { fy: cy, ctm };
    default:
      throw new RangeError(`margin loss: unknown target '${String(o.target)}'`);
  }
}

/**
 * The negatives of the composed ops (also the sharded head's composed path): cosines `c` [B, C]
 * above cos(θ_y + m) (`ctm` [B, 1], no gradient through the threshold) reweighted, CurricularFace's
 * t buffer first updated in place from `cy` (or `ctm`) in training mode. `mask` is null without
 * reweighting.
 */
export function reweightNegatives(
  c: Tensor,
  cy: Tensor,
  ctm: Tensor,
  o: MarginLossOptions,
  fn: string,
): { body: Tensor; mask: Tensor | null; t: number } {
  if (o.negative === 'plain') return { body: c, mask: null, t: 0 };
  const mask = c.gt(ctm.detach());
  if (o.negative === 'mv') {
    const t = o.mvT ?? 0.2;
    return { body: where(mask, c.mul(t + 1).add(t), c), mask, t };
  }
  if (!o.t) throw new TypeError(`${fn}: CurricularFace needs the t buffer`);
  const tb = o.t;
  if (o.training) {
    noGrad(() => {
      const r = (o.tStatistic === 'cos_m' ? ctm : cy).detach().mean();
      const w = o.tNewWeight ?? 0.01;
      tb.mul_(1 - w).add_(r.mul(w).to(tb.dtype));
    });
  }
  const t = tb.item();
  return { body: where(mask, c.mul(c.add(t)), c), mask, t };
}

/**
 * Composed-ops version of {@link marginLoss}: same options, same results (up to rounding). It
 * follows CurricularFace's head/metrics.py: normalise both sides, one matmul, clamp, target via
 * `where`, hard mask, `scatter` of the target logit, `crossEntropy` — materialising several
 * [B × C] matrices and a normalised copy of the kernel.
 */
export function marginLossComposed(
  embeddings: Tensor,
  kernel: Tensor,
  labels: Tensor,
  o: MarginLossOptions,
): MarginLossResult {
  const { s } = o;
  return scope(() => {
    const y = labels.long().unsqueeze(1);
    const xhat = F.normalize(embeddings, { dim: 1 });
    const what = F.normalize(kernel, { dim: 0 });
    const c = xhat.mm(what).clamp(-1, 1);
    const cy = c.gather(1, y);
    const { fy, ctm } = marginTarget(cy, o);
    const { body, mask, t } = reweightNegatives(c, cy, ctm, o, 'marginLossComposed');
    let hardFraction = 0;
    if (mask) {
      const B = c.size(0);
      const C = c.size(1);
      const hardAll = mask.sum().item();
      const hardTarget = mask.gather(1, y).sum().item();
      hardFraction = C > 1 ? (hardAll - hardTarget) / (B * (C - 1)) : 0;
    }
    const logits = body.scatter(1, y, fy).mul(s);
    const loss = F.crossEntropy(logits, y.squeeze(1));
    const stats = noGrad(() => ({
      positiveCosine: cy.mean().item(),
      t,
      hardFraction,
      top1: c.argmax(1).eq(y.squeeze(1)).double().mean().item(),
    }));
    const result: MarginLossResult = { loss, stats };
    if (o.returnLogits) result.logits = noGrad(() => c.mul(s).detach());
    return result;
  });
}
