/**
 * Batch normalisation (torch.nn.BatchNorm1d / BatchNorm2d): eps 1e-5, momentum 0.1, affine by
 * default. In training mode the batch statistics normalise and the running statistics are
 * updated (running = (1 − momentum)·running + momentum·batch, unbiased batch variance) and
 * `num_batches_tracked` (int64) counts the batches; in eval mode the running statistics normalise.
 */
import { functional as F, ones, zeros, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';
import { checkInt } from '../check.js';

/** Options of the BatchNorm layers. */
export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  /** Learnable scale `weight` (init 1) and shift `bias` (init 0); default true. */
  affine?: boolean;
}

/** Shared implementation; use {@link BatchNorm1d} or {@link BatchNorm2d}. */
export abstract class BatchNorm extends Module {
  weight: Tensor | null = null;
  bias: Tensor | null = null;
  running_mean: Tensor;
  running_var: Tensor;
  num_batches_tracked: Tensor;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;

  protected abstract readonly allowedDims: number[];

  constructor(readonly numFeatures: number, o: BatchNormOptions = {}) {
    super();
    checkInt(`${new.target.name}: numFeatures`, numFeatures, 1);
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    this.affine = o.affine ?? true;
    if (this.affine) {
      this.weight = this.registerParameter('weight', ones([numFeatures]));
      this.bias = this.registerParameter('bias', zeros([numFeatures]));
    }
    this.running_mean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.running_var = this.registerBuffer('running_var', ones([numFeatures]));
    this.num_batches_tracked = this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
  }

  #check(shape: number[]): void {
    if (!this.allowedDims.includes(shape.length) || shape[1] !== this.numFeatures) {
      const want = this.allowedDims.length === 1 ? '[N, C, H, W]' : '[N, C] or [N, C, L]';
      throw new RangeError(`${this.constructor.name}(${this.numFeatures}): expected input ${want} with C = ${this.numFeatures}, got [${shape.join(', ')}]`);
    }
  }

  forward(x: Tensor): Tensor {
    const shape = x.shape;
    this.#check(shape);
    if (this.training && shape.reduce((a, b) => a * b, 1) / shape[1]! === 1) {
      // as PyTorch: one value per channel has no batch statistics (the output would be all zeros)
      throw new RangeError(
        `${this.constructor.name}(${this.numFeatures}): expected more than 1 value per channel when training, got input [${shape.join(', ')}] (use a batch of 2 or more, or eval())`,
      );
    }
    // a buffer without requiresGrad: the in-place add records nothing for autograd
    if (this.training) this.num_batches_tracked.add_(1);
    return F.batchNorm(x, this.running_mean, this.running_var, {
      weight: this.weight,
      bias: this.bias,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }

  override traceShape(input: number[]): number[] {
    this.#check(input);
    return input.slice();
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}`;
  }
}

/** BatchNorm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNorm {
  protected readonly allowedDims = [2, 3];
}

/** BatchNorm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNorm {
  protected readonly allowedDims = [4];
}
