/**
 * Test doubles for the trainer: a tiny CNN backbone (conv-BN-PReLU-dropout-pool-linear) and a
 * normalised-softmax head with a CurricularFace-style `t` buffer, both structural TrainableModules.
 */
import { functional as F, noGrad, randn, scope, tensor, zeros, ones, type Tensor } from '../../lib/tensor/index.js';
import { renderFace, renderTemplate, makeIdentity, identitySeed } from '../../lib/data/synth.js';
import type { BackboneLike, HeadLike } from '../../lib/train/types.js';

abstract class Tiny {
  protected params = new Map<string, Tensor>();
  protected buffers = new Map<string, Tensor>();
  training = true;
  parameters(): Tensor[] {
    return [...this.params.values()];
  }
  namedParameters(): [string, Tensor][] {
    return [...this.params];
  }
  stateDict(): Map<string, Tensor> {
    return new Map([...this.params, ...this.buffers]);
  }
  loadStateDict(sd: Map<string, Tensor> | Record<string, Tensor>): void {
    const m = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    for (const k of own.keys()) if (!m.has(k)) throw new Error(`missing key ${k}`);
    noGrad(() => {
      for (const [k, t] of own) t.copy_(m.get(k)!);
    });
  }
  train(mode = true): this {
    this.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  to(device: string): this {
    for (const map of [this.params, this.buffers]) {
      for (const [k, t] of map) {
        const moved = t.to(device as 'cpu').detach();
        if (map === this.params) moved.requiresGrad_(true);
        t.dispose();
        map.set(k, moved);
      }
    }
    return this;
  }
  dispose(): void {
    for (const t of this.stateDict().values()) t.dispose();
  }
}

export class TinyBackbone extends Tiny implements BackboneLike {
  constructor(readonly dim = 16, readonly dropout = 0.1) {
    super();
    this.params.set('conv.weight', randn([8, 3, 3, 3]).mul_(0.3).requiresGrad_(true));
    this.params.set('bn.weight', ones([8]).requiresGrad_(true));
    this.params.set('bn.bias', zeros([8]).requiresGrad_(true));
    this.buffers.set('bn.running_mean', zeros([8]));
    this.buffers.set('bn.running_var', ones([8]));
    this.params.set('prelu.weight', tensor([0.25]).requiresGrad_(true));
    this.params.set('fc.weight', randn([dim, 8 * 4 * 4]).mul_(0.1).requiresGrad_(true));
    this.params.set('fc.bias', zeros([dim]).requiresGrad_(true));
  }
  forward(x: Tensor): Tensor {
    const p = (k: string) => this.params.get(k) ?? this.buffers.get(k)!;
    return scope(() => {
      let h = F.conv2d(x, p('conv.weight'), null, { stride: 2, padding: 1 });
      h = F.batchNorm(h, p('bn.running_mean'), p('bn.running_var'), { weight: p('bn.weight'), bias: p('bn.bias'), training: this.training });
      h = F.prelu(h, p('prelu.weight'));
      h = F.adaptiveAvgPool2d(h, [4, 4]).flatten(1);
      h = F.dropout(h, this.dropout, this.training);
      return F.linear(h, p('fc.weight'), p('fc.bias'));
    });
  }
  /** Weight-decay groups: BN affine parameters get none (spec D7). */
  groups(): { decay: Tensor[]; noDecay: Tensor[] } {
    const noDecay = ['bn.weight', 'bn.bias'].map((k) => this.params.get(k)!);
    return { decay: this.parameters().filter((p) => !noDecay.includes(p)), noDecay };
  }
}

export class TinyHead extends Tiny implements HeadLike {
  /** Makes the loss NaN from this forward-call index on (for the divergence test). */
  nanAt = -1;
  calls = 0;
  constructor(readonly numClasses: number, dim = 16, readonly s = 16) {
    super();
    this.params.set('kernel', randn([dim, numClasses]).mul_(0.1).requiresGrad_(true));
    this.buffers.set('t', zeros([1]));
  }
  forward(emb: Tensor, labels: Tensor): { loss: Tensor; stats: { t: number; positiveCosine: number; hardFraction: number } } {
    const call = this.calls++;
    return scope(() => {
      const w = F.normalize(this.params.get('kernel')!, { dim: 0 });
      const cos = F.normalize(emb, { dim: 1 }).matmul(w).clamp(-1, 1);
      const cy = cos.gather(1, labels.unsqueeze(1));
      const t = this.buffers.get('t')!;
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
