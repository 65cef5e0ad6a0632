/**
 * Weight-decay parameter groups (CurricularFace's rule; docs/decisions/train.md T5):
 * no weight decay on BatchNorm affine parameters (weight and bias of every BatchNorm1d/2d,
 * attention BNs included); weight decay on everything else — conv and linear weights and biases,
 * PReLU slopes, attention conv weights, SGE's γ/β. Every parameter is in exactly one group, also
 * one registered directly on a custom module (the reference's `separate_irse_bn_paras` would drop it).
 */
import type { Tensor } from '../tensor/index.js';
import { BatchNorm } from './batchnorm.js';
import type { Module } from './module.js';

/** The two groups, with the parameters' dotted names in the same order. */
export interface WeightDecayGroups {
  decay: Tensor[];
  noDecay: Tensor[];
  decayNames: string[];
  noDecayNames: string[];
}

/** Splits a module's parameters into the no-decay group (BatchNorm affine parameters) and the decay group (everything else). */
export function weightDecayGroups(module: Module<any, any>): WeightDecayGroups {
  const g: WeightDecayGroups = { decay: [], noDecay: [], decayNames: [], noDecayNames: [] };
  const seen = new Set<Tensor>();
  for (const [prefix, m] of module.namedModules()) {
    const isBn = m instanceof BatchNorm;
    for (const [n, p] of m.namedParameters(false)) {
      if (seen.has(p)) continue;
      seen.add(p);
      const name = prefix === '' ? n : `${prefix}.${n}`;
      if (isBn) {
        g.noDecay.push(p);
        g.noDecayNames.push(name);
      } else {
        g.decay.push(p);
        g.decayNames.push(name);
      }
    }
  }
  return g;
}
