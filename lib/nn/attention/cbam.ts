/**
 * CBAM (Woo et al. 2018; Jongchan/attention-module), reduction 16, spatial kernel 7:
 *   channel gate: a_c = σ(MLP(GAP(x)) + MLP(GMP(x))), MLP = Linear(C→C/16) → ReLU → Linear(C/16→C)
 *   (with biases, shared by both poolings, so its MACs count twice); x' = x · a_c
 *   spatial gate: a_s = σ(BN(conv7×7([max_c(x'), mean_c(x')]))), BN(1, momentum 0.01); out = x' · a_s.
 * Names `ChannelGate.mlp.1.*`, `ChannelGate.mlp.3.*`, `SpatialGate.spatial.conv.weight`,
 * `SpatialGate.spatial.bn.*`. Params 2·C·C/16 + C/16 + C + 98 + 2.
 * Init: the spatial-gate BN scale starts at 0 (σ(0) = 0.5), as the reference ResNet sets it.
 */
import { cat, scope, type Tensor } from '../../tensor/index.js';
import { ReLU } from '../activation.js';
import { BatchNorm2d } from '../batchnorm.js';
import { Sequential } from '../container.js';
import { Conv2d } from '../conv.js';
import { Flatten } from '../flatten.js';
import { constant_ } from '../init.js';
import { Linear } from '../linear.js';
import { Module, type Tracer } from '../module.js';
import { Attention } from './base.js';

/** CBAM's channel gate (returns the gated input). */
export class CBAMChannelGate extends Module {
  mlp: Sequential;
  constructor(readonly channels: number, reduction: number) {
    super();
    this.mlp = this.registerModule(
      'mlp',
      new Sequential(new Flatten(), new Linear(channels, channels / reduction), new ReLU(), new Linear(channels / reduction, channels)),
    );
  }
  forward(x: Tensor): Tensor {
    return scope(() => {
      const [n, c] = x.shape as [number, number];
      const avg = this.mlp.forward(x.mean([2, 3], true));
      const max = this.mlp.forward(x.max([2, 3], true));
      return x.mul(avg.add(max).sigmoid().view(n, c, 1, 1));
    });
  }
  override traceShape(input: number[], tracer: Tracer): number[] {
    const pooled = [input[0]!, input[1]!, 1, 1];
    tracer.run(this.mlp, pooled);
    tracer.run(this.mlp, pooled);
    return input.slice();
  }
}

/** conv 7×7 (2 → 1, no bias) + BN(1): CBAM's `SpatialGate.spatial` (BasicConv without ReLU). */
export class CBAMSpatialConv extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  constructor(kernelSize: number) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(2, 1, kernelSize, { padding: (kernelSize - 1) / 2, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(1, { eps: 1e-5, momentum: 0.01 }));
  }
  forward(x: Tensor): Tensor {
    return scope(() => this.bn.forward(this.conv.forward(x)));
  }
  override traceShape(input: number[], tracer: Tracer): number[] {
    return tracer.run(this.bn, tracer.run(this.conv, input));
  }
}

/** CBAM's spatial gate (returns the gated input). */
export class CBAMSpatialGate extends Module {
  spatial: CBAMSpatialConv;
  constructor(kernelSize: number) {
    super();
    this.spatial = this.registerModule('spatial', new CBAMSpatialConv(kernelSize));
  }
  forward(x: Tensor): Tensor {
    return scope(() => {
      const pooled = cat([x.max(1, true), x.mean(1, true)], 1);
      return x.mul(this.spatial.forward(pooled).sigmoid());
    });
  }
  override traceShape(input: number[], tracer: Tracer): number[] {
    tracer.run(this.spatial, [input[0]!, 2, input[2]!, input[3]!]);
    return input.slice();
  }
}

/** CBAM: channel attention, then spatial attention on its output. */
export class CBAM extends Attention {
  readonly kind = 'cbam' as const;
  ChannelGate: CBAMChannelGate;
  SpatialGate: CBAMSpatialGate;

  constructor(channels: number, readonly reduction = 16, readonly kernelSize = 7) {
    super(channels);
    if (channels % reduction !== 0) throw new RangeError(`CBAM: channels (${channels}) must be divisible by reduction (${reduction})`);
    this.ChannelGate = this.registerModule('ChannelGate', new CBAMChannelGate(channels, reduction));
    this.SpatialGate = this.registerModule('SpatialGate', new CBAMSpatialGate(kernelSize));
    this.afterBackboneInit();
  }

  override afterBackboneInit(): void {
    constant_(this.SpatialGate.spatial.bn.weight!, 0);
  }

  forward(x: Tensor): Tensor {
    this.check(x.shape);
    return scope(() => this.SpatialGate.forward(this.ChannelGate.forward(x)));
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    this.check(input);
    return tracer.run(this.SpatialGate, tracer.run(this.ChannelGate, input));
  }
}
