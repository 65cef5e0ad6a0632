/**
 * SE (IR-SE of CurricularFace / face.evoLVe), reduction 16:
 * out = x · σ(fc2(ReLU(fc1(GAP(x))))), fc1/fc2 1×1 convs without bias.
 * Names `fc1.weight` [C/16, C, 1, 1], `fc2.weight` [C, C/16, 1, 1]. Params 2·C·C/16.
 * The constructor applies xavier_uniform to fc1 as the reference; a backbone's Kaiming loop then
 * overwrites both convs (as CurricularFace's does).
 */
import { scope, type Tensor } from '../../tensor/index.js';
import { Conv2d } from '../conv.js';
import { xavierUniform_ } from '../init.js';
import type { Tracer } from '../module.js';
import { Attention } from './base.js';

/** Squeeze-and-excitation channel attention. */
export class SE extends Attention {
  readonly kind = 'se' as const;
  fc1: Conv2d;
  fc2: Conv2d;

  constructor(channels: number, readonly reduction = 16) {
    super(channels);
    if (channels % reduction !== 0) throw new RangeError(`SE: channels (${channels}) must be divisible by reduction (${reduction})`);
    const h = channels / reduction;
    this.fc1 = this.registerModule('fc1', new Conv2d(channels, h, 1, { bias: false }));
    this.fc2 = this.registerModule('fc2', new Conv2d(h, channels, 1, { bias: false }));
    xavierUniform_(this.fc1.weight);
  }

  forward(x: Tensor): Tensor {
    this.check(x.shape);
    return scope(() => {
      const s = x.mean([2, 3], true);
      const e = this.fc2.forward(this.fc1.forward(s).relu()).sigmoid();
      return x.mul(e);
    });
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    this.check(input);
    tracer.run(this.fc2, tracer.run(this.fc1, [input[0]!, this.channels, 1, 1]));
    return input.slice();
  }
}
