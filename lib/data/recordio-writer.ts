/**
 * Writes insightface packed datasets in the face2rec2 layout: image records with keys 1..N
 * grouped by identity, then the key-0 header record, then one identity record per class; plus
 * `train.idx` (file order) and `property`.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { imageDimensions } from './image-size.js';
import { encodeRecord, packIR } from './recordio-format.js';

/** Options of {@link writeRecordIO}. */
export interface WriteRecordIOOptions {
  /**
   * Label form of the image records: `'array'` (default, face2rec2: flag 2, labels
   * [class, 1.0]) or `'scalar'` (rec_builder: flag 0, label = class).
   */
  labelForm?: 'array' | 'scalar';
  /** [height, width] for `property`; default: read from the first image's header. */
  imageSize?: readonly [number, number];
  /** Called after each image record with the number written so far. */
  onProgress?: (written: number) => void;
}

/**
 * One input item of {@link writeRecordIO}: a sample `{ image, label }`, or a whole identity
 * `{ images }` (which gets the next label).
 */
export type RecordIOInput = { image: Uint8Array; label: number } | { images: readonly Uint8Array[] };

/** What {@link writeRecordIO} wrote. */
export interface WriteRecordIOResult {
  rec: string;
  idx: string;
  property: string;
  images: number;
  numClasses: number;
  imageSize: [number, number];
}

/**
 * Writes samples as `dir/train.rec`, `dir/train.idx` and `dir/property`. Samples must come
 * grouped by identity with labels 0, 1, 2, … in order (each identity one contiguous run, at least
 * one image each), as {@link openImageFolder} yields them — or as `{ images }` groups, one per
 * identity, labelled in order. The images are stored as given
 * (already encoded JPEG/PNG). Accepts sync or async iterables.
 */
export async function writeRecordIO(
  dir: string,
  samples: Iterable<RecordIOInput> | AsyncIterable<RecordIOInput>,
  options: WriteRecordIOOptions = {},
): Promise<WriteRecordIOResult> {
  mkdirSync(dir, { recursive: true });
  const rec = join(dir, 'train.rec');
  const idx = join(dir, 'train.idx');
  const property = join(dir, 'property');
  const fd = openSync(rec, 'w');
  const idxFd = openSync(idx, 'w');
  let idxChunk = '';
  const flushIdx = (): void => {
    if (idxChunk) writeSync(idxFd, idxChunk);
    idxChunk = '';
  };
  let pos = 0;
  const put = (key: number, payload: Uint8Array): void => {
    const bytes = encodeRecord(payload);
    idxChunk += `${key}\t${pos}\n`;
    if (idxChunk.length > 65536) flushIdx();
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, pos + done);
    pos += bytes.length;
  };
  const form = options.labelForm ?? 'array';
  let size = options.imageSize ? ([options.imageSize[0], options.imageSize[1]] as [number, number]) : undefined;
  const starts: number[] = [];
  let n = 0;
  let current = -1;
  try {
    const write = (image: Uint8Array, label: number): void => {
      if (label !== current) {
        if (label !== current + 1) {
          throw new Error(`writeRecordIO: sample ${n} has label ${label} after label ${current}; samples must be grouped by identity with labels 0, 1, 2, … in order`);
        }
        current = label;
        starts.push(n + 1);
      }
      if (!size) {
        size = imageDimensions(image);
        if (!size) throw new Error(`writeRecordIO: sample ${n} is not a JPEG or PNG (cannot read its size); pass options.imageSize`);
      }
      n++;
      put(n, packIR(form === 'array' ? [label, 1] : label, image, BigInt(n)));
      options.onProgress?.(n);
    };
    for await (const s of samples as AsyncIterable<RecordIOInput>) {
      if ('images' in s) {
        if (s.images.length === 0) throw new Error(`writeRecordIO: identity ${current + 1} has no images`);
        const label = current + 1;
        for (const image of s.images) write(image, label);
      } else {
        write(s.image, s.label);
      }
    }
    const c = starts.length;
    put(0, packIR([n + 1, n + 1 + c], new Uint8Array(0)));
    for (let k = 0; k < c; k++) put(n + 1 + k, packIR([starts[k]!, k + 1 < c ? starts[k + 1]! : n + 1], new Uint8Array(0)));
    flushIdx();
  } finally {
    closeSync(fd);
    closeSync(idxFd);
  }
  const imageSize = size ?? [112, 112];
  writeFileSync(property, `${starts.length},${imageSize[0]},${imageSize[1]}\n`);
  return { rec, idx, property, images: n, numClasses: starts.length, imageSize };
}
