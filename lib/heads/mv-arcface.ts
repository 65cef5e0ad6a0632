/**
 * MV-Arc-Softmax (mis-classified vector guided, adaptive variant; the official SV-X code's semantics):
 * ctm = cos(θ_y + m) with no fallback; negatives with cos θ_j > ctm become (t + 1)·cos θ_j + t
 * (t fixed, 0.2 in the official code); target ctm if cos θ_y > 0 else cos θ_y (easy margin).
 */
import { MarginHead, type MarginHeadOptions } from './margin-head.js';
import { uniformUnitKernel } from './head.js';
import type { MarginLossOptions } from '../ops/margin.js';
import { checkNumber } from '../check.js';

/** Options of {@link MvArcFaceHead}: s 64, m 0.5, t 0.2, easyMargin true (the official code's semantics with the common s and m). */
export interface MvArcFaceOptions extends MarginHeadOptions {
  /** The fixed t of the hard-negative reweighting (default 0.2; the paper's 1.2 is 1 + t). */
  t?: number;
  /** Target ctm only where cos θ_y > 0 (default true); false: ctm everywhere. */
  easyMargin?: boolean;
}

/** MV-Arc-Softmax head; kernel [D, C] ~ U(−1, 1) with unit columns. */
export class MvArcFaceHead extends MarginHead {
  readonly t: number;
  readonly easyMargin: boolean;
  constructor(o: MvArcFaceOptions) {
    super(o, 'mv-arcface', { s: 64, m: 0.5 });
    this.t = checkNumber('mv-arcface head: t', o.t ?? 0.2);
    this.easyMargin = o.easyMargin ?? true;
    this.kernel = this.registerParameter('kernel', uniformUnitKernel(this.embeddingSize, this.numClasses));
  }
  protected opOptions(): Omit<MarginLossOptions, 'returnLogits'> {
    return { target: this.easyMargin ? 'easy' : 'plain', negative: 'mv', s: this.s, m: this.m, mvT: this.t };
  }
  protected override get reportsT(): boolean {
    return true;
  }
  override extraRepr(): string {
    return `${super.extraRepr()}, t=${this.t}${this.easyMargin ? ', easy margin' : ''}`;
  }
}
