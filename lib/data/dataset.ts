/**
 * The shape shared by every indexed image dataset ({@link openRecordIO}, {@link openImageFolder}),
 * and the internal hook through which the loader hands whole batches to native code.
 */

/** One sample: the encoded image (JPEG/PNG bytes) and its integer class. */
export interface Sample {
  image: Buffer;
  label: number;
}

/** An indexed dataset of encoded face images with integer identity labels. */
export interface ImageDataset {
  /** Number of images. */
  readonly length: number;
  /** Number of identities; labels are in [0, numClasses). */
  readonly numClasses: number;
  /** Image size [height, width] when the dataset declares one (RecordIO property file). */
  readonly imageSize?: readonly [number, number] | undefined;
  /** Reads sample `i` (0-based) synchronously. */
  read(i: number): Sample;
  /** Releases file handles (idempotent). */
  close(): void;
}

/**
 * Where the native batch decoder finds samples: `offsets[k] ≥ 0` is a RecordIO record at that
 * byte offset of `paths[pathIndex[k]]` (label read from its IRHeader when `labels[k]` is NaN);
 * `offsets[k] = −1` is a whole image file.
 * @internal
 */
export interface BatchItems {
  paths: string[];
  pathIndex: Int32Array;
  offsets: Float64Array;
  labels: Float64Array;
}

/** @internal Datasets that the native batch path can read directly implement this. */
export const batchItems = Symbol('ecacface.data.batchItems');

/** @internal */
export interface NativeReadable {
  [batchItems](indices: readonly number[]): BatchItems;
}

/** @internal */
export function isNativeReadable(d: unknown): d is NativeReadable {
  return typeof d === 'object' && d !== null && typeof (d as Partial<NativeReadable>)[batchItems] === 'function';
}
