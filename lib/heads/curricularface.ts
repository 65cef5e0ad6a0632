/**
 * CurricularFace (official code and papers; docs/heads.md): ArcFace "thresh" target; negatives with cos θ_j > cos(θ_y + m)
 * become cos θ_j·(t + cos θ_j), t an exponential moving average (buffer `t`, no gradient, saved in
 * the state dict) updated before use, in training mode only.
 *
 * t update rules (docs/decisions/heads.md, H1):
 *  - 'code' (default; the official code, confirmed by its author): t ← (1 − α)·r + α·t with
 *    r = mean cos θ_y and α = 0.99 the momentum on the old t.
 *  - 'paper' (the papers' equations, ECACFace eqs. 5–6): t ← α·r + (1 − α)·t with
 *    r = mean cos(θ_y + m); α = 0.99 puts 0.99 on the new batch. ECACFace Table 4's α values
 *    plug in here unchanged.
 * `tStatistic` overrides r for either rule.
 */
import { zeros, type Tensor } from '../tensor/index.js';
import { MarginHead, type MarginHeadOptions } from './margin-head.js';
import { normalKernel } from './head.js';
import type { MarginLossOptions } from '../ops/margin.js';

/** Options of {@link CurricularFaceHead}: s 64, m 0.5, tUpdate 'code', alpha 0.99. */
export interface CurricularFaceOptions extends MarginHeadOptions {
  /** 'code' (default) or 'paper' (see the file comment). */
  tUpdate?: 'code' | 'paper';
  /** α of the chosen rule, in [0, 1] (default 0.99). */
  alpha?: number;
  /** r: 'cos' = mean cos θ_y, 'cos_m' = mean cos(θ_y + m). Default: 'cos' for 'code', 'cos_m' for 'paper'. */
  tStatistic?: 'cos' | 'cos_m';
  /**
   * Target function: 'thresh' (default, the code's fallback c − m·sin m below θ = π − m, docs/decisions/heads.md H2) or
   * 'plain' (the papers' cos(θ + m) everywhere).
   */
  target?: 'thresh' | 'plain';
}

/** CurricularFace head; kernel [D, C] ~ N(0, 0.01²), buffer t [1] = 0. */
export class CurricularFaceHead extends MarginHead {
  /** The adaptive t (a buffer). */
  t!: Tensor;
  readonly tUpdate: 'code' | 'paper';
  readonly alpha: number;
  readonly tStatistic: 'cos' | 'cos_m';
  readonly target: 'thresh' | 'plain';

  constructor(o: CurricularFaceOptions) {
    super(o, 'curricularface', { s: 64, m: 0.5 });
    this.tUpdate = o.tUpdate ?? 'code';
    if (this.tUpdate !== 'code' && this.tUpdate !== 'paper') {
      throw new RangeError(`curricularface head: tUpdate must be 'code' or 'paper', got '${String(o.tUpdate)}'`);
    }
    this.alpha = o.alpha ?? 0.99;
    if (!(this.alpha >= 0 && this.alpha <= 1)) throw new RangeError(`curricularface head: alpha must lie in [0, 1], got ${o.alpha}`);
    this.tStatistic = o.tStatistic ?? (this.tUpdate === 'code' ? 'cos' : 'cos_m');
    if (this.tStatistic !== 'cos' && this.tStatistic !== 'cos_m') {
      throw new RangeError(`curricularface head: tStatistic must be 'cos' or 'cos_m', got '${String(o.tStatistic)}'`);
    }
    this.target = o.target ?? 'thresh';
    if (this.target !== 'thresh' && this.target !== 'plain') {
      throw new RangeError(`curricularface head: target must be 'thresh' or 'plain', got '${String(o.target)}'`);
    }
    this.kernel = this.registerParameter('kernel', normalKernel(this.embeddingSize, this.numClasses));
    this.t = this.registerBuffer('t', zeros([1]));
  }

  /** Weight of the new batch statistic in the t update. */
  get tNewWeight(): number {
    return this.tUpdate === 'code' ? 1 - this.alpha : this.alpha;
  }

  protected opOptions(): Omit<MarginLossOptions, 'returnLogits'> {
    return {
      target: this.target,
      negative: 'curricular',
      s: this.s,
      m: this.m,
      t: this.t,
      training: this.training,
      tNewWeight: this.tNewWeight,
      tStatistic: this.tStatistic,
    };
  }
  protected override get reportsT(): boolean {
    return true;
  }
  override extraRepr(): string {
    return `${super.extraRepr()}, t update ${this.tUpdate} (α=${this.alpha}, r=${this.tStatistic})`;
  }
}
