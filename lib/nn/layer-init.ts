/** The initialisation PyTorch gives its layers when they are made (`reset_parameters`). */
import type { Tensor } from '../tensor/index.js';
import { fans } from './fans.js';
import { kaimingUniform_, uniform_ } from './init.js';

/**
 * PyTorch's default initialisation of Conv and Linear layers: weight kaiming_uniform(a = √5),
 * i.e. U(−1/√fan_in, 1/√fan_in), and bias U(−1/√fan_in, 1/√fan_in).
 */
export function defaultLayerInit_(weight: Tensor, bias?: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = fans(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}
