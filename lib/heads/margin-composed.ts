/**
 * The margin family written as composed ATen ops with libtorch's autograd, in the shape of the
 * reference PyTorch code (CurricularFace head/metrics.py): normalise both sides, one matmul,
 * clamp, target via `where`, hard mask, `scatter` of the target logit, `crossEntropy`.
 *
 * Same semantics as the fused op ({@link marginLoss}), but it materialises several [B × C]
 * matrices and a normalised copy of the kernel. Used as `impl: 'composed'` on the heads (e.g. for
 * double backward) and as the baseline of `npm run bench:heads`.
 */
import { functional as F, noGrad, scope, where, type Tensor } from '../tensor/index.js';
import type { MarginLossOptions, MarginLossResult } from './margin-op.js';

/**
 * Composed-ops version of {@link marginLoss}: same options, same results (up to rounding).
 */
export function marginLossComposed(
  embeddings: Tensor,
  kernel: Tensor,
  labels: Tensor,
  o: MarginLossOptions,
): MarginLossResult {
  const { s, m } = o;
  const cosM = Math.cos(m);
  const sinM = Math.sin(m);
  const th = Math.cos(Math.PI - m);
  const mm = Math.sin(Math.PI - m) * m;
  return scope(() => {
    const y = labels.long().unsqueeze(1);
    const xhat = F.normalize(embeddings, { dim: 1 });
    const what = F.normalize(kernel, { dim: 0 });
    const c = xhat.mm(what).clamp(-1, 1);
    const cy = c.gather(1, y);
    const ctm = cy.mul(cosM).sub(cy.square().rsub(1).clamp(1e-7, null).sqrt().mul(sinM));
    let fy: Tensor;
    switch (o.target) {
      case 'thresh':
        fy = where(cy.gt(th), ctm, cy.sub(mm));
        break;
      case 'easy':
        fy = where(cy.gt(0), ctm, cy);
        break;
      case 'plain':
        fy = ctm;
        break;
      case 'cosface':
        fy = cy.sub(m);
        break;
      case 'none':
        fy = cy;
        break;
      default:
        throw new RangeError(`marginLossComposed: unknown target '${String(o.target)}'`);
    }
    let t = 0;
    let body = c;
    let hardFraction = 0;
    if (o.negative !== 'plain') {
      const mask = c.gt(ctm.detach());
      if (o.negative === 'curricular') {
        if (!o.t) throw new TypeError('marginLossComposed: CurricularFace needs the t buffer');
        const tb = o.t;
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
      const B = c.size(0);
      const C = c.size(1);
      const hardAll = mask.sum().item();
      const hardTarget = mask.gather(1, y).sum().item();
      hardFraction = C > 1 ? (hardAll - hardTarget) / (B * (C - 1)) : 0;
    }
    const logits = body.scatter(1, y, fy).mul(s);
    const loss = F.crossEntropy(logits, y.squeeze(1));
    const stats = noGrad(() => ({
      positiveCosine: cy.mean().item(),
      t,
      hardFraction,
      top1: c.argmax(1).eq(y.squeeze(1)).double().mean().item(),
    }));
    const result: MarginLossResult = { loss, stats };
    if (o.returnLogits) result.logits = noGrad(() => c.mul(s).detach());
    return result;
  });
}
