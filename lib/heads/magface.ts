/**
 * MagFace (official models/magface.py): a feature-norm-dependent angular margin plus a norm regulariser.
 *   a = clamp(‖x‖, l_a, u_a);  m(a) = (u_m − l_m)/(u_a − l_a)·(a − l_a) + l_m  (gradient into ‖x‖)
 *   target (easy margin) cos(θ_y + m(a)) if cos θ_y > 0 else cos θ_y; others cos θ_j; logits ·s
 *   loss = CE_mean + λ_g·mean g(a),  g(a) = a/u_a² + 1/a.
 * Composed ATen ops with libtorch autograd (not part of the fused family). cos(θ + m) is computed
 * on the target column only, with the radicand floored at 1e-7 (√(1 − c²) has an infinite derivative at |c| = 1).
 */
import { functional as F, noGrad, scope, where, type Tensor } from '../tensor/index.js';
import { Head, uniformUnitKernel, type HeadBaseOptions, type HeadForwardOptions, type HeadOutput } from './head.js';
import { checkNumber } from '../check.js';

/** Options of {@link MagFaceHead} (defaults: the official run.sh's). */
export interface MagFaceOptions extends HeadBaseOptions {
  /** Scale s (64). */
  s?: number;
  /** Norm bounds l_a, u_a (10, 110). */
  la?: number;
  ua?: number;
  /** Margin bounds l_m, u_m (0.45, 0.8). */
  lm?: number;
  um?: number;
  /** Weight λ_g of the regulariser (35, as run.sh). */
  lambdaG?: number;
  /** Easy margin (default true); false: per-sample threshold cos(π − m(a)) and fallback c − m(a)·sin(π − m(a)). */
  easyMargin?: boolean;
}

/** MagFace head; kernel [D, C] ~ U(−1, 1) with unit columns. */
export class MagFaceHead extends Head {
  kernel: Tensor;
  readonly s: number;
  readonly la: number;
  readonly ua: number;
  readonly lm: number;
  readonly um: number;
  readonly lambdaG: number;
  readonly easyMargin: boolean;

  constructor(o: MagFaceOptions) {
    super(o, 'magface');
    this.s = o.s ?? 64;
    this.la = o.la ?? 10;
    this.ua = o.ua ?? 110;
    this.lm = o.lm ?? 0.45;
    this.um = o.um ?? 0.8;
    this.lambdaG = o.lambdaG ?? 35;
    this.easyMargin = o.easyMargin ?? true;
    checkNumber('magface head: s', this.s, { above: 0 });
    if (!(this.la > 0 && this.ua > this.la)) throw new RangeError(`magface head: need 0 < la < ua, got la=${this.la}, ua=${this.ua}`);
    checkNumber('magface head: lambdaG', this.lambdaG, { min: 0 });
    this.kernel = this.registerParameter('kernel', uniformUnitKernel(this.embeddingSize, this.numClasses));
  }

  forward(embeddings: Tensor, labels: Tensor, options: HeadForwardOptions = {}): HeadOutput {
    this.checkInputs(embeddings, labels);
    const want = options.returnLogits ?? this.returnLogits;
    const { s, la, ua, lm, um } = this;
    return scope(() => {
      const x = embeddings.dtype === this.kernel.dtype ? embeddings : embeddings.to(this.kernel.dtype);
      const y = labels.long().unsqueeze(1);
      const a = x.norm(2, 1, true).clamp(la, ua); // [B, 1]
      const margin = a.sub(la).mul((um - lm) / (ua - la)).add(lm);
      const c = F.normalize(x, { dim: 1 }).mm(F.normalize(this.kernel, { dim: 0 })).clamp(-1, 1);
      const cy = c.gather(1, y);
      const sinY = cy.square().rsub(1).clamp(1e-7, null).sqrt();
      const ctm = cy.mul(margin.cos()).sub(sinY.mul(margin.sin()));
      let fy: Tensor;
      if (this.easyMargin) {
        fy = where(cy.gt(0), ctm, cy);
      } else {
        const th = margin.rsub(Math.PI).cos();
        const mm = margin.rsub(Math.PI).sin().mul(margin);
        fy = where(cy.gt(th), ctm, cy.sub(mm));
      }
      const logits = c.scatter(1, y, fy).mul(s);
      const ce = F.crossEntropy(logits, y.squeeze(1));
      const g = a.div(ua * ua).add(a.reciprocal()).mean();
      const loss = ce.add(g.mul(this.lambdaG));
      const stats = noGrad(() => ({
        positiveCosine: cy.mean().item(),
        top1: c.argmax(1).eq(y.squeeze(1)).double().mean().item(),
        meanNorm: a.mean().item(),
      }));
      const out: HeadOutput = { loss, stats };
      if (want) out.logits = noGrad(() => c.mul(s).detach());
      return out;
    });
  }

  override extraRepr(): string {
    return `${super.extraRepr()}, s=${this.s}, a∈[${this.la}, ${this.ua}], m∈[${this.lm}, ${this.um}], λg=${this.lambdaG}`;
  }
}
