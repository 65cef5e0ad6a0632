/**
 * ArcFace (additive angular margin): target s·f(cos θ_y), others s·cos θ_j, with the
 * "thresh" fallback by default (the CurricularFace repo's ArcFace, full gradient).
 */
import { MarginHead, type MarginHeadOptions } from './margin-head.js';
import { normalKernel } from './head.js';
import type { MarginLossOptions } from '../ops/margin.js';

/** Options of {@link ArcFaceHead}: s default 64, m default 0.5. */
export interface ArcFaceOptions extends MarginHeadOptions {
  /**
   * Target variant: 'thresh' (default): cos(θ+m) if cos θ > cos(π−m), else
   * cos θ − m·sin(π−m); 'easy': cos(θ+m) if cos θ > 0, else cos θ; 'plain': cos(θ+m) always.
   * insightface's straight-through variant is not offered (its gradient ignores the margin).
   */
  variant?: 'thresh' | 'easy' | 'plain';
}

/** ArcFace head; kernel [D, C] ~ N(0, 0.01²). */
export class ArcFaceHead extends MarginHead {
  readonly variant: 'thresh' | 'easy' | 'plain';
  constructor(o: ArcFaceOptions) {
    super(o, 'arcface', { s: 64, m: 0.5 });
    this.variant = o.variant ?? 'thresh';
    if (!['thresh', 'easy', 'plain'].includes(this.variant)) {
      throw new RangeError(`arcface head: variant must be 'thresh', 'easy' or 'plain', got '${String(o.variant)}'`);
    }
    this.kernel = this.registerParameter('kernel', normalKernel(this.embeddingSize, this.numClasses));
  }
  protected opOptions(): Omit<MarginLossOptions, 'returnLogits'> {
    return { target: this.variant, negative: 'plain', s: this.s, m: this.m };
  }
  override extraRepr(): string {
    return `${super.extraRepr()}, ${this.variant}`;
  }
}
