/** CosFace (additive cosine margin): target s·(cos θ_y − m), others s·cos θ_j. */
import { MarginHead, type MarginHeadOptions } from './margin-head.js';
import { normalKernel } from './head.js';
import type { MarginLossOptions } from '../ops/margin.js';

/** Options of {@link CosFaceHead}: s default 64, m default 0.35 (CosFace paper). */
export type CosFaceOptions = MarginHeadOptions;

/** CosFace head; kernel [D, C] ~ N(0, 0.01²). */
export class CosFaceHead extends MarginHead {
  constructor(o: CosFaceOptions) {
    super(o, 'cosface', { s: 64, m: 0.35 });
    this.kernel = this.registerParameter('kernel', normalKernel(this.embeddingSize, this.numClasses));
  }
  protected opOptions(): Omit<MarginLossOptions, 'returnLogits'> {
    return { target: 'cosface', negative: 'plain', s: this.s, m: this.m };
  }
}
