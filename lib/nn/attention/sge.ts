/**
 * SGE, spatial group-wise enhance (implus/PytorchInsight), G = 64 groups:
 * per group g, c_g = Σ_channels(x_g · GAP(x_g)), normalised over its H·W positions
 * ((c − mean) / (std_unbiased + 1e-5)), a_g = c_g·γ_g + β_g, out_g = x_g · σ(a_g).
 * Names `weight` (γ, init 0) and `bias` (β, init 1), both [1, G, 1, 1]. Params 2·G, 0 MACs.
 */
import { ones, scope, zeros, type Tensor } from '../../tensor/index.js';
import { Attention } from './base.js';

/** Spatial group-wise enhance: per channel group, a spatial gate from each position's similarity to the group's average. */
export class SGE extends Attention {
  readonly kind = 'sge' as const;
  weight: Tensor;
  bias: Tensor;

  constructor(channels: number, readonly groups = 64) {
    super(channels);
    if (channels % groups !== 0) throw new RangeError(`SGE: channels (${channels}) must be divisible by groups (${groups})`);
    this.weight = this.registerParameter('weight', zeros([1, groups, 1, 1]));
    this.bias = this.registerParameter('bias', ones([1, groups, 1, 1]));
  }

  forward(x: Tensor): Tensor {
    this.check(x.shape);
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const g = this.groups;
    return scope(() => {
      const xg = x.reshape(b * g, c / g, h, w);
      const xn = xg.mul(xg.mean([2, 3], true)).sum(1, true); // [bG, 1, H, W]
      let t = xn.view(b * g, h * w);
      t = t.sub(t.mean(1, true));
      t = t.div(t.std(1, { keepdim: true }).add(1e-5));
      const a = t.view(b, g, h, w).mul(this.weight).add(this.bias).view(b * g, 1, h, w);
      return xg.mul(a.sigmoid()).view(b, c, h, w);
    });
  }

  override traceShape(input: number[]): number[] {
    this.check(input);
    return input.slice();
  }
}
