/** Fully connected layer (torch.nn.Linear), with PyTorch's default initialisation. */
import { empty, functional as F, type Tensor } from '../tensor/index.js';
import { defaultLayerInit_ } from './layer-init.js';
import { Module } from './module.js';
import { checkInt } from '../check.js';

/** y = x Wᵀ + b over the last dimension; weight [out, in]. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null = null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    o: { bias?: boolean } = {},
  ) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      checkInt(`Linear: ${n}`, v, 1);
    }
    this.weight = this.registerParameter('weight', empty([outFeatures, inFeatures]));
    if (o.bias ?? true) this.bias = this.registerParameter('bias', empty([outFeatures]));
    defaultLayerInit_(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }

  override traceShape(input: number[]): number[] {
    if (input.length < 1 || input[input.length - 1] !== this.inFeatures) {
      throw new RangeError(`Linear: expected input [..., ${this.inFeatures}], got [${input.join(', ')}]`);
    }
    return [...input.slice(0, -1), this.outFeatures];
  }

  override macs(input: number[]): number {
    return input.slice(0, -1).reduce((a, b) => a * b, 1) * this.inFeatures * this.outFeatures;
  }

  override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}${this.bias === null ? ', bias=false' : ''}`;
  }
}
