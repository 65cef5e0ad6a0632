/** `ecacface embed --model <m> <images…>`: L2-normalised embeddings as JSON. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addModelOptions, intOption, modelFromOptions, type ModelOptions } from '../model-option.js';

export function registerEmbed(program: Command): void {
  addModelOptions(program.command('embed').description('embeddings of aligned face images (JPEG/PNG files) as JSON'))
    .argument('<images...>', 'image files (aligned 112×112 faces; see ecacface align)')
    .option('--out <file>', 'write JSON here instead of stdout')
    .option('--no-flip', 'no flip test-time augmentation (default: as the model card says)')
    .action(async (images: string[], o: ModelOptions & { out?: string; flip: boolean }) => {
      const model = modelFromOptions(o);
      try {
        const emb = await model.embed(images, {
          batchSize: intOption(o.batchSize, '--batch-size', 64),
          threads: intOption(o.threads, '--threads', 2),
          flip: o.flip === false ? false : undefined,
        });
        const json = JSON.stringify(images.map((file, i) => ({ file, embedding: Array.from(emb[i]!) })));
        if (o.out) writeFileSync(o.out, json + '\n');
        else process.stdout.write(json + '\n');
      } finally {
        model.dispose();
      }
    });
}
