/** `ecacface pack <image-folder> <out-dir>`: an image folder → insightface RecordIO (rec, idx, property). */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { openImageFolder } from '../../data/image-folder.js';
import { imageDimensions } from '../../data/image-size.js';
import { writeRecordIO } from '../../data/recordio-writer.js';
import { countProgress } from '../progress.js';

export function registerPack(program: Command): void {
  program
    .command('pack')
    .description('pack root/<identity>/<image>.jpg|png into train.rec, train.idx and property (insightface face2rec2 layout)')
    .argument('<image-folder>', 'root folder with one sub-folder per identity')
    .argument('<out-dir>', 'output folder (created if missing)')
    .option('--label-form <form>', "image record labels: 'array' (face2rec2: [class, 1.0]) or 'scalar'", 'array')
    .option('--quiet', 'no progress output')
    .action(async (root: string, out: string, opts: { labelForm: string; quiet?: boolean }) => {
      if (opts.labelForm !== 'array' && opts.labelForm !== 'scalar') throw new Error(`--label-form must be 'array' or 'scalar', got '${opts.labelForm}'`);
      const ds = openImageFolder(root);
      let size: [number, number] | undefined;
      const odd: string[] = [];
      function* samples(): Generator<{ image: Buffer; label: number }> {
        for (let i = 0; i < ds.length; i++) {
          const file = ds.files[i]!;
          const image = readFileSync(file);
          const dims = imageDimensions(image);
          if (!dims) throw new Error(`pack: ${file} is not a readable JPEG/PNG`);
          size ??= dims;
          if (dims[0] !== size[0] || dims[1] !== size[1]) odd.push(`${file} (${dims[1]}x${dims[0]})`);
          yield { image, label: ds.labels[i]! };
        }
      }
      const t0 = Date.now();
      const progress = countProgress();
      const r = await writeRecordIO(out, samples(), {
        labelForm: opts.labelForm,
        onProgress: (n) => {
          if (!opts.quiet && (n % 1000 === 0 || n === ds.length)) progress('pack: images', n, ds.length);
        },
      });
      console.log(`packed ${r.images} images of ${r.numClasses} identities (${r.imageSize[1]}x${r.imageSize[0]}) into ${r.rec} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      if (odd.length) {
        console.warn(`pack: ${odd.length} images differ from ${r.imageSize[1]}x${r.imageSize[0]} (the loader will skip them): ${odd.slice(0, 5).join(', ')}${odd.length > 5 ? ', …' : ''}`);
      }
    });
}
