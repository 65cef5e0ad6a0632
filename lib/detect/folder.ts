/**
 * Photo folders through the detector: for `align <folder>` and `pack --detect`. Each file yields
 * its aligned faces, or why it has none (unreadable, or no face found), in file order.
 */
import { join } from 'node:path';
import { alignRaw, type AlignOptions } from '../data/align.js';
import { FolderLister, type SkippedEntry } from '../io/folder-entries.js';
import type { DetectedFace, FaceDetector } from './detect.js';
import { detectStream, type DetectStreamOptions } from './stream.js';

/** What {@link detectAlignFiles} yields per file. */
export interface FileFaces {
  index: number;
  file: string;
  /** The selected faces, aligned (empty when none was found or the file could not be read). */
  faces: DetectedFace[];
  /** Why the file could not be read or decoded. */
  error?: string;
  /** The decoder's warning (a truncated JPEG, decoded with grey rows). */
  warning?: string;
}

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** The photos of a folder: {@link listPhotos}. */
export interface PhotoListing {
  /** JPEG/PNG files under the folder (recursively), relative to it, sorted. */
  files: string[];
  /** Entries left out: symbolic links that lead out of the folder, broken ones, cycles, non-regular files. */
  skipped: SkippedEntry[];
}

/**
 * JPEG/PNG files under `folder` (recursively), as paths relative to it, sorted; symbolic links are
 * followed while they stay inside the folder (see {@link FolderLister}).
 */
export function listPhotos(folder: string): PhotoListing {
  const lister = new FolderLister(folder);
  const files: string[] = [];
  const walk = (rel: string, chain: string[]): void => {
    const { files: fs, dirs } = lister.list(rel, { chain, file: (name) => IMAGE_EXT.test(name) });
    for (const f of fs) files.push(rel === '' ? f : join(rel, f));
    for (const d of dirs) {
      const sub = rel === '' ? d : join(rel, d);
      walk(sub, [...chain, lister.realPath(sub)]);
    }
  };
  walk('', [lister.realPath('')]);
  return { files: files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), skipped: lister.skipped };
}

/**
 * Detects and aligns the faces of photo files, `batch` files at a time (default 16), the next ones
 * read while the current batch is detected, within `maxDecodedBytes` of decoded photos (see
 * {@link detectStream}). `select` defaults to 'largest'.
 */
export async function* detectAlignFiles(
  detector: FaceDetector,
  files: readonly string[],
  options: DetectStreamOptions & AlignOptions = {},
): AsyncGenerator<FileFaces> {
  const { size, ...rest } = options;
  for await (const r of detectStream(detector, files, { ...rest, select: options.select ?? 'largest' })) {
    const faces = r.faces.map((face) => ({ ...alignRaw(r.image!, face.landmarks, { size }), face }));
    yield { index: r.index, file: files[r.index]!, faces, ...(r.error === undefined ? {} : { error: r.error }), ...(r.warning === undefined ? {} : { warning: r.warning }) };
  }
}
