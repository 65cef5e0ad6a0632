/** Activation layers (torch.nn.PReLU, ReLU, Sigmoid) and Identity. */
import { full, functional as F, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';
import { checkInt } from '../check.js';

/** Parametric ReLU: max(0, x) + a·min(0, x), one slope per channel (dimension 1), init 0.25. */
export class PReLU extends Module {
  weight: Tensor;

  constructor(readonly numChannels = 1, init = 0.25) {
    super();
    checkInt('PReLU: numParameters', numChannels, 1);
    this.weight = this.registerParameter('weight', full([numChannels], init));
  }

  forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }

  override traceShape(input: number[]): number[] {
    if (this.numChannels !== 1 && input[1] !== this.numChannels) {
      throw new RangeError(`PReLU(${this.numChannels}): input has ${input[1]} channels`);
    }
    return input.slice();
  }

  override extraRepr(): string {
    return `${this.numChannels}`;
  }
}

/** max(0, x). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
  override traceShape(input: number[]): number[] {
    return input.slice();
  }
}

/** 1 / (1 + e^−x). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
  override traceShape(input: number[]): number[] {
    return input.slice();
  }
}

/** Returns its input (a placeholder, e.g. "no attention"). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
  override traceShape(input: number[]): number[] {
    return input.slice();
  }
}
