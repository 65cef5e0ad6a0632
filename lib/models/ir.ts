/**
 * IR backbones in the CurricularFace / face.evoLVe layout (docs/models.md), built from an
 * {@link IRSpec}. state_dict names match the reference exactly:
 *   input_layer.{0: conv3×3, 1: BN, 2: PReLU}
 *   body.<g>.res_layer.{0: BN(in), 1: conv3×3 in→d, 2: PReLU(d), 3: conv3×3 d→d stride s, 4: BN(d), 5: attention}
 *   body.<g>.shortcut_layer = MaxPool2d(1, s) when in = d, else {0: conv1×1 stride s, 1: BN(d)}
 *   output_layer.{0: BN2d, 1: Dropout, 2: Flatten, 3: Linear (bias), 4: BN1d}
 * (g runs over all blocks of all stages). Output = res_layer(x) + shortcut_layer(x), no activation after the add.
 */
import { scope, type Tensor } from '../tensor/index.js';
import { PReLU } from '../nn/activation.js';
import { attention } from '../nn/attention/factory.js';
import type { AttentionKind } from '../nn/attention/base.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/batchnorm.js';
import { Sequential } from '../nn/container.js';
import { Conv2d, convOutSize } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Flatten } from '../nn/flatten.js';
import { Linear } from '../nn/linear.js';
import { Module, type Tracer } from '../nn/module.js';
import { MaxPool2d } from '../nn/pooling.js';
import { Backbone, kaimingInit } from './backbone.js';
import type { IRSpec } from './spec.js';

/** `bottleneck_IR(in, d, s)`: the improved-residual basic block, attention at res_layer.5. */
export class BottleneckIR extends Module {
  res_layer: Sequential;
  shortcut_layer: Module;

  constructor(readonly inChannels: number, readonly depth: number, readonly stride: number, attentionKind: AttentionKind = 'none') {
    super();
    const res = new Sequential(
      new BatchNorm2d(inChannels),
      new Conv2d(inChannels, depth, 3, { padding: 1, bias: false }),
      new PReLU(depth),
      new Conv2d(depth, depth, 3, { stride, padding: 1, bias: false }),
      new BatchNorm2d(depth),
    );
    const att = attention(attentionKind, depth);
    if (att !== null) res.append(att);
    this.res_layer = this.registerModule('res_layer', res);
    this.shortcut_layer = this.registerModule(
      'shortcut_layer',
      inChannels === depth
        ? new MaxPool2d(1, { stride })
        : new Sequential(new Conv2d(inChannels, depth, 1, { stride, bias: false }), new BatchNorm2d(depth)),
    );
  }

  forward(x: Tensor): Tensor {
    return scope(() => this.res_layer.forward(x).add(this.shortcut_layer.forward(x)));
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    const r = tracer.run(this.res_layer, input);
    const s = tracer.run(this.shortcut_layer, input);
    if (r.join() !== s.join()) throw new Error(`BottleneckIR: residual [${r.join(', ')}] and shortcut [${s.join(', ')}] shapes differ`);
    return r;
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.depth}, stride=${this.stride}`;
  }
}

/** An IR backbone (IR_18 … IR_152, or any {@link IRSpec}). */
export class IRBackbone extends Backbone {
  declare readonly spec: IRSpec;
  input_layer: Sequential;
  body: Sequential;
  output_layer: Sequential;

  constructor(spec: IRSpec) {
    super(spec);
    const c0 = spec.stem.channels;
    this.input_layer = this.registerModule(
      'input_layer',
      new Sequential(new Conv2d(spec.inputChannels, c0, 3, { padding: 1, bias: false }), new BatchNorm2d(c0), new PReLU(c0)),
    );
    const body = new Sequential();
    let inC = c0;
    let size = spec.inputSize;
    for (const st of spec.stages) {
      for (let i = 0; i < st.blocks; i++) {
        const s = i === 0 ? st.stride : 1;
        body.append(new BottleneckIR(inC, st.channels, s, spec.attention));
        inC = st.channels;
        size = convOutSize(size, 3, s, 1);
      }
    }
    this.body = this.registerModule('body', body);
    const e = spec.head.embeddingSize;
    this.output_layer = this.registerModule(
      'output_layer',
      new Sequential(
        new BatchNorm2d(inC),
        new Dropout(spec.head.dropout),
        new Flatten(),
        new Linear(inC * size * size, e),
        new BatchNorm1d(e, { affine: spec.head.bnAffine }),
      ),
    );
    if (spec.init === 'kaiming') kaimingInit(this);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return scope(() => this.output_layer.forward(this.body.forward(this.input_layer.forward(x))));
  }

  /** The body's output map [N, C, 7, 7] (CurricularFace's second output, before output_layer). */
  features(x: Tensor): Tensor {
    this.checkInput(x);
    return scope(() => this.body.forward(this.input_layer.forward(x)));
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    return tracer.run(this.output_layer, tracer.run(this.body, tracer.run(this.input_layer, input)));
  }
}
