/** `ecacface pack <image-folder> <out-dir>`: an image folder → insightface RecordIO (rec, idx, property). */
import type { Command } from 'commander';
import { openImageFolder } from '../../data/image-folder.js';
import { imageDimensions } from '../../data/image-size.js';
import { writeRecordIO, type RecordIOInput } from '../../data/recordio-writer.js';
import { countProgress } from '../progress.js';
import { encodeJpeg } from '../../data/codec.js';
import { FaceDetector } from '../../detect/detect.js';
import { detectAlignFiles } from '../../detect/folder.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addDetectOptions, detectOptionsFrom, type DetectCliOptions } from './detect.js';
import { checkDevice } from '../../tensor/device.js';
import { describeSkipped } from '../../io/folder-entries.js';
import { readRegularFile } from '../../io/regular-file.js';

export function registerPack(program: Command): void {
  const cmd = program
    .command('pack')
    .description('pack root/<identity>/<image>.jpg|png into train.rec, train.idx and property (insightface face2rec2 layout)')
    .argument('<image-folder>', 'root folder with one sub-folder per identity')
    .argument('<out-dir>', 'output folder (created if missing)')
    .option('--label-form <form>', "image record labels: 'array' (face2rec2: [class, 1.0]) or 'scalar'", 'array')
    .option('--quiet', 'no progress output')
    .option('--detect', 'the images are raw photos: detect (MTCNN), align to 112×112 and store the aligned face (JPEG q95); photos without a face are skipped and listed in <out-dir>/skipped.txt')
    .option('--device <device>', "with --detect: detector device ('cpu', 'cuda', 'cuda:N')", 'cpu');
  addDetectOptions(cmd, "with --detect: which face per photo: largest (default), central or best")
    .action(async (root: string, out: string, opts: DetectCliOptions & { labelForm: string; quiet?: boolean; detect?: boolean }) => {
      if (opts.labelForm !== 'array' && opts.labelForm !== 'scalar') throw new Error(`--label-form must be 'array' or 'scalar', got '${opts.labelForm}'`);
      if (opts.detect) {
        await packDetected(root, out, opts);
        return;
      }
      const ds = openImageFolder(root);
      if (ds.skipped.length) console.warn(describeSkipped(ds.skipped, 'pack'));
      let size: [number, number] | undefined;
      const odd: string[] = [];
      function* samples(): Generator<{ image: Buffer; label: number }> {
        for (let i = 0; i < ds.length; i++) {
          const file = ds.files[i]!;
          const image = readRegularFile(file, 'image');
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

async function packDetected(root: string, out: string, opts: DetectCliOptions & { labelForm: string; quiet?: boolean }): Promise<void> {
  const d = detectOptionsFrom(opts, 'largest');
  if (d.select === 'all') throw new Error("pack --detect: --select must be largest, central or best (one face per photo)");
  const ds = openImageFolder(root);
  if (ds.skipped.length) console.warn(describeSkipped(ds.skipped, 'pack'));
  const detector = new FaceDetector({ device: checkDevice(opts.device ?? 'cpu', '--device') });
  const skipped: string[] = [];
  const warnings: string[] = [];
  let done = 0;
  // identities whose photos were all skipped get no label: the rest stay 0, 1, 2, … in folder order
  let lastIdentity = -1;
  let label = -1;
  const progress = countProgress();
  async function* samples(): AsyncGenerator<RecordIOInput> {
    for await (const r of detectAlignFiles(detector, ds.files, d)) {
      done++;
      if (!opts.quiet && (done % 100 === 0 || done === ds.length)) progress('pack: photos', done, ds.length);
      if (r.warning !== undefined) warnings.push(r.warning);
      const face = r.faces[0];
      if (!face) {
        skipped.push(`${r.file}\t${r.error ?? 'no face found'}`);
        continue;
      }
      if (ds.labels[r.index]! !== lastIdentity) {
        lastIdentity = ds.labels[r.index]!;
        label++;
      }
      yield { image: encodeJpeg(face.data, face.width, face.height, 95), label };
    }
  }
  const t0 = Date.now();
  try {
    // nothing is written (no empty pack over an earlier one) until a first face is found
    const faces = samples();
    const first = await faces.next();
    if (first.done) {
      progress.end();
      throw new Error(`pack --detect: no face found in any of the ${ds.length} photos under '${root}'; nothing was written${skipped.length ? ` (${skipped.slice(0, 3).map((x) => x.replace('\t', ': ')).join('; ')}${skipped.length > 3 ? '; …' : ''})` : ''}`);
    }
    const r = await writeRecordIO(out, prepend(first.value, faces), { labelForm: opts.labelForm as 'array' | 'scalar' });
    progress.end();
    console.log(`packed ${r.images} aligned faces of ${r.numClasses} identities (112x112) from ${ds.length} photos into ${r.rec} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (r.numClasses < ds.classes.length) console.warn(`pack: ${ds.classes.length - r.numClasses} identities had no photo with a face and were left out`);
  } finally {
    detector.dispose();
  }
  for (const w of warnings.slice(0, 10)) console.warn(`pack: warning: ${w}`);
  if (warnings.length > 10) console.warn(`pack: … and ${warnings.length - 10} more warnings`);
  if (skipped.length) {
    writeFileSync(join(out, 'skipped.txt'), skipped.join('\n') + '\n');
    console.warn(`pack: skipped ${skipped.length} photos without a readable face (listed in ${join(out, 'skipped.txt')}): ${skipped.slice(0, 5).map((s) => s.split('\t')[0]).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  }
}

/** `first`, then the rest of `rest`. */
async function* prepend<T>(first: T, rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield first;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}
