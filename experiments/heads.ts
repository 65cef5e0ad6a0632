/**
 * The paper's loss comparison: ArcFace, CosFace, MV-Arc-Softmax, MagFace and CurricularFace heads on
 * the same backbone (no attention by default, as the loss baselines of the presets; --attention esca
 * to compare them on ECACFace's backbone).
 *
 *   npx tsx experiments/heads.ts [--help] [options]      (or npx ts-node …, or npm run exp:heads -- …)
 */
import { runExperiment } from './lib/experiment';

void runExperiment({
  name: 'heads',
  title: 'Margin heads on the same backbone',
  description:
    'Trains the same backbone with each margin head (the settings of docs/heads.md: s 64; ArcFace m 0.5 "thresh"; CosFace m 0.35; ' +
    'MV-Arc m 0.5, t 0.2; MagFace m ∈ [0.45, 0.8], λ_g 35; CurricularFace m 0.5, code rule), identical data order, schedule and seeds, ' +
    'and tests each row against CurricularFace. The attention module is --attention (default none).',
  baseline: 'curricularface',
  base: { attention: 'none' },
  rows: [
    { name: 'curricularface', label: 'CurricularFace', config: { head: { type: 'curricularface' } } },
    { name: 'arcface', label: 'ArcFace', config: { head: { type: 'arcface' } } },
    { name: 'cosface', label: 'CosFace', config: { head: { type: 'cosface' } } },
    { name: 'mv-arcface', label: 'MV-Arc-Softmax', config: { head: { type: 'mv-arcface' } } },
    { name: 'magface', label: 'MagFace', config: { head: { type: 'magface' } } },
  ],
  paperNote:
    "the paper's comparison with these losses is not reproduced in this project's spec (/work/shared/spec) or docs, so no published numbers are shown.",
});
