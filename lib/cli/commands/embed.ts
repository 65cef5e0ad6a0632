/** `ecacface embed --model <m> <images…>`: L2-normalised embeddings as JSON. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { alignEach, FaceDetector, faceProblems } from '../../detect/detect.js';
import type { FaceImage } from '../../eval/images.js';
import { addModelOptions, intOption, modelFromOptions, type ModelOptions } from '../model-option.js';
import { addDetectOptions, detectOptionsFrom, type DetectCliOptions } from './detect.js';

export function registerEmbed(program: Command): void {
  addDetectOptions(addModelOptions(program.command('embed').description('embeddings of aligned face images (JPEG/PNG files) as JSON'))
    .argument('<images...>', 'image files (aligned 112×112 faces; see ecacface align), or photos with --detect')
    .option('--detect', 'the images are photos: detect (MTCNN) and align the face in each first; a photo without a readable face gets an "error" in the JSON'), 'with --detect, which face per photo: largest (default), central or best')
    .option('--out <file>', 'write JSON here instead of stdout')
    .option('--no-flip', 'no flip test-time augmentation (default: as the model card says)')
    .action(async (images: string[], o: ModelOptions & DetectCliOptions & { out?: string; flip: boolean; detect?: boolean }) => {
      const model = modelFromOptions(o);
      const warn = (m: string): void => console.warn(`embed: warning: ${m}`);
      try {
        // with --detect, a photo that cannot be read or has no face is reported and the others go on
        let faces: (FaceImage | { error: string })[] = images;
        if (o.detect) {
          const detector = new FaceDetector({ device: model.device });
          try {
            const found = await alignEach(detector, images, { ...detectOptionsFrom(o, 'largest'), size: model.card.input.size });
            const problems = faceProblems(found, images);
            if (problems) console.error(`embed: ${problems}`);
            faces = found.map((f) => {
              if ('error' in f) return { error: f.error };
              if (f.warning !== undefined) warn(f.warning);
              return f.faces[0] ?? { error: 'no face found' };
            });
          } finally {
            detector.dispose();
          }
        }
        const good = faces.filter((f): f is FaceImage => !(typeof f === 'object' && 'error' in f));
        const emb = good.length
          ? await model.embed(good, {
              batchSize: intOption(o.batchSize, '--batch-size', 64),
              threads: intOption(o.threads, '--threads', 2),
              flip: o.flip === false ? false : undefined,
              onWarning: warn,
            })
          : [];
        let k = 0;
        const rows = images.map((file, i) => {
          const f = faces[i]!;
          return typeof f === 'object' && 'error' in f ? { file, error: f.error } : { file, embedding: Array.from(emb[k++]!) };
        });
        const json = JSON.stringify(rows);
        if (o.out) writeFileSync(o.out, json + '\n');
        else process.stdout.write(json + '\n');
        if (good.length < images.length) process.exitCode = 1;
      } finally {
        model.dispose();
      }
    });
}
