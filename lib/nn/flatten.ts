/** Flatten (torch.nn.Flatten): merges dimensions startDim..endDim (default 1..−1, keeping the batch). */
import type { Tensor } from '../tensor/index.js';
import { Module } from './module.js';

/** Flattens dimensions `startDim`..`endDim` into one (torch.nn.Flatten). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override traceShape(input: number[]): number[] {
    const n = input.length;
    const s = this.startDim < 0 ? this.startDim + n : this.startDim;
    const e = this.endDim < 0 ? this.endDim + n : this.endDim;
    if (s < 0 || e >= n || s > e) throw new RangeError(`Flatten(${this.startDim}, ${this.endDim}): invalid for a ${n}-d input`);
    const merged = input.slice(s, e + 1).reduce((a, b) => a * b, 1);
    return [...input.slice(0, s), merged, ...input.slice(e + 1)];
  }
}
