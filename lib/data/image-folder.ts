/**
 * Image folders as face.evoLVe users keep CASIA: `root/<identity>/<image>.jpg|jpeg|png`.
 * Identities are the sub-directories sorted by name (code-unit order, as Python's `sorted`),
 * labels 0..C−1 in that order; images inside an identity are sorted by name too. Symbolic links
 * (identity folders or images) are followed while they stay inside the root; others are listed in
 * `skipped`.
 */
import { join } from 'node:path';
import { FolderLister, type SkippedEntry } from '../io/folder-entries.js';
import { readRegularFile } from '../io/regular-file.js';
import { imageDimensions } from './image-size.js';
import { batchItems, type BatchItems, type ImageDataset, type NativeReadable, type Sample } from './dataset.js';

/** An image folder opened by {@link openImageFolder}. */
export interface ImageFolderDataset extends ImageDataset, NativeReadable {
  readonly root: string;
  /** Identity directory names, index = label. */
  readonly classes: readonly string[];
  /** Image file paths in dataset order (grouped by identity). */
  readonly files: readonly string[];
  /** Label of each image. */
  readonly labels: Int32Array;
  /**
   * Entries left out: symbolic links that lead out of the root, broken ones, cycles, and images
   * that are not regular files (e.g. a FIFO named `x.jpg`).
   */
  readonly skipped: readonly SkippedEntry[];
}

const IMAGE_EXT = /\.(jpe?g|png)$/i;
const isImageName = (name: string): boolean => IMAGE_EXT.test(name);

/**
 * Lists `root/<identity>/<image>` and reads the first image's header for `imageSize` (JPEG/PNG by extension; other files are ignored). Identities
 * without images are skipped (they get no label). Throws if the folder has no images.
 */
export function openImageFolder(root: string): ImageFolderDataset {
  let lister: FolderLister;
  let dirs: string[];
  try {
    lister = new FolderLister(root);
    dirs = lister.list('', { file: () => false }).dirs;
  } catch (e) {
    throw new Error(`openImageFolder: cannot read ${root}: ${(e as Error).message}`);
  }
  const classes: string[] = [];
  const files: string[] = [];
  const labels: number[] = [];
  for (const d of dirs) {
    const imgs = lister.list(d, { file: isImageName, folders: false }).files;
    if (imgs.length === 0) continue;
    const label = classes.length;
    classes.push(d);
    for (const f of imgs) {
      files.push(join(root, d, f));
      labels.push(label);
    }
  }
  if (files.length === 0) throw new Error(`openImageFolder: no images found under ${root} (expected root/<identity>/<image>.jpg|png)`);
  const labelArr = Int32Array.from(labels);
  // The loader's default size: the first image's (face crops of one folder share a size).
  const imageSize = imageDimensions(readRegularFile(files[0]!, 'image'));
  return {
    root,
    classes,
    files,
    labels: labelArr,
    skipped: lister.skipped,
    length: files.length,
    numClasses: classes.length,
    imageSize,
    read(i: number): Sample {
      if (!Number.isInteger(i) || i < 0 || i >= files.length) throw new RangeError(`read: index ${i} out of range [0, ${files.length})`);
      return { image: readRegularFile(files[i]!, 'image'), label: labelArr[i]! };
    },
    close(): void {},
    [batchItems](indices: readonly number[]): BatchItems {
      const m = indices.length;
      const items: BatchItems = { paths: new Array<string>(m), pathIndex: new Int32Array(m), offsets: new Float64Array(m).fill(-1), labels: new Float64Array(m) };
      for (let k = 0; k < m; k++) {
        const i = indices[k]!;
        items.paths[k] = files[i]!;
        items.pathIndex[k] = k;
        items.labels[k] = labelArr[i]!;
      }
      return items;
    },
  };
}
