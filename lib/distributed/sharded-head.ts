/**
 * A margin head whose class weights are split across the ranks (Partial FC), with the same loss,
 * gradients and CurricularFace t as the unsharded head on the gathered batch.
 *
 * Each rank holds the columns [classStart, classStart + numLocal) of the [D, C] kernel. A step:
 *  1. embeddings and labels are all-gathered (differentiable: the embeddings' gradient is summed
 *     over ranks on the way back and scaled by `embeddingGradScale`, default worldSize, so that the
 *     data-parallel average of the backbone gradients equals the gradient of the global-mean loss);
 *  2. each rank computes cos θ against its shard; each sample's target cosine c_y lives on one shard,
 *     and is made known to every rank by an all-reduce sum of the masked local gathers. CurricularFace
 *     needs it everywhere: its hard-negative mask (c_j > cos(θ_y + m)) and its t (mean c_y over the
 *     global batch) use it on every shard; so the t update is the unsharded one, on every rank;
 *  3. the margin logits of the shard (target function on the owner's column, negatives reweighted),
 *     then the softmax normaliser from an all-reduce max (stability, no gradient) and an all-reduce
 *     sum of exp(z − max): loss = mean(log Σ + max − s·f(c_y)).
 * The sums feed a loss every rank computes identically, so their backward is the identity
 * (lib/distributed/autograd.ts); only the all-gather communicates in the backward.
 *
 * The shard's logits are composed ATen ops (as `impl: 'composed'` of the unsharded heads): the fused
 * op computes the whole softmax of a row inside its kernel and has no sharded form yet.
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
import { arange, functional as F, full, noGrad, rand, scope, tensor, where, zerosLike, type Tensor } from '../tensor/index.js';
import { marginTarget } from '../ops/margin.js';
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
    this.shard = this.registerModule('shard', create({ ...o.head, numClasses: count, impl: 'composed' }) as MarginHead);
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
    const { s } = o;
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
      const y = ly.unsqueeze(1);
      const own = inShard.unsqueeze(1).to(x.dtype);
      const xhat = F.normalize(X, { dim: 1 });
      const what = F.normalize(kernel, { dim: 0 });
      const c = xhat.mm(what).clamp(-1, 1);
      // Every sample's target cosine, on every rank (owner's value; gradient to the owner only).
      const cy = allReduceSumReplicated(g, c.gather(1, y).mul(own));
      const { fy, ctm } = marginTarget(cy, o);
      let t = 0;
      let body = c;
      let hardLocal = 0;
      if (o.negative !== 'plain') {
        const mask = c.gt(ctm.detach());
        if (o.negative === 'curricular') {
          const tb = o.t!;
          if (o.training) {
            noGrad(() => {
              const r = (o.tStatistic === 'cos_m' ? ctm : cy).detach().mean();
              const w = o.tNewWeight ?? 0.01;
              tb.mul_(1 - w).add_(r.mul(w).to(tb.dtype));
            });
          }
          t = tb.item();
          body = where(mask, c.mul(c.add(t)), c);
        } else {
          t = o.mvT ?? 0.2;
          body = where(mask, c.mul(t + 1).add(t), c);
        }
        hardLocal = noGrad(() => mask.sum().item() - mask.gather(1, y).logicalAnd(inShard.unsqueeze(1)).sum().item());
      }
      const z = body.scatter(1, y, where(inShard.unsqueeze(1), fy, body.gather(1, y))).mul(s);
      const zmax = allReduceNoGrad(g, noGrad(() => z.detach().max(1, true)), 'max');
      const sum = allReduceSumReplicated(g, z.sub(zmax).exp().sum(1, true));
      const l = sum.log().add(zmax).sub(fy.mul(s)).mean();
      stats = noGrad(() => {
        const counts = tensor([hardLocal, localClasses], { dtype: 'float64' });
        g.allReduceSync(counts, 'sum');
        const [hard, classes] = counts.toArray() as number[];
        const gmax = allReduceNoGrad(g, c.max(1, true), 'max');
        const out: HeadStats = { positiveCosine: cy.mean().item(), top1: cy.ge(gmax).double().mean().item() };
        if (o.negative !== 'plain') {
          out.t = t;
          out.hardFraction = classes! > 1 ? hard! / (N * (classes! - 1)) : 0;
        }
        return out;
      });
      return l;
    });
    return { loss, stats };
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
      (this.sampleRate < 1 ? `, sampleRate ${this.sampleRate}` : '');
  }
}
