/**
 * The typed wrapper of the fused native margin op (native/ops/margin.cc): margin logits and the
 * mean cross-entropy of the margin family (CurricularFace, ArcFace, CosFace, MV-Arc-Softmax) in
 * one op with its own backward, holding a single [batch × classes] matrix.
 *
 * The embeddings are L2-normalised here with ATen ops (autograd through them, eps 1e-12 as
 * `F.normalize`); the kernel [D, C] is passed raw and its columns are normalised inside the op.
 * Public as `heads.marginLoss` (the functional form of the fused-family heads).
 */
import { native } from '../native.js';
import { functional as F, scope, type Tensor } from '../tensor/index.js';
import { handleOf, wrap } from '../tensor/tensor.js';

/** Target-logit function f(cos θ_y) (spec §2.2–2.6). */
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
  /** @internal Tests: NaN-fill the kernel's per-row outputs first, so an unwritten entry shows. */
  poison?: boolean;
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

/**
 * Fused margin loss from raw embeddings [B, D] and the raw class kernel [D, C]. Gradients flow to
 * both (through the embedding normalisation and the kernel's column normalisation).
 */
export function marginLoss(embeddings: Tensor, kernel: Tensor, labels: Tensor, o: MarginLossOptions): MarginLossResult {
  const target = TARGET[o.target];
  const negative = NEGATIVE[o.negative];
  if (target === undefined) throw new RangeError(`marginLoss: unknown target '${String(o.target)}'`);
  if (negative === undefined) throw new RangeError(`marginLoss: unknown negative '${String(o.negative)}'`);
  // float16/bfloat16: normalise in float32 (eps 1e-12 underflows to 0 in half precision).
  const low = embeddings.dtype === 'float16' || embeddings.dtype === 'bfloat16';
  const xhat = low
    ? scope(() => F.normalize(embeddings.float(), { p: 2, dim: 1, eps: 1e-12 }).to(embeddings.dtype))
    : F.normalize(embeddings, { p: 2, dim: 1, eps: 1e-12 });
  let out: [ReturnType<typeof handleOf>, ReturnType<typeof handleOf>, ReturnType<typeof handleOf> | null];
  try {
    out = native.marginLoss(handleOf(xhat, 'embeddings'), handleOf(kernel, 'kernel'), handleOf(labels, 'labels'), o.t ? handleOf(o.t, 't') : null, {
      target,
      negative,
      s: o.s,
      m: o.m,
      mvT: o.mvT ?? 0.2,
      training: o.training ?? false,
      tNewWeight: o.tNewWeight ?? 0.01,
      tStatistic: o.tStatistic === 'cos_m' ? 1 : 0,
      returnLogits: o.returnLogits ?? false,
      poison: o.poison ?? false,
    });
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
