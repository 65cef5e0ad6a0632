/**
 * Table 4 of the ECACFace paper: CurricularFace's α ∈ {0.80, 0.85, 0.90, 0.99}, with ESCA.
 *
 *   npx tsx experiments/alpha.ts [--help] [options]      (or npx ts-node …, or npm run exp:alpha -- …)
 *
 * By default α is the paper's (eqs. 5–6, `tUpdate: 'paper'`): the weight of the new batch statistic
 * in t ← α·r + (1 − α)·t. `--head-option tUpdate=code` reads α as the official code's momentum on
 * the old t instead (docs/heads.md).
 */
import { runExperiment } from './lib/experiment';

const alphas = ['0.80', '0.85', '0.90', '0.99'];

void runExperiment({
  name: 'alpha',
  title: "Table 4: CurricularFace's α (ESCA backbone)",
  description:
    "Trains ECACFace (ESCA + CurricularFace) with each α of the paper's Table 4, identical data order, schedule and seeds, " +
    "and tests each row against α = 0.99 (the paper's choice). α follows the paper's rule (tUpdate 'paper', statistic cos(θ_y + m)) " +
    "unless --head-option tUpdate=code.",
  baseline: 'alpha-0.99',
  base: { attention: 'esca', head: { type: 'curricularface', options: { tUpdate: 'paper' } } },
  rows: alphas.map((a) => ({
    name: `alpha-${a}`,
    label: `α = ${a}`,
    config: { head: { type: 'curricularface', options: { alpha: Number(a) } } },
    ...(a === '0.99' ? { paper: { text: 'best of the four', source: "the paper's Table 4" } } : {}),
  })),
  paperNote:
    "the paper's Table 4 tries these four values (docs/heads.md) and finds 0.99 best; " +
    "its accuracies are not in this project's docs, so no published numbers are shown.",
});
