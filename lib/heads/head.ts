/**
 * What every classification head shares: the forward signature, the output, the class-kernel
 * initialisers of the reference heads, and the input checks.
 */
import { Module } from '../nn/module.js';
import { empty, noGrad, type Tensor } from '../tensor/index.js';
import type { MarginStats } from '../ops/margin.js';
import { checkInt } from '../check.js';

/** Per-batch statistics of a head, as plain numbers. */
export interface HeadStats {
  /** Mean target cosine cos θ_y (clamped, no margin). */
  positiveCosine: number;
  /** CurricularFace: the t used by this batch (after its update in training mode); MV-Arc: the fixed t. */
  t?: number;
  /** CurricularFace / MV-Arc: hard negatives over the B·(C − 1) non-target entries. */
  hardFraction?: number;
  /** Fraction of the batch whose largest un-margined logit is the label (training top-1). */
  top1?: number;
  /** MagFace: mean of the clamped feature norm a. */
  meanNorm?: number;
}

/** Result of a head's forward. */
export interface HeadOutput {
  /** The training loss (mean over the batch), with gradient. */
  loss: Tensor;
  /** Un-margined logits (s·cos θ, or x·W + b for softmax), no grad: only with `returnLogits`. */
  logits?: Tensor;
  stats: HeadStats;
}

/** Per-call options of a head's forward. */
export interface HeadForwardOptions {
  /** Also return the un-margined logits [B, C] (one more [B × C] matrix). Default: the head's option. */
  returnLogits?: boolean;
}

/** Options every head takes. */
export interface HeadBaseOptions {
  numClasses: number;
  /** Embedding size D (default 512). */
  embeddingSize?: number;
  /** Default of {@link HeadForwardOptions.returnLogits} (false). */
  returnLogits?: boolean;
}

/** Base class of the heads: `forward(embeddings [B, D], labels [B] int64) → { loss, logits?, stats }`. */
export abstract class Head extends Module<[Tensor, Tensor, HeadForwardOptions?], HeadOutput> {
  readonly numClasses: number;
  readonly embeddingSize: number;
  returnLogits: boolean;

  constructor(o: HeadBaseOptions, readonly kind: string) {
    super();
    const D = o.embeddingSize ?? 512;
    checkInt(`${kind} head: numClasses`, o.numClasses, 1);
    checkInt(`${kind} head: embeddingSize`, D, 1);
    this.numClasses = o.numClasses;
    this.embeddingSize = D;
    this.returnLogits = o.returnLogits ?? false;
  }

  /** Checks shapes and label dtype; throws errors naming the argument. */
  protected checkInputs(embeddings: Tensor, labels: Tensor): void {
    const es = embeddings.shape;
    if (es.length !== 2 || es[1] !== this.embeddingSize) {
      throw new RangeError(`${this.kind} head: embeddings must be [B, ${this.embeddingSize}], got [${es.join(', ')}]`);
    }
    const ls = labels.shape;
    if (ls.length !== 1 || ls[0] !== es[0]) {
      throw new RangeError(`${this.kind} head: labels must be [${es[0]}] (one per embedding), got [${ls.join(', ')}]`);
    }
    if (labels.dtype.startsWith('float') || labels.dtype === 'bfloat16' || labels.dtype === 'bool') {
      throw new TypeError(`${this.kind} head: labels must be an integer tensor (int64), got ${labels.dtype}`);
    }
  }

  override extraRepr(): string {
    return `${this.embeddingSize} → ${this.numClasses}`;
  }
}

/** @internal Converts the fused op's stats to a head's, keeping the fields that apply. */
export function headStats(s: MarginStats, withT: boolean): HeadStats {
  const out: HeadStats = { positiveCosine: s.positiveCosine, top1: s.top1 };
  if (withT) {
    out.t = s.t;
    out.hardFraction = s.hardFraction;
  }
  return out;
}

/** Kernel [D, C] ~ N(0, std²) (CurricularFace/ArcFace: std 0.01). */
export function normalKernel(D: number, C: number, std = 0.01): Tensor {
  const w = empty([D, C]);
  noGrad(() => w.normal_(0, std));
  return w;
}

/**
 * Kernel [D, C] ~ U(−1, 1), then every column rescaled to norm 1 (MV-Softmax and MagFace:
 * `uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)`).
 */
export function uniformUnitKernel(D: number, C: number): Tensor {
  const w = empty([D, C]);
  noGrad(() => {
    w.uniform_(-1, 1);
    const n = w.norm(2, 0, true);
    w.copy_(w.div(n));
    n.dispose();
  });
  return w;
}
