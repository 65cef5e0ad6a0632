/**
 * A margin head whose class weights are split across the ranks (Partial FC), with the same loss,
 * gradients and CurricularFace t as the unsharded head on the gathered batch.
 *
 * Each rank holds the columns [classStart, classStart + numLocal) of the [D, C] kernel. A step:
 *  1. embeddings and labels are all-gathered (differentiable: the embeddings' gradient is summed
 *     over ranks on the way back and scaled by `embeddingGradScale`, default worldSize, so that the
 *     data-parallel average of the backbone gradients equals the gradient of the global-mean loss);
 *  2. each sample's target cosine c_y lives on one shard and is made known to every rank by an
 *     all-reduce sum of the owners' values. CurricularFace needs it everywhere: its hard-negative
 *     mask (c_j > cos(θ_y + m)) and its t (mean c_y over the global batch) use it on every shard;
 *     so the t update is the unsharded one, on every rank;
 *  3. the margin logits of the shard (target function on the owner's column, negatives reweighted)
 *     and the softmax normaliser from an all-reduce max (stability, no gradient) and an all-reduce
 *     sum of exp(· − max): loss = mean(log Σ + max − s·f(c_y)).
 * The sums feed a loss every rank computes identically, so their backward is the identity
 * (lib/distributed/autograd.ts); only the all-gather communicates in the backward.
 *
 * Two implementations of step 2–3 (`head.impl`):
 *  - 'fused' (default): the fused margin op's sharded form (`marginLossShard`, native/ops/margin.cc).
 *    c_y is computed by the owner as x̂_i·w_y/‖w_y‖ from an [N, D] gather of its kernel columns (no
 *    gradient) and all-reduced first; the op then builds the shard's margin logits and their
 *    logsumexp per row inside its kernel, holding one [N × numLocal] buffer, and returns the
 *    shard's lse (all-reduced into the global one) and s·f(c_y); its backward turns the buffer into
 *    dL/d(x̂·W) in place with the global softmax, c_y's gradient reaching the owner's column only.
 *  - 'composed': the same math composed of ATen ops (several [N × numLocal] matrices), the
 *    reference the fused path is tested against.
 *
 * `sampleRate` < 1 (Partial FC v2): each step a rank keeps the classes of the batch's labels that
 * fall in its shard plus random others, ⌈sampleRate·numLocal⌉ columns in all; only those get
 * logits and gradients.
 */
import {
  create,
  Head,
  type ArcFaceOptions,
  type CosFaceOptions,
  type CurricularFaceOptions,
  type HeadForwardOptions,
  type HeadOutput,
  type HeadStats,
  type MarginHead,
  type MarginLossOptions,
  type MvArcFaceOptions,
} from '../heads/index.js';
import { arange, functional as F, full, fullLike, noGrad, rand, scope, stack, tensor, where, zerosLike, type Tensor } from '../tensor/index.js';
import { marginLossShard, marginTarget, normalizeEmbeddings, reweightNegatives } from '../ops/margin.js';
import { allGatherWithGrad, allReduceNoGrad, allReduceSumReplicated } from './autograd.js';
import type { ProcessGroup } from './group.js';

/** The heads that shard: the fused margin family. */
export type ShardableHeadOptions =
  | ({ type: 'cosface' } & CosFaceOptions)
  | ({ type: 'arcface' } & ArcFaceOptions)
  | ({ type: 'mv-arcface' } & MvArcFaceOptions)
  | ({ type: 'curricularface' } & CurricularFaceOptions);

/** Options of {@link ShardedMarginHead}. */
export interface ShardedHeadOptions {
  group: ProcessGroup;
  /** The unsharded head's options; numClasses is the total over all ranks. */
  head: ShardableHeadOptions;
  /** Fraction of each shard's classes used per step (positives always kept), in (0, 1]. Default 1. */
  sampleRate?: number;
  /** Factor on the embeddings' gradient (default: worldSize, for data-parallel averaging). */
  embeddingGradScale?: number;
}

/** What the two implementations hand to the common statistics. */
interface ShardStep {
  loss: Tensor;
  /** Every row's clamped target cosine (no grad). */
  cy: Tensor;
  /** Every row's largest cosine over all shards (no grad). */
  maxCosine: Tensor;
  /** Hard negatives on this shard (owned target columns excluded). */
  hard: number;
  /** The t this step used (CurricularFace, MV). */
  t: number;
}

/** Columns [start, start + count) of `numClasses` for `rank` of `worldSize` (the first C mod W ranks get one more). */
export function shardRange(numClasses: number, worldSize: number, rank: number): { start: number; count: number } {
  const base = Math.floor(numClasses / worldSize);
  const extra = numClasses % worldSize;
  return { start: base * rank + Math.min(rank, extra), count: base + (rank < extra ? 1 : 0) };
}

/** Partial-FC margin head; `shard` is this rank's unsharded head over its columns. */
export class ShardedMarginHead extends Head {
  readonly group: ProcessGroup;
  readonly classStart: number;
  readonly numLocal: number;
  readonly sampleRate: number;
  readonly embeddingGradScale: number;
  /** 'fused' (the op's sharded form, default) or 'composed' (ATen ops, the reference). */
  readonly impl: 'fused' | 'composed';
  /** This rank's head (kernel [D, numLocal], and t for CurricularFace). */
  readonly shard: MarginHead;

  constructor(o: ShardedHeadOptions) {
    const { type } = o.head;
    if (!['cosface', 'arcface', 'mv-arcface', 'curricularface'].includes(type)) {
      throw new RangeError(`sharded head: type must be cosface, arcface, mv-arcface or curricularface, got '${String(type)}'`);
    }
    super(o.head, `sharded ${type}`);
    this.group = o.group;
    const { start, count } = shardRange(this.numClasses, o.group.worldSize, o.group.rank);
    if (count < 1) throw new RangeError(`sharded head: ${this.numClasses} classes leave rank ${o.group.rank} of ${o.group.worldSize} without any`);
    this.classStart = start;
    this.numLocal = count;
    this.sampleRate = o.sampleRate ?? 1;
    if (!(this.sampleRate > 0 && this.sampleRate <= 1)) throw new RangeError(`sharded head: sampleRate must lie in (0, 1], got ${o.sampleRate}`);
    this.embeddingGradScale = o.embeddingGradScale ?? o.group.worldSize;
    this.impl = o.head.impl ?? 'fused';
    if (this.impl !== 'fused' && this.impl !== 'composed') throw new RangeError(`sharded head: impl must be 'fused' or 'composed', got '${String(o.head.impl)}'`);
    this.shard = this.registerModule('shard', create({ ...o.head, numClasses: count }) as MarginHead);
  }

  /** This rank's kernel columns [D, numLocal]. */
  get kernel(): Tensor {
    return this.shard.kernel;
  }

  forward(embeddings: Tensor, labels: Tensor, _options: HeadForwardOptions = {}): HeadOutput {
    this.checkInputs(embeddings, labels);
    const g = this.group;
    // The unsharded head's op options (t buffer, training flag, s, m, target, negatives).
    const o = (this.shard as unknown as { opOptions(): MarginLossOptions }).opOptions();
    let stats: HeadStats = { positiveCosine: 0 };
    const loss = scope(() => {
      const x = embeddings.dtype === this.kernel.dtype ? embeddings : embeddings.to(this.kernel.dtype);
      const X = allGatherWithGrad(g, x, { gradScale: this.embeddingGradScale });
      const Y = allGatherWithGrad(g, labels.long());
      const N = X.size(0);
      const inShard = Y.ge(this.classStart).logicalAnd(Y.lt(this.classStart + this.numLocal));
      let ly = where(inShard, Y.sub(this.classStart), zerosLike(Y));
      let kernel = this.kernel;
      let localClasses = this.numLocal;
      if (this.sampleRate < 1) {
        const picked = noGrad(() => this.#sample(ly, inShard));
        ly = picked.remap.gather(0, ly);
        kernel = kernel.indexSelect(1, picked.index);
        localClasses = picked.index.size(0);
      }
      const step = this.impl === 'fused' ? this.#fused(X, kernel, ly, inShard, o) : this.#composed(X, kernel, ly, inShard, o);
      stats = noGrad(() => {
        const counts = tensor([step.hard, localClasses], { dtype: 'float64' });
        g.allReduceSync(counts, 'sum');
        const [hard, classes] = counts.toArray() as number[];
        const out: HeadStats = { positiveCosine: step.cy.mean().item(), top1: step.cy.ge(step.maxCosine).double().mean().item() };
        if (o.negative !== 'plain') {
          out.t = step.t;
          out.hardFraction = classes! > 1 ? hard! / (N * (classes! - 1)) : 0;
        }
        return out;
      });
      return step.loss;
    });
    return { loss, stats };
  }

  // The fused op's sharded form: c_y from the owners (an [N, D] gather, all-reduced), then the op,
  // then the global logsumexp from the shards' (max and Σ over ranks).
  #fused(X: Tensor, kernel: Tensor, ly: Tensor, inShard: Tensor, o: MarginLossOptions): ShardStep {
    const g = this.group;
    const xhat = normalizeEmbeddings(X);
    const acc = kernel.dtype === 'float64' ? 'float64' : 'float32';
    const cyRaw = noGrad(() => {
      const wy = F.normalize(kernel.detach().indexSelect(1, ly).to(acc), { dim: 0 }); // [D, N]: the targets' columns
      const own = xhat.detach().to(acc).mul(wy.t()).sum(1);
      return allReduceNoGrad(g, where(inShard, own, zerosLike(own)), 'sum');
    });
    const labels = where(inShard, ly, fullLike(ly, -1));
    const r = marginLossShard(xhat, kernel, labels, cyRaw, o);
    // One max-reduction for the normaliser's shift and the top-1 statistic.
    const maxes = allReduceNoGrad(g, noGrad(() => stack([r.lse.detach(), r.maxCosine], 1)), 'max');
    const shift = maxes.select(1, 0);
    const sum = allReduceSumReplicated(g, r.lse.sub(shift).exp());
    const loss = sum.log().add(shift).sub(r.target).mean();
    const t = o.negative === 'curricular' ? o.t!.item() : o.negative === 'mv' ? (o.mvT ?? 0.2) : 0;
    return { loss, cy: noGrad(() => cyRaw.clamp(-1, 1)), maxCosine: maxes.select(1, 1), hard: noGrad(() => r.hard.sum().item()), t };
  }

  // The same with ATen ops (the reference).
  #composed(X: Tensor, kernel: Tensor, ly: Tensor, inShard: Tensor, o: MarginLossOptions): ShardStep {
    const g = this.group;
    const { s } = o;
    const y = ly.unsqueeze(1);
    const own = inShard.unsqueeze(1).to(X.dtype);
    const xhat = F.normalize(X, { dim: 1 });
    const what = F.normalize(kernel, { dim: 0 });
    const c = xhat.mm(what).clamp(-1, 1);
    // Every sample's target cosine, on every rank (owner's value; gradient to the owner only).
    const cy = allReduceSumReplicated(g, c.gather(1, y).mul(own));
    const { fy, ctm } = marginTarget(cy, o);
    const { body, mask, t } = reweightNegatives(c, cy, ctm, o, 'sharded head');
    const hard = mask ? noGrad(() => mask.sum().item() - mask.gather(1, y).logicalAnd(inShard.unsqueeze(1)).sum().item()) : 0;
    const z = body.scatter(1, y, where(inShard.unsqueeze(1), fy, body.gather(1, y))).mul(s);
    const zmax = allReduceNoGrad(g, noGrad(() => z.detach().max(1, true)), 'max');
    const sum = allReduceSumReplicated(g, z.sub(zmax).exp().sum(1, true));
    const loss = sum.log().add(zmax).sub(fy.mul(s)).mean();
    const maxCosine = allReduceNoGrad(g, noGrad(() => c.max(1, true)), 'max');
    return { loss, cy: cy.detach(), maxCosine, hard, t };
  }

  // Positives of this shard plus random negatives: ⌈sampleRate·numLocal⌉ columns (more if the
  // batch has more positives here), in ascending order; remap[j] is column j's new index.
  #sample(ly: Tensor, inShard: Tensor): { index: Tensor; remap: Tensor } {
    return scope(() => {
      const score = rand([this.numLocal], { dtype: 'float32' });
      const pos = ly.maskedSelect(inShard);
      const marked = score.scatter(0, pos, full([pos.size(0)], 2, { dtype: 'float32' }));
      const positives = marked.ge(2).sum().item();
      const k = Math.min(this.numLocal, Math.max(positives, Math.ceil(this.sampleRate * this.numLocal)));
      const index = marked.topk(k, 0, true, false).indices.sort(0).values;
      const remap = full([this.numLocal], 0, { dtype: 'int64' }).scatter(0, index, arange(0, k, 1, { dtype: 'int64' }));
      return { index, remap };
    });
  }

  override extraRepr(): string {
    return `${this.embeddingSize} → ${this.numClasses} (rank ${this.group.rank}: [${this.classStart}, ${this.classStart + this.numLocal}))` +
      (this.sampleRate < 1 ? `, sampleRate ${this.sampleRate}` : '') + (this.impl === 'composed' ? ', composed' : '');
  }
}
