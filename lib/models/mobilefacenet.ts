/**
 * MobileFaceNet in the face.evoLVe / TreB1eN layout (docs/models.md), built from a
 * {@link MobileFaceNetSpec}. state_dict names match face.evoLVe:
 *   conv1.{conv,bn,prelu}, conv2_dw.{conv,bn,prelu},
 *   <stage>.{conv,conv_dw,project}.* (non-residual stride-2 blocks: conv_23, conv_34, conv_45),
 *   <stage>.model.<i>.{conv,conv_dw,project}.* (residual stages: conv_3, conv_4, conv_5),
 *   conv_6_sep.{conv,bn,prelu}, conv_6_dw.{conv,bn}, linear.weight, bn.*
 * and the attention (ECACFace, no reference name) as `<block>.attention.*`, after `project`,
 * before the residual add, in all 15 bottlenecks.
 */
import { scope, type Tensor } from '../tensor/index.js';
import { PReLU } from '../nn/activation.js';
import { attention } from '../nn/attention/factory.js';
import type { Attention, AttentionKind } from '../nn/attention/base.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/batchnorm.js';
import { Sequential } from '../nn/container.js';
import { Conv2d, convOutSize } from '../nn/conv.js';
import { Flatten } from '../nn/flatten.js';
import { Linear } from '../nn/linear.js';
import { Module, type Tracer } from '../nn/module.js';
import { Backbone, kaimingInit } from './backbone.js';
import type { MobileFaceNetSpec } from './spec.js';

/** `Conv_block` (conv + BN + PReLU) or, with `activation: false`, `Linear_block` (conv + BN). */
export class ConvBlock extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  prelu: PReLU | null = null;

  constructor(inC: number, outC: number, o: { kernel?: number; stride?: number; padding?: number; groups?: number; activation?: boolean } = {}) {
    super();
    this.conv = this.registerModule(
      'conv',
      new Conv2d(inC, outC, o.kernel ?? 1, { stride: o.stride ?? 1, padding: o.padding ?? 0, groups: o.groups ?? 1, bias: false }),
    );
    this.bn = this.registerModule('bn', new BatchNorm2d(outC));
    if (o.activation ?? true) this.prelu = this.registerModule('prelu', new PReLU(outC));
  }

  forward(x: Tensor): Tensor {
    return scope(() => {
      const y = this.bn.forward(this.conv.forward(x));
      return this.prelu ? this.prelu.forward(y) : y;
    });
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    const y = tracer.run(this.bn, tracer.run(this.conv, input));
    return this.prelu ? tracer.run(this.prelu, y) : y;
  }
}

/** `Depth_Wise(in, out, residual, stride, hidden)`: 1×1 expand → 3×3 depthwise → 1×1 project (linear) [→ attention] [+ x]. */
export class DepthWise extends Module {
  conv: ConvBlock;
  conv_dw: ConvBlock;
  project: ConvBlock;
  attention: Attention | null = null;

  constructor(inC: number, outC: number, readonly residual: boolean, stride: number, hidden: number, attentionKind: AttentionKind = 'none') {
    super();
    if (residual && (stride !== 1 || inC !== outC)) throw new RangeError(`DepthWise: a residual block needs stride 1 and in = out, got ${inC}→${outC} stride ${stride}`);
    this.conv = this.registerModule('conv', new ConvBlock(inC, hidden));
    this.conv_dw = this.registerModule('conv_dw', new ConvBlock(hidden, hidden, { kernel: 3, stride, padding: 1, groups: hidden }));
    this.project = this.registerModule('project', new ConvBlock(hidden, outC, { activation: false }));
    const att = attention(attentionKind, outC);
    if (att !== null) this.attention = this.registerModule('attention', att);
  }

  forward(x: Tensor): Tensor {
    return scope(() => {
      let y = this.project.forward(this.conv_dw.forward(this.conv.forward(x)));
      if (this.attention) y = this.attention.forward(y);
      return this.residual ? y.add(x) : y;
    });
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    let y = tracer.run(this.project, tracer.run(this.conv_dw, tracer.run(this.conv, input)));
    if (this.attention) y = tracer.run(this.attention, y);
    return y;
  }
}

/** `Residual(c, num_block, groups)`: a stage of residual DepthWise blocks under `.model`. */
export class ResidualStage extends Module {
  model: Sequential;
  constructor(channels: number, blocks: number, hidden: number, attentionKind: AttentionKind = 'none') {
    super();
    this.model = this.registerModule('model', new Sequential());
    for (let i = 0; i < blocks; i++) this.model.append(new DepthWise(channels, channels, true, 1, hidden, attentionKind));
  }
  forward(x: Tensor): Tensor {
    return this.model.forward(x);
  }
  override traceShape(input: number[], tracer: Tracer): number[] {
    return tracer.run(this.model, input);
  }
}

/** MobileFaceNet (or any {@link MobileFaceNetSpec}). */
export class MobileFaceNet extends Backbone {
  declare readonly spec: MobileFaceNetSpec;
  #sequence: Module[] = [];

  constructor(spec: MobileFaceNetSpec) {
    super(spec);
    const c0 = spec.stem.channels;
    const add = <M extends Module>(name: string, m: M): M => {
      this.#sequence.push(this.registerModule(name, m));
      return m;
    };
    add('conv1', new ConvBlock(spec.inputChannels, c0, { kernel: 3, stride: spec.stem.stride, padding: 1 }));
    add('conv2_dw', new ConvBlock(c0, c0, { kernel: 3, padding: 1, groups: c0 }));
    let inC = c0;
    let size = convOutSize(spec.inputSize, 3, spec.stem.stride, 1);
    for (const st of spec.stages) {
      if (st.residual) add(st.name, new ResidualStage(st.channels, st.blocks, st.hidden, spec.attention));
      else add(st.name, new DepthWise(inC, st.channels, false, st.stride, st.hidden, spec.attention));
      inC = st.channels;
      size = convOutSize(size, 3, st.stride, 1);
    }
    const h = spec.head.channels;
    add('conv_6_sep', new ConvBlock(inC, h));
    add('conv_6_dw', new ConvBlock(h, h, { kernel: size, groups: h, activation: false }));
    add('conv_6_flatten', new Flatten());
    add('linear', new Linear(h, spec.head.embeddingSize, { bias: false }));
    add('bn', new BatchNorm1d(spec.head.embeddingSize));
    if (spec.init === 'kaiming') kaimingInit(this);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return scope(() => {
      let h = x;
      for (const m of this.#sequence) {
        const next = m.forward(h);
        if (h !== x) h.dispose();
        h = next;
      }
      return h;
    });
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    let s = input;
    for (const m of this.#sequence) s = tracer.run(m, s);
    return s;
  }
}
