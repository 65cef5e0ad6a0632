/**
 * Collectives inside the autograd graph, for a loss computed the same way on every rank from
 * sharded pieces (the sharded margin head): a differentiable all-gather and an all-reduce whose
 * result feeds a replicated loss.
 */
import { native } from '../native.js';
import { noGrad, type Tensor } from '../tensor/index.js';
import { handleOf, wrap } from '../tensor/tensor.js';
import type { ProcessGroup } from './group.js';

/**
 * Every rank's `x` concatenated along dim 0 (same shape on all ranks), differentiable: the
 * backward sums the gradient of the gathered tensor over ranks (each rank holds the part of the
 * gradient that flows through its own shard) and returns this rank's rows, times `gradScale`.
 * gradScale = worldSize turns the global-mean loss of a sharded head into the per-rank-mean
 * convention of data-parallel gradient averaging (as Partial FC does).
 */
export function allGatherWithGrad(group: ProcessGroup, x: Tensor, options: { gradScale?: number } = {}): Tensor {
  return wrap(native.distAllGather(group.native, handleOf(x, 'x'), options.gradScale ?? 1));
}

/**
 * Σ over ranks of `x` for a loss that every rank computes identically from the result: the value
 * is the all-reduced sum, the gradient reaches `x` unchanged (dL/dx_r = dL/dΣ, which every rank
 * already holds), so the backward needs no communication. Blocks like torch.distributed.all_reduce.
 */
export function allReduceSumReplicated(group: ProcessGroup, x: Tensor): Tensor {
  const total = noGrad(() => x.detach().contiguous().clone());
  group.allReduceSync(total, 'sum');
  // x + (Σ − x).detach(): the value of Σ, the gradient of x.
  const xd = x.detach();
  const diff = noGrad(() => total.sub(xd));
  const out = x.add(diff);
  total.dispose();
  xd.dispose();
  diff.dispose();
  return out;
}

/** Reduction of `x` over ranks outside autograd (a new tensor; `x` is left as is). */
export function allReduceNoGrad(group: ProcessGroup, x: Tensor, op: 'sum' | 'max' | 'min' = 'sum'): Tensor {
  const out = noGrad(() => x.detach().contiguous().clone());
  group.allReduceSync(out, op);
  return out;
}
