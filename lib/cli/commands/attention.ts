/**
 * `ecacface attention <model> <faces…>`: draws where ESCA attends — per stage the spatial attention
 * map upsampled over the face, and the channel-attention profile — one PNG per face.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { attentionMaps } from '../../eval/attention.js';
import { renderAttention } from '../../plot/attention.js';
import { intOption, modelFromOptions } from '../model-option.js';

export function registerAttention(program: Command): void {
  program
    .command('attention')
    .description("draw ESCA's spatial attention maps (per stage, over the face) and channel-attention profile, one PNG per face")
    .argument('<model>', 'a model folder, a training run directory (model-best, else model-last), a model card .json or a .safetensors with a card')
    .argument('<faces...>', 'aligned face images (JPEG/PNG) at the model input size')
    .option('--out <dir>', 'folder for the pictures', 'attention-out')
    .option('--device <device>', "'cpu', 'cuda' or 'cuda:N'", 'cpu')
    .option('--svg', 'also write the SVG')
    .action(async (modelPath: string, faces: string[], o: { out: string; device: string; svg?: boolean }) => {
      const model = modelFromOptions({ model: modelPath, device: o.device });
      try {
        const maps = await attentionMaps(model, faces, { threads: intOption(undefined, '--threads', 2) });
        mkdirSync(o.out, { recursive: true });
        const used = new Set<string>();
        maps.forEach((a, i) => {
          let name = basename(faces[i]!, extname(faces[i]!));
          while (used.has(name)) name += '_';
          used.add(name);
          const { svg, png } = renderAttention(a, { title: basename(faces[i]!) });
          const file = join(o.out, `${name}-attention.png`);
          writeFileSync(file, png);
          if (o.svg) writeFileSync(join(o.out, `${name}-attention.svg`), svg);
          const summary = a.stages.map((s) => `stage ${s.stage} ${s.height}×${s.width} σ̄ ${(s.spatial.reduce((x, y) => x + y, 0) / s.spatial.length).toFixed(2)}`).join(', ');
          console.log(`${file}: ${summary}`);
        });
      } finally {
        model.dispose();
      }
    });
}
