/**
 * Table 3 of the ECACFace paper: ESCA against no attention and the other attention modules (SE, SK,
 * CBAM, BAM, SGE, ECA), each in every block of the same backbone, all with CurricularFace.
 *
 *   npx tsx experiments/attention.ts [--help] [options]      (or npx ts-node …, or npm run exp:attention -- …)
 *
 * Defaults: the synthetic face set on the CPU, MobileFaceNet at 48 px, 3 seeds (docs/experiments.md).
 */
import { runExperiment } from './lib/experiment';

void runExperiment({
  name: 'attention',
  title: 'Table 3: attention module in every block (CurricularFace head)',
  description:
    'Trains the same backbone with each attention module in every block (or none), CurricularFace head, identical data order, ' +
    'schedule and seeds, and tests each row against ESCA. The paper ran IR_101 on CASIA-WebFace/MS1MV2; pass --arch ir101 --rec … --bin … for that.',
  baseline: 'esca',
  rows: [
    { name: 'esca', label: 'ESCA', config: { attention: 'esca' } },
    { name: 'none', label: 'none', config: { attention: 'none' } },
    { name: 'se', label: 'SE', config: { attention: 'se' } },
    { name: 'sk', label: 'SK', config: { attention: 'sk' } },
    { name: 'cbam', label: 'CBAM', config: { attention: 'cbam' } },
    { name: 'bam', label: 'BAM', config: { attention: 'bam' } },
    { name: 'sge', label: 'SGE', config: { attention: 'sge' } },
    { name: 'eca', label: 'ECA', config: { attention: 'eca' } },
  ],
  paperNote:
    "the paper's Table 3 (these modules in IR_101: accuracy and speed) is not reproduced in this project's docs, " +
    'so no published numbers are shown.',
});
