/**
 * `Backbone`: the base class of the built models — an image batch [N, C, S, S] → embeddings
 * [N, E] — with its spec, `summary()`/`profile()`, and CurricularFace's initialisation.
 */
import type { Tensor } from '../tensor/index.js';
import { Attention } from '../nn/attention/base.js';
import { BatchNorm } from '../nn/batchnorm.js';
import { Conv2d } from '../nn/conv.js';
import { constant_, kaimingNormal_ } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { profile, summary, type SummaryTotals } from '../nn/summary.js';
import type { BackboneSpec } from './spec.js';

/** Base class of the backbones: [N, 3, S, S] images → [N, E] embeddings, built from a spec it keeps. */
export abstract class Backbone extends Module {
  constructor(readonly spec: BackboneSpec) {
    super();
  }

  /** Image batch [N, inputChannels, inputSize, inputSize] → embeddings [N, embeddingSize]. */
  abstract override forward(x: Tensor): Tensor;

  /** The input shape of one image. */
  get inputShape(): number[] {
    return [1, this.spec.inputChannels, this.spec.inputSize, this.spec.inputSize];
  }

  /** Totals (params, MACs per image) and the per-layer rows, computed from shapes. */
  profile(): SummaryTotals {
    return profile(this, this.inputShape);
  }

  /** Prints and returns the per-layer table (layer, output shape, params, MACs) with totals. */
  summary(options: { print?: boolean } = {}): string {
    return summary(this, this.inputShape, options);
  }

  /** Throws a RangeError naming the expected shape unless `x` fits. */
  protected checkInput(x: Tensor): void {
    const s = x.shape;
    const { inputChannels: c, inputSize: n } = this.spec;
    if (s.length !== 4 || s[1] !== c || s[2] !== n || s[3] !== n) {
      throw new RangeError(`${this.spec.name}: expected input [N, ${c}, ${n}, ${n}], got [${s.join(', ')}]`);
    }
  }
}

/**
 * CurricularFace's `_initialize_weights`: every Conv2d and Linear kaiming_normal
 * (fan_out, relu) with zero bias, every BatchNorm weight 1 / bias 0 — walking all modules except
 * the subtrees of attention modules that keep their own init (ESCA/ECA: docs/decisions/models.md);
 * then each attention module's `afterBackboneInit()` (CBAM's spatial BN scale 0).
 */
export function kaimingInit(root: Module): void {
  const visit = (m: Module<any, any>): void => {
    if (m instanceof Attention && m.excludeFromBackboneInit) return;
    if (m instanceof Conv2d || m instanceof Linear) {
      kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      if (m.bias) constant_(m.bias, 0);
    } else if (m instanceof BatchNorm) {
      if (m.weight) constant_(m.weight, 1);
      if (m.bias) constant_(m.bias, 0);
    }
    for (const c of m.children()) visit(c);
  };
  visit(root);
  for (const m of root.modules()) if (m instanceof Attention) m.afterBackboneInit();
}
