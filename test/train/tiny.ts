/**
 * Test doubles for the trainer: a tiny CNN backbone (conv-BN-PReLU-dropout-pool-linear) and a
 * normalised-softmax head with a CurricularFace-style `t` buffer, as a `Backbone` and a `Head`.
 */
import { functional as F, noGrad, randn, scope, tensor, zeros, ones, type Tensor } from '../../lib/tensor/index.js';
import { renderFace, renderTemplate, makeIdentity, identitySeed } from '../../lib/data/synth.js';
import { Head, type HeadOutput } from '../../lib/heads/head.js';
import { Backbone } from '../../lib/models/backbone.js';
import type { BackboneSpec } from '../../lib/models/spec.js';
import { Module } from '../../lib/nn/module.js';

/** A named holder of parameters and buffers (so the state-dict keys read `conv.weight`, `bn.running_mean`…). */
class Params extends Module<[], never> {
  forward(): never {
    throw new Error('Params holds tensors only');
  }
}

/** What the tiny backbone would be as a spec (only its names and sizes are read: export, summary). */
function tinySpec(dim: number, dropout: number): BackboneSpec {
  return {
    block: 'ir',
    name: 'tiny',
    inputChannels: 3,
    inputSize: 16,
    stem: { channels: 8 },
    stages: [{ channels: 8, blocks: 1, stride: 2 }],
    head: { dropout, embeddingSize: dim, bnAffine: true },
    attention: 'none',
    init: 'kaiming',
  };
}

export class TinyBackbone extends Backbone {
  constructor(
    readonly dim = 16,
    readonly dropout = 0.1,
  ) {
    super(tinySpec(dim, dropout));
    const conv = this.registerModule('conv', new Params());
    const bn = this.registerModule('bn', new Params());
    const prelu = this.registerModule('prelu', new Params());
    const fc = this.registerModule('fc', new Params());
    conv.registerParameter('weight', randn([8, 3, 3, 3]).mul_(0.3));
    bn.registerParameter('weight', ones([8]));
    bn.registerParameter('bias', zeros([8]));
    bn.registerBuffer('running_mean', zeros([8]));
    bn.registerBuffer('running_var', ones([8]));
    prelu.registerParameter('weight', tensor([0.25]));
    fc.registerParameter('weight', randn([dim, 8 * 4 * 4]).mul_(0.1));
    fc.registerParameter('bias', zeros([dim]));
  }
  forward(x: Tensor): Tensor {
    const sd = this.stateDict(); // live tensors, re-read each call (`to()` replaces them)
    const p = (k: string) => sd.get(k)!;
    return scope(() => {
      let h = F.conv2d(x, p('conv.weight'), null, { stride: 2, padding: 1 });
      h = F.batchNorm(h, p('bn.running_mean'), p('bn.running_var'), { weight: p('bn.weight'), bias: p('bn.bias'), training: this.training });
      h = F.prelu(h, p('prelu.weight'));
      h = F.adaptiveAvgPool2d(h, [4, 4]).flatten(1);
      h = F.dropout(h, this.dropout, this.training);
      return F.linear(h, p('fc.weight'), p('fc.bias'));
    });
  }
  /** Weight-decay groups: BN affine parameters get none (docs/decisions/train.md T5). */
  groups(): { decay: Tensor[]; noDecay: Tensor[] } {
    const sd = this.stateDict();
    const noDecay = ['bn.weight', 'bn.bias'].map((k) => sd.get(k)!);
    return { decay: this.parameters().filter((p) => !noDecay.includes(p)), noDecay };
  }
}

export class TinyHead extends Head {
  /** Makes the loss NaN from this forward-call index on (for the divergence test). */
  nanAt = -1;
  calls = 0;
  constructor(
    numClasses: number,
    dim = 16,
    readonly s = 16,
  ) {
    super({ numClasses, embeddingSize: dim }, 'tiny');
    this.registerParameter('kernel', randn([dim, numClasses]).mul_(0.1));
    this.registerBuffer('t', zeros([1]));
  }
  forward(emb: Tensor, labels: Tensor): HeadOutput {
    const call = this.calls++;
    const sd = this.stateDict();
    return scope(() => {
      const w = F.normalize(sd.get('kernel')!, { dim: 0 });
      const cos = F.normalize(emb, { dim: 1 }).matmul(w).clamp(-1, 1);
      const cy = cos.gather(1, labels.unsqueeze(1));
      const t = sd.get('t')!;
      const pos = noGrad(() => cy.mean().item());
      noGrad(() => t.mul_(0.99).add_(0.01 * pos));
      let loss = F.crossEntropy(cos.mul(this.s), labels);
      if (this.nanAt >= 0 && call >= this.nanAt) loss = loss.mul(NaN);
      const hard = noGrad(() => cos.gt(cy).float().mean().item());
      return { loss, stats: { t: t.item(), positiveCosine: pos, hardFraction: hard } };
    });
  }
}

/** A tiny synthetic set: `ids` identities × `per` images of `size`² pixels (uint8 HWC). */
export function tinyFaces(ids: number, per: number, size: number, seed = 5): { images: Uint8Array[]; labels: number[] } {
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < ids; i++) {
    const tpl = renderTemplate(makeIdentity(identitySeed(seed, 'train', i)), Math.round(size * 1.25));
    for (let k = 0; k < per; k++) {
      images.push(renderFace(seed, 'train', i, k, size, { template: tpl }));
      labels.push(i);
    }
  }
  return { images, labels };
}

/** A tiny MobileFaceNet + ESCA backbone spec for 32×32 inputs (four ESCA blocks, embedding 16). */
export const tinyEscaSpec = {
  block: 'mobilefacenet',
  name: 'tiny-mobilefacenet-esca',
  inputChannels: 3,
  inputSize: 32,
  stem: { channels: 8, stride: 2 },
  stages: [
    { name: 'conv_23', channels: 8, hidden: 16, blocks: 1, stride: 2, residual: false },
    { name: 'conv_3', channels: 8, hidden: 16, blocks: 1, stride: 1, residual: true },
    { name: 'conv_34', channels: 16, hidden: 32, blocks: 1, stride: 2, residual: false },
    { name: 'conv_45', channels: 16, hidden: 32, blocks: 1, stride: 2, residual: false },
  ],
  head: { channels: 32, embeddingSize: 16 },
  attention: 'esca',
  init: 'kaiming',
};
