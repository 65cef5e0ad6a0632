/**
 * `ecacface detect <photos…>`: MTCNN face detection; writes boxes, scores and five landmarks as JSON
 * and, with `--draw <dir>`, each photo as PNG with its detections drawn.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, parse } from 'node:path';
import type { Command } from 'commander';
import { encodePng } from '../../data/codec.js';
import { FACE_SELECTIONS, FaceDetector, type FaceSelection } from '../../detect/detect.js';
import { drawFaces } from '../../detect/draw.js';
import type { Face } from '../../detect/mtcnn.js';
import { detectStream } from '../../detect/stream.js';
import { describeRenamed, OutputNames } from '../../io/output-names.js';
import { checkDevice } from '../../tensor/device.js';
import { checkIntText } from '../../check.js';
import { choiceOption, intOption } from '../model-option.js';

/** Options shared by the commands that detect (--detect on embed, compare, align, pack). */
export interface DetectCliOptions {
  minFace?: string;
  select?: string;
  device?: string;
}

/** Parses --min-face and --select into detect options. */
export function detectOptionsFrom(o: DetectCliOptions, defaultSelect: FaceSelection): { minFaceSize: number; select: FaceSelection } {
  const minFaceSize = o.minFace === undefined ? 20 : checkIntText('--min-face (pixels)', o.minFace, 12);
  const select = o.select === undefined ? defaultSelect : choiceOption(o.select, FACE_SELECTIONS, '--select');
  return { minFaceSize, select };
}

/** Adds --min-face and --select to a command that detects. */
export function addDetectOptions(cmd: Command, selectHelp: string): Command {
  return cmd
    .option('--min-face <px>', 'smallest face side to find, in pixels', '20')
    .option('--select <which>', selectHelp);
}

function round(f: Face): object {
  const r = (v: number): number => Math.round(v * 100) / 100;
  return { box: f.box.map(r), score: Math.round(f.score * 1e5) / 1e5, landmarks: f.landmarks.map(([x, y]) => [r(x), r(y)]) };
}

export function registerDetect(program: Command): void {
  addDetectOptions(
    program
      .command('detect')
      .description('find faces (MTCNN): boxes, scores and five landmarks as JSON; --draw writes pictures with them drawn')
      .argument('<photos...>', 'photo files (JPEG/PNG; EXIF orientation is applied)'),
    "which faces per photo: all (default), largest, central or best",
  )
    .option('--out <file>', 'write the JSON here instead of stdout')
    .option('--draw <dir>', 'write <dir>/<name>.png per photo with boxes and landmarks drawn')
    .option('--device <device>', "'cpu', 'cuda' or 'cuda:N'", 'cpu')
    .option('--batch <n>', 'photos detected together', '16')
    .action(async (photos: string[], o: DetectCliOptions & { out?: string; draw?: string; batch?: string }) => {
      const opts = detectOptionsFrom(o, 'all');
      const batch = intOption(o.batch, '--batch', 16);
      const detector = new FaceDetector({ device: checkDevice(o.device ?? 'cpu', '--device') });
      const results: object[] = [];
      const drawings = new OutputNames();
      const warnings: string[] = [];
      let failed = 0;
      try {
        if (o.draw) mkdirSync(o.draw, { recursive: true });
        for await (const r of detectStream(detector, photos, { ...opts, batch })) {
          const file = photos[r.index]!;
          if (r.error !== undefined) {
            failed++;
            results.push({ file, error: r.error });
            continue;
          }
          const img = r.image!;
          const entry: Record<string, unknown> = { file, width: img.width, height: img.height, faces: r.faces.map(round) };
          if (r.warning !== undefined) {
            entry.warning = r.warning;
            warnings.push(r.warning);
          }
          if (o.draw) {
            // a/x.jpg and b/x.jpg both want x.png: the second gets x-2.png (named in the JSON)
            const name = drawings.claim(`${parse(basename(file)).name}.png`, file);
            const d = drawFaces(img, r.faces);
            writeFileSync(join(o.draw, name), encodePng(d.data, d.width, d.height));
            entry.drawing = join(o.draw, name);
          }
          results.push(entry);
        }
      } finally {
        detector.dispose();
      }
      const json = `[\n${results.map((r) => ' ' + JSON.stringify(r)).join(',\n')}\n]`;
      if (o.out) writeFileSync(o.out, json + '\n');
      else process.stdout.write(json + '\n');
      const n = results.reduce((a, r) => a + ((r as { faces?: unknown[] }).faces?.length ?? 0), 0);
      for (const w of warnings.slice(0, 10)) process.stderr.write(`detect: warning: ${w}\n`);
      if (warnings.length > 10) process.stderr.write(`detect: … and ${warnings.length - 10} more warnings (see "warning" in the JSON)\n`);
      const renamed = describeRenamed(drawings.renamed, 'detect');
      if (renamed) process.stderr.write(renamed + '\n');
      const drawn = o.draw ? `; ${drawings.size} drawings in ${o.draw}` : '';
      process.stderr.write(`detect: ${n} faces in ${photos.length - failed} photos${failed ? `; ${failed} could not be read (see "error" in the JSON)` : ''}${drawn}\n`);
      if (failed) process.exitCode = 1;
    });
}
