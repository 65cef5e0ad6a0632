/** Dropout (torch.nn.Dropout): zeroes elements with probability p in training mode, scaling the rest by 1/(1−p). */
import { functional as F, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';
import { checkProbability } from '../check.js';

/** Dropout with probability `p`, active in training mode only. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkProbability('Dropout: p', p);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return F.dropout(x, this.p, true);
  }
  override traceShape(input: number[]): number[] {
    return input.slice();
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
