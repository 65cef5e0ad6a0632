/**
 * Common body of the heads of the fused margin family (CosFace, ArcFace, MV-Arc-Softmax,
 * CurricularFace): a class kernel [D, C] named `kernel` as in the reference code, and a forward
 * through the fused op (or the composed ops with `impl: 'composed'`).
 */
import type { Tensor } from '../tensor/index.js';
import { Head, headStats, type HeadBaseOptions, type HeadForwardOptions, type HeadOutput } from './head.js';
import { marginLoss, marginLossComposed, type MarginLossOptions } from '../ops/margin.js';
import { checkNumber } from '../check.js';

/** Options shared by the fused-family heads. */
export interface MarginHeadOptions extends HeadBaseOptions {
  /** Scale s. */
  s?: number;
  /** Margin m. */
  m?: number;
  /**
   * 'fused' (default): the native op, one [B × C] matrix, its own backward (single backward per
   * forward). 'composed': ATen ops with libtorch autograd (more memory; supports double backward).
   */
  impl?: 'fused' | 'composed';
}

/** Base of the fused-family heads. */
export abstract class MarginHead extends Head {
  /** Class weights [D, C] (`kernel`, as in the reference code); columns are normalised inside. */
  kernel!: Tensor;
  readonly s: number;
  readonly m: number;
  impl: 'fused' | 'composed';

  constructor(o: MarginHeadOptions, kind: string, defaults: { s: number; m: number }) {
    super(o, kind);
    this.s = checkNumber(`${kind} head: s`, o.s ?? defaults.s, { above: 0 });
    this.m = checkNumber(`${kind} head: m`, o.m ?? defaults.m);
    this.impl = o.impl ?? 'fused';
    if (this.impl !== 'fused' && this.impl !== 'composed') throw new RangeError(`${kind} head: impl must be 'fused' or 'composed'`);
  }

  /** The op options for this call (t handling included). */
  protected abstract opOptions(): Omit<MarginLossOptions, 'returnLogits'>;

  /** Whether stats carry t and the hard fraction. */
  protected get reportsT(): boolean {
    return false;
  }

  forward(embeddings: Tensor, labels: Tensor, options: HeadForwardOptions = {}): HeadOutput {
    this.checkInputs(embeddings, labels);
    const x = embeddings.dtype === this.kernel.dtype ? embeddings : embeddings.to(this.kernel.dtype);
    const o = { ...this.opOptions(), returnLogits: options.returnLogits ?? this.returnLogits };
    const r = this.impl === 'fused' ? marginLoss(x, this.kernel, labels, o) : marginLossComposed(x, this.kernel, labels, o);
    if (x !== embeddings) x.dispose();
    const out: HeadOutput = { loss: r.loss, stats: headStats(r.stats, this.reportsT) };
    if (r.logits) out.logits = r.logits;
    return out;
  }

  override extraRepr(): string {
    return `${super.extraRepr()}, s=${this.s}, m=${this.m}${this.impl === 'composed' ? ', composed' : ''}`;
  }
}
