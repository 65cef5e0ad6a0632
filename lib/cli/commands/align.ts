/**
 * `ecacface align <folder> --landmarks <file> --out <dir>`: five-point alignment of every listed
 * image to the 112×112 insightface template; writes lossless PNGs with the same relative names.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import type { Command } from 'commander';
import { encodePng } from '../../data/codec.js';
import { align } from '../../eval/align.js';
import { readLandmarks } from '../../eval/landmarks.js';
import { confinedPath } from '../../io/confined-path.js';
import { readRegularFile } from '../../io/regular-file.js';
import { intOption } from '../model-option.js';

export function registerAlign(program: Command): void {
  program
    .command('align')
    .description('align faces to the 112×112 five-point template (similarity transform + bilinear warp)')
    .argument('<folder>', 'folder with the images named in the landmarks file')
    .requiredOption('--landmarks <file>', "JSON {file: [x0,y0,…,x4,y4]} or text lines 'file x0 y0 … x4 y4' (eyes, nose, mouth corners)")
    .option('--out <dir>', 'output folder', 'aligned')
    .option('--size <n>', 'output side length (112, or 128, 224, …)', '112')
    .action((folder: string, o: { landmarks: string; out: string; size: string }) => {
      const size = intOption(o.size, '--size', 112);
      const entries = readLandmarks(o.landmarks);
      // Every name comes from the landmarks file: each must stay inside the image folder and its
      // output inside --out. One bad name refuses the whole file before anything is written.
      const jobs = entries.map((e) => {
        const p = parse(e.file);
        return {
          e,
          src: confinedPath(folder, e.file, o.landmarks, 'image'),
          dest: confinedPath(o.out, join(p.dir, `${p.name}.png`), o.landmarks, 'output file'),
        };
      });
      const failed: string[] = [];
      for (const { e, src, dest } of jobs) {
        try {
          const face = align(readRegularFile(src, 'image'), e.landmarks, { size });
          mkdirSync(dirname(dest), { recursive: true });
          writeFileSync(dest, encodePng(face.data, face.width, face.height));
        } catch (err) {
          failed.push(`${e.file}: ${(err as Error).message}`);
        }
      }
      console.log(`aligned ${entries.length - failed.length} of ${entries.length} images into ${o.out} (${size}×${size} PNG)`);
      if (failed.length) {
        for (const f of failed.slice(0, 10)) console.error(`align: ${f}`);
        if (failed.length > 10) console.error(`align: … and ${failed.length - 10} more`);
        process.exitCode = 1;
      }
    });
}
