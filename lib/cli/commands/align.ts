/**
 * `ecacface align <folder> --landmarks <file> --out <dir>`: five-point alignment of every listed
 * image to the 112×112 insightface template; writes lossless PNGs with the same relative names.
 * Without --landmarks, the landmarks are detected (MTCNN) in every JPEG/PNG under the folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import type { Command } from 'commander';
import { decode, encodePng } from '../../data/codec.js';
import { align } from '../../data/align.js';
import { readLandmarks } from '../../eval/landmarks.js';
import { FaceDetector } from '../../detect/detect.js';
import { detectAlignFiles, listPhotos } from '../../detect/folder.js';
import { confinedPath } from '../../io/confined-path.js';
import { describeSkipped, FolderLister } from '../../io/folder-entries.js';
import { describeRenamed, OutputNames } from '../../io/output-names.js';
import { readRegularFile } from '../../io/regular-file.js';
import { intOption } from '../model-option.js';
import { addDetectOptions, detectOptionsFrom, type DetectCliOptions } from './detect.js';
import { checkDevice } from '../../tensor/device.js';

export function registerAlign(program: Command): void {
  addDetectOptions(
    program
      .command('align')
      .description('align faces to the 112×112 five-point template (similarity transform + bilinear warp); landmarks from a file or detected')
      .argument('<folder>', 'folder with the images (those named in the landmarks file, or every JPEG/PNG under it)')
      .option('--landmarks <file>', "JSON {file: [x0,y0,…,x4,y4]} or text lines 'file x0 y0 … x4 y4' (eyes, nose, mouth corners); without it, faces are detected")
      .option('--out <dir>', 'output folder', 'aligned')
      .option('--size <n>', 'output side length (112, or 128, 224, …)', '112'),
    "without --landmarks: which faces per photo: largest (default), central, best, or all (<name>_<k>.png)",
  )
    .option('--device <device>', "detector device: 'cpu', 'cuda' or 'cuda:N'", 'cpu')
    .action(async (folder: string, o: DetectCliOptions & { landmarks?: string; out: string; size: string }) => {
      const size = intOption(o.size, '--size', 112);
      if (o.landmarks === undefined) {
        await alignDetected(folder, o, size);
        return;
      }
      const lmFile = o.landmarks;
      const entries = readLandmarks(lmFile);
      // Every name comes from the landmarks file: each must stay inside the image folder and its
      // output inside --out. One bad name refuses the whole file before anything is written.
      const names = new OutputNames();
      const jobs = entries.map((e) => {
        const p = parse(e.file);
        return {
          e,
          src: confinedPath(folder, e.file, lmFile, 'image'),
          dest: confinedPath(o.out, names.claim(join(p.dir, `${p.name}.png`), e.file), lmFile, 'output file'),
        };
      });
      const inside = new FolderLister(folder);
      const failed: string[] = [];
      const warnings: string[] = [];
      for (const { e, src, dest } of jobs) {
        try {
          inside.assertInside(src);
          const img = decode(readRegularFile(src, 'image'));
          if (img.warning !== undefined) warnings.push(`${e.file}: ${img.warning}`);
          const face = align(img, e.landmarks, { size });
          mkdirSync(dirname(dest), { recursive: true });
          writeFileSync(dest, encodePng(face.data, face.width, face.height));
        } catch (err) {
          failed.push(`${e.file}: ${(err as Error).message}`);
        }
      }
      console.log(`aligned ${entries.length - failed.length} of ${entries.length} images into ${o.out} (${size}×${size} PNG)`);
      reportList(warnings, 'warning');
      const renamed = describeRenamed(names.renamed, 'align');
      if (renamed) console.warn(renamed);
      if (failed.length) {
        reportList(failed, 'failed');
        process.exitCode = 1;
      }
    });
}

/** Prints up to 10 lines of a list to stderr, then a count of the rest. */
function reportList(lines: readonly string[], what: string): void {
  for (const f of lines.slice(0, 10)) console.error(`align: ${what === 'warning' ? 'warning: ' : ''}${f}`);
  if (lines.length > 10) console.error(`align: … and ${lines.length - 10} more ${what === 'warning' ? 'warnings' : 'failures'}`);
}

async function alignDetected(folder: string, o: DetectCliOptions & { out: string }, size: number): Promise<void> {
  const opts = detectOptionsFrom(o, 'largest');
  let listing;
  try {
    listing = listPhotos(folder);
  } catch (e) {
    throw new Error(`align: cannot read ${folder}: ${(e as Error).message}`);
  }
  const { files, skipped } = listing;
  if (skipped.length) console.warn(describeSkipped(skipped, 'align'));
  if (files.length === 0) throw new Error(`align: no JPEG/PNG files under '${folder}'`);
  const detector = new FaceDetector({ device: checkDevice(o.device ?? 'cpu', '--device') });
  const noFace: string[] = [];
  const failed: string[] = [];
  const warnings: string[] = [];
  const names = new OutputNames();
  let faces = 0;
  try {
    for await (const r of detectAlignFiles(detector, files.map((f) => join(folder, f)), { ...opts, size })) {
      const rel = files[r.index]!;
      if (r.error !== undefined) failed.push(r.error);
      else if (r.faces.length === 0) noFace.push(rel);
      if (r.warning !== undefined) warnings.push(r.warning);
      const p = parse(rel);
      r.faces.forEach((face, k) => {
        const dest = join(o.out, names.claim(join(p.dir, r.faces.length > 1 || opts.select === 'all' ? `${p.name}_${k}.png` : `${p.name}.png`), rel));
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, encodePng(face.data, face.width, face.height));
        faces++;
      });
    }
  } finally {
    detector.dispose();
  }
  console.log(`aligned ${faces} faces from ${files.length - noFace.length - failed.length} of ${files.length} photos into ${o.out} (${size}×${size} PNG)`);
  if (noFace.length) console.warn(`align: no face found in ${noFace.length} photos: ${noFace.slice(0, 10).join(', ')}${noFace.length > 10 ? ', …' : ''}`);
  reportList(warnings, 'warning');
  const renamed = describeRenamed(names.renamed, 'align');
  if (renamed) console.warn(renamed);
  reportList(failed, 'failed');
  if (faces === 0) throw new Error(`align: no face found in any of the ${files.length} photos under '${folder}'; nothing was written`);
  if (failed.length) process.exitCode = 1;
}
