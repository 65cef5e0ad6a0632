/**
 * Many photo files through the detector in batches: for `align <folder>` and `pack --detect`. Each
 * file yields its aligned faces, or why it has none (unreadable, or no face found), in file order.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { alignRaw, type AlignOptions } from '../data/align.js';
import type { DetectedFace, DetectOptions, FaceDetector } from './detect.js';
import type { RgbImage } from './mtcnn.js';
import { loadPhoto } from './photos.js';
import { checkInt } from '../check.js';

/** What {@link detectAlignFiles} yields per file. */
export interface FileFaces {
  index: number;
  file: string;
  /** The selected faces, aligned (empty when none was found or the file could not be read). */
  faces: DetectedFace[];
  /** Why the file could not be read or decoded. */
  error?: string;
}

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** JPEG/PNG files under `folder` (recursively), as paths relative to it, sorted. */
export function listPhotos(folder: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(folder, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : join(rel, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && IMAGE_EXT.test(e.name)) out.push(p);
    }
  };
  walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Detects and aligns the faces of photo files, `batch` files at a time (default 16; the next batch is
 * read while the current one is detected). `select` defaults to 'largest'.
 */
export async function* detectAlignFiles(
  detector: FaceDetector,
  files: readonly string[],
  options: DetectOptions & AlignOptions & { batch?: number } = {},
): AsyncGenerator<FileFaces> {
  const batch = checkInt('detect: batch', options.batch ?? 16, 1);
  const select = options.select ?? 'largest';
  type Loaded = { img?: RgbImage; error?: string };
  const load = (s: number): Promise<Loaded[]> =>
    Promise.all(files.slice(s, s + batch).map((f, i) => loadPhoto(f, s + i).then((img) => ({ img }), (e: Error) => ({ error: e.message }))));
  let next = load(0);
  for (let s = 0; s < files.length; s += batch) {
    const loaded = await next;
    if (s + batch < files.length) next = load(s + batch);
    const ok = loaded.flatMap((l, i) => (l.img ? [{ i, img: l.img }] : []));
    const found = detector.detectImages(ok.map((x) => x.img), { ...options, select });
    const byIndex = new Map(ok.map((x, k) => [x.i, found[k]!.map((face) => ({ ...alignRaw(x.img, face.landmarks, { size: options.size }), face }))]));
    for (let i = 0; i < loaded.length; i++) {
      const error = loaded[i]!.error;
      yield { index: s + i, file: files[s + i]!, faces: byIndex.get(i) ?? [], ...(error === undefined ? {} : { error }) };
    }
  }
}
