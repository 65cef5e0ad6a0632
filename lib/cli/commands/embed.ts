/** `ecacface embed --model <m> <images…>`: L2-normalised embeddings as JSON. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addModelOptions, intOption, modelFromOptions, type ModelOptions } from '../model-option.js';
import { addDetectOptions, detectOptionsFrom, type DetectCliOptions } from './detect.js';

export function registerEmbed(program: Command): void {
  addDetectOptions(addModelOptions(program.command('embed').description('embeddings of aligned face images (JPEG/PNG files) as JSON'))
    .argument('<images...>', 'image files (aligned 112×112 faces; see ecacface align), or photos with --detect')
    .option('--detect', 'the images are photos: detect (MTCNN) and align the face in each first'), 'with --detect, which face per photo: largest (default), central or best')
    .option('--out <file>', 'write JSON here instead of stdout')
    .option('--no-flip', 'no flip test-time augmentation (default: as the model card says)')
    .action(async (images: string[], o: ModelOptions & DetectCliOptions & { out?: string; flip: boolean; detect?: boolean }) => {
      const model = modelFromOptions(o);
      try {
        const emb = await model.embed(images, {
          batchSize: intOption(o.batchSize, '--batch-size', 64),
          threads: intOption(o.threads, '--threads', 2),
          flip: o.flip === false ? false : undefined,
          detect: o.detect ? detectOptionsFrom(o, 'largest') : undefined,
        });
        const json = JSON.stringify(images.map((file, i) => ({ file, embedding: Array.from(emb[i]!) })));
        if (o.out) writeFileSync(o.out, json + '\n');
        else process.stdout.write(json + '\n');
      } finally {
        model.dispose();
      }
    });
}
