/**
 * BAM (Park et al. 2018; Jongchan/attention-module), reduction 16, two dilated convs
 * (dilation 4):
 *   Mc(x) = Linear(C→h) → BN1d → ReLU → Linear(h→C) on GAP(x)            (C×1×1)
 *   Ms(x) = conv1×1(C→h) → BN → ReLU → 2 × [conv3×3 dil 4 (h→h) → BN → ReLU] → conv1×1(h→1)   (1×H×W)
 *   out = x · (1 + σ(Mc(x) · Ms(x))),  h = C/16, every Linear/conv with bias.
 * Names as the reference: `channel_att.gate_c.gate_c_fc_0.*`, `…gate_c_bn_1.*`, `…gate_c_fc_final.*`,
 * `spatial_att.gate_s.gate_s_conv_reduce0.*`, `…gate_s_bn_reduce0.*`, `…gate_s_conv_di_{0,1}.*`,
 * `…gate_s_bn_di_{0,1}.*`, `…gate_s_conv_final.*`. Params 3·C·h + 18·h² + 13·h + C + 1.
 * BN1d in training mode needs batch > 1.
 */
import { scope, type Tensor } from '../../tensor/index.js';
import { ReLU } from '../activation.js';
import { BatchNorm1d, BatchNorm2d } from '../batchnorm.js';
import { Sequential } from '../container.js';
import { Conv2d } from '../conv.js';
import { Flatten } from '../flatten.js';
import { Linear } from '../linear.js';
import { Module, type Tracer } from '../module.js';
import { Attention } from './base.js';

/** BAM's channel branch Mc: [N, C, H, W] → [N, C, 1, 1]. */
export class BAMChannelGate extends Module {
  gate_c: Sequential;
  constructor(readonly channels: number, reduction: number) {
    super();
    const h = channels / reduction;
    this.gate_c = this.registerModule(
      'gate_c',
      Sequential.named([
        ['flatten', new Flatten()],
        ['gate_c_fc_0', new Linear(channels, h)],
        ['gate_c_bn_1', new BatchNorm1d(h)],
        ['gate_c_relu_1', new ReLU()],
        ['gate_c_fc_final', new Linear(h, channels)],
      ]),
    );
  }
  forward(x: Tensor): Tensor {
    const [n, c] = x.shape as [number, number];
    return scope(() => this.gate_c.forward(x.mean([2, 3], true)).view(n, c, 1, 1));
  }
  override traceShape(input: number[], tracer: Tracer): number[] {
    tracer.run(this.gate_c, [input[0]!, input[1]!, 1, 1]);
    return [input[0]!, input[1]!, 1, 1];
  }
}

/** BAM's spatial branch Ms: [N, C, H, W] → [N, 1, H, W]. */
export class BAMSpatialGate extends Module {
  gate_s: Sequential;
  constructor(channels: number, reduction: number, dilationConvs = 2, dilation = 4) {
    super();
    const h = channels / reduction;
    const layers: [string, Module][] = [
      ['gate_s_conv_reduce0', new Conv2d(channels, h, 1)],
      ['gate_s_bn_reduce0', new BatchNorm2d(h)],
      ['gate_s_relu_reduce0', new ReLU()],
    ];
    for (let i = 0; i < dilationConvs; i++) {
      layers.push([`gate_s_conv_di_${i}`, new Conv2d(h, h, 3, { padding: dilation, dilation })]);
      layers.push([`gate_s_bn_di_${i}`, new BatchNorm2d(h)]);
      layers.push([`gate_s_relu_di_${i}`, new ReLU()]);
    }
    layers.push(['gate_s_conv_final', new Conv2d(h, 1, 1)]);
    this.gate_s = this.registerModule('gate_s', Sequential.named(layers));
  }
  forward(x: Tensor): Tensor {
    return this.gate_s.forward(x);
  }
  override traceShape(input: number[], tracer: Tracer): number[] {
    return tracer.run(this.gate_s, input);
  }
}

/** BAM: a channel and a spatial branch in parallel, applied as x · (1 + σ(Mc(x) · Ms(x))). */
export class BAM extends Attention {
  readonly kind = 'bam' as const;
  channel_att: BAMChannelGate;
  spatial_att: BAMSpatialGate;

  constructor(channels: number, readonly reduction = 16) {
    super(channels);
    if (channels % reduction !== 0) throw new RangeError(`BAM: channels (${channels}) must be divisible by reduction (${reduction})`);
    this.channel_att = this.registerModule('channel_att', new BAMChannelGate(channels, reduction));
    this.spatial_att = this.registerModule('spatial_att', new BAMSpatialGate(channels, reduction));
  }

  forward(x: Tensor): Tensor {
    this.check(x.shape);
    return scope(() => {
      const att = this.channel_att.forward(x).mul(this.spatial_att.forward(x)).sigmoid().add(1);
      return x.mul(att);
    });
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    this.check(input);
    tracer.run(this.channel_att, input);
    tracer.run(this.spatial_att, input);
    return input.slice();
  }
}
