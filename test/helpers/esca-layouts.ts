/** What the memory layout of the activations around ESCA is, for tests of channels_last training. */
import { escaBlocks, type ModuleTree } from '../../lib/nn/attention/esca.js';
import type { Tensor } from '../../lib/tensor/index.js';

/** 'contiguous', 'channels_last' or 'strided' (a 4-D tensor that is neither). */
export function layoutOf(t: Tensor): string {
  if (t.isContiguous()) return 'contiguous';
  return t.isContiguous('channelsLast') ? 'channels_last' : 'strided';
}

/**
 * Wraps the forward of every ESCA module of `model` so that each call appends
 * `<block>: <dtype> <layout> in, <dtype> <layout> out` to the returned list.
 */
export function recordEscaLayouts(model: ModuleTree): string[] {
  const seen: string[] = [];
  for (const { block, module } of escaBlocks(model)) {
    const forward = module.forward.bind(module);
    module.forward = (x: Tensor): Tensor => {
      const out = forward(x);
      seen.push(`${block}: ${x.dtype} ${layoutOf(x)} in, ${out.dtype} ${layoutOf(out)} out`);
      return out;
    };
  }
  return seen;
}
