/**
 * Image folders as face.evoLVe users keep CASIA: `root/<identity>/<image>.jpg|jpeg|png`.
 * Identities are the sub-directories sorted by name (code-unit order, as Python's `sorted`),
 * labels 0..C−1 in that order; images inside an identity are sorted by name too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
}

const IMAGE_EXT = /\.(jpe?g|png)$/i;
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lists `root/<identity>/<image>` and reads the first image's header for `imageSize` (JPEG/PNG by extension; other files are ignored). Identities
 * without images are skipped (they get no label). Throws if the folder has no images.
 */
export function openImageFolder(root: string): ImageFolderDataset {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch (e) {
    throw new Error(`openImageFolder: cannot read ${root}: ${(e as Error).message}`);
  }
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort(byName);
  const classes: string[] = [];
  const files: string[] = [];
  const labels: number[] = [];
  for (const d of dirs) {
    const imgs = readdirSync(join(root, d), { withFileTypes: true })
      .filter((e) => e.isFile() && IMAGE_EXT.test(e.name))
      .map((e) => e.name)
      .sort(byName);
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
  const imageSize = imageDimensions(readFileSync(files[0]!));
  return {
    root,
    classes,
    files,
    labels: labelArr,
    length: files.length,
    numClasses: classes.length,
    imageSize,
    read(i: number): Sample {
      if (!Number.isInteger(i) || i < 0 || i >= files.length) throw new RangeError(`read: index ${i} out of range [0, ${files.length})`);
      return { image: readFileSync(files[i]!), label: labelArr[i]! };
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
