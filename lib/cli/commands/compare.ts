/** `ecacface compare --model <m> <a> <b>`: cosine similarity and same/different at the card's threshold. */
import type { Command } from 'commander';
import { checkNumberText } from '../../check.js';
import { addModelOptions, modelFromOptions, type ModelOptions } from '../model-option.js';
import { addDetectOptions, detectOptionsFrom, type DetectCliOptions } from './detect.js';

export function registerCompare(program: Command): void {
  addDetectOptions(addModelOptions(program.command('compare').description('compare two aligned face images: cosine similarity and a same/different verdict'))
    .argument('<a>', 'first image (aligned 112×112 JPEG/PNG, or a photo with --detect)')
    .option('--detect', 'the images are photos: detect (MTCNN) and align the face in each first'), 'with --detect, which face per photo: largest (default), central or best')
    .argument('<b>', 'second image')
    .option('--threshold <d>', 'squared L2 distance threshold in [0, 4] (default: the model card\'s calibrated one)')
    .action(async (a: string, b: string, o: ModelOptions & DetectCliOptions & { threshold?: string; detect?: boolean }) => {
      const thr = o.threshold === undefined ? undefined : checkNumberText('--threshold', o.threshold, { min: 0, max: 4 });
      const model = modelFromOptions(o);
      try {
        const r = await model.compare(a, b, { threshold: thr, detect: o.detect ? detectOptionsFrom(o, 'largest') : undefined });
        console.log(`cosine ${r.cosine.toFixed(4)}  distance ${r.distance.toFixed(4)}  threshold ${r.threshold.toFixed(4)}  → ${r.same ? 'same person' : 'different people'}`);
      } finally {
        model.dispose();
      }
    });
}
