/**
 * `ecacface detect <photos…>`: MTCNN face detection; writes boxes, scores and five landmarks as JSON
 * and, with `--draw <dir>`, each photo as PNG with its detections drawn.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, parse } from 'node:path';
import type { Command } from 'commander';
import { encodePng } from '../../data/codec.js';
import { FACE_SELECTIONS, FaceDetector, selectFaces, type FaceSelection } from '../../detect/detect.js';
import { drawFaces } from '../../detect/draw.js';
import { loadPhoto } from '../../detect/photos.js';
import type { Face, RgbImage } from '../../detect/mtcnn.js';
import type { Device } from '../../tensor/device.js';
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
      const detector = new FaceDetector({ device: (o.device ?? 'cpu') as Device });
      const results: object[] = [];
      let failed = 0;
      try {
        if (o.draw) mkdirSync(o.draw, { recursive: true });
        for (let s = 0; s < photos.length; s += batch) {
          const files = photos.slice(s, s + batch);
          const loaded = await Promise.all(files.map((f, i) => loadPhoto(f, s + i).then((img) => ({ img }), (e: Error) => ({ error: e.message }))));
          const ok = loaded.flatMap((l, i) => ('img' in l ? [{ i, img: l.img as RgbImage }] : []));
          const faces = detector.detectImages(ok.map((x) => x.img), { minFaceSize: opts.minFaceSize });
          const byIndex = new Map(ok.map((x, k) => [x.i, { img: x.img, faces: selectFaces(faces[k]!, x.img.width, x.img.height, opts.select) }]));
          files.forEach((file, i) => {
            const r = byIndex.get(i);
            if (!r) {
              failed++;
              results.push({ file, error: (loaded[i] as { error: string }).error });
              return;
            }
            results.push({ file, width: r.img.width, height: r.img.height, faces: r.faces.map(round) });
            if (o.draw) {
              const d = drawFaces(r.img, r.faces);
              writeFileSync(join(o.draw, `${parse(basename(file)).name}.png`), encodePng(d.data, d.width, d.height));
            }
          });
        }
      } finally {
        detector.dispose();
      }
      const json = `[\n${results.map((r) => ' ' + JSON.stringify(r)).join(',\n')}\n]`;
      if (o.out) writeFileSync(o.out, json + '\n');
      else process.stdout.write(json + '\n');
      const n = results.reduce((a, r) => a + ((r as { faces?: unknown[] }).faces?.length ?? 0), 0);
      process.stderr.write(`detect: ${n} faces in ${photos.length - failed} photos${failed ? `; ${failed} could not be read (see "error" in the JSON)` : ''}\n`);
      if (failed) process.exitCode = 1;
    });
}
