/**
 * Many photos through the detector with bounded memory: photos are read and decoded ahead, in
 * order, while the current batch is detected, and every decoded photo holds its RGB bytes
 * (width × height × 3, known from the header before decoding) against one {@link PixelBudget}
 * until its result has been used. A batch is up to `batch` photos whose bytes fit the budget
 * together (at least one photo), so the batch and the read-ahead share the budget, and the batches
 * — hence the detections — do not depend on timing.
 */
import { imageDimensions } from '../data/image-size.js';
import { Tensor } from '../tensor/tensor.js';
import type { DetectOptions } from './detect-options.js';
import type { Face, RgbImage } from './mtcnn.js';
import { checkDecodedBytes, PixelBudget } from './pixel-budget.js';
import { decodePhoto, describePhoto, photoFromMemory, readPhotoFile, type LoadedPhoto, type Photo } from './photos.js';

/** What {@link detectStream} needs of a detector: `FaceDetector` is one. */
export interface ImageBatchDetector {
  /** The faces of each decoded image, in order. */
  detectImages(images: readonly RgbImage[], options?: DetectOptions): Face[][];
}

/** Options of {@link detectStream}. */
export interface DetectStreamOptions extends DetectOptions {
  /** Photos detected together, at most (default 16). */
  batch?: number;
  /**
   * Bytes of decoded RGB that the photos being detected and those read ahead may hold together
   * (default {@link DEFAULT_DECODED_BYTES}, 512 MiB). A single larger photo is detected alone.
   */
  maxDecodedBytes?: number;
  /** @internal The budget to use (tests read its peak). */
  budget?: PixelBudget;
}

/** The result for one photo of {@link detectStream}. */
export interface StreamedPhoto {
  index: number;
  /** The upright photo; valid until the next result is asked for (its budget is then given back). */
  image?: LoadedPhoto;
  /** The selected faces, by descending score (empty when none was found or the photo could not be read). */
  faces: Face[];
  /** Why the photo could not be read or decoded. */
  error?: string;
  /** The decoder's warning (e.g. a truncated JPEG, decoded with grey rows). */
  warning?: string;
}

/** A promise with its resolver (filled in by the reader, awaited by the batches). */
class Slot<T> {
  resolve!: (v: T) => void;
  readonly promise = new Promise<T>((r) => (this.resolve = r));
}

interface Loaded {
  image?: LoadedPhoto;
  error?: string;
  /** Bytes held against the budget until the result is used. */
  cost: number;
}

/** The RGB bytes a photo decodes to (0 when its header cannot tell: decoding will say why). */
function decodedBytes(p: Photo, bytes: Uint8Array | undefined): number {
  if (bytes) {
    const d = imageDimensions(bytes);
    return d ? d[0] * d[1] * 3 : 0;
  }
  if (p instanceof Tensor) return (p.shape[0] ?? 0) * (p.shape[1] ?? 0) * 3;
  const r = p as { width?: unknown; height?: unknown };
  return typeof r.width === 'number' && typeof r.height === 'number' ? r.width * r.height * 3 : 0;
}

/**
 * Detects faces in photos (paths, bytes, pixels or tensors), yielding one result per photo in
 * order; a photo that cannot be read or decoded yields its `error` and the others go on. Memory
 * for decoded photos stays within `maxDecodedBytes` (see the module comment).
 */
export async function* detectStream(detector: ImageBatchDetector, photos: readonly Photo[], options: DetectStreamOptions = {}): AsyncGenerator<StreamedPhoto> {
  const batch = options.batch ?? 16;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`detect: batch must be a positive integer, got ${batch}`);
  const budget = options.budget ?? new PixelBudget(checkDecodedBytes(options.maxDecodedBytes));
  const { batch: _b, maxDecodedBytes: _m, budget: _g, ...detectOptions } = options;
  const n = photos.length;
  const costs = Array.from({ length: n }, () => new Slot<number>());
  // (a slot is dropped once its photo is taken: a resolved promise would keep the pixels alive)
  const ready: (Slot<Loaded> | undefined)[] = Array.from({ length: n }, () => new Slot<Loaded>());
  const held = new Map<number, number>(); // photo → bytes it holds (decoded, result not yet used)
  let stopped = false;

  // The reader: in order, read a photo, learn its decoded size from the header, wait for that much
  // budget, decode. At most one photo's encoded bytes are held outside the budget.
  const reader = (async (): Promise<void> => {
    for (let i = 0; i < n && !stopped; i++) {
      const p = photos[i]!;
      const what = describePhoto(p, i);
      let bytes: Uint8Array | undefined;
      let cost = 0;
      let error: string | undefined;
      try {
        if (typeof p === 'string') bytes = await readPhotoFile(p, what);
        else if (p instanceof Uint8Array) bytes = p;
        cost = decodedBytes(p, bytes);
      } catch (e) {
        error = (e as Error).message;
      }
      costs[i]!.resolve(cost);
      await budget.acquire(cost);
      if (stopped) {
        budget.release(cost);
        return;
      }
      let image: LoadedPhoto | undefined;
      if (error === undefined) {
        try {
          image = bytes ? decodePhoto(bytes, what) : photoFromMemory(p as Exclude<Photo, string>, what);
        } catch (e) {
          error = (e as Error).message;
        }
      }
      if (!image) {
        budget.release(cost);
        cost = 0;
      } else held.set(i, cost);
      ready[i]?.resolve({ image, error, cost });
    }
  })();

  try {
    for (let s = 0; s < n; ) {
      let e = s;
      let sum = 0;
      while (e < n && e - s < batch) {
        const c = await costs[e]!.promise;
        if (e > s && sum + c > budget.limit) break;
        sum += c;
        e++;
      }
      const loaded: (Loaded | undefined)[] = await Promise.all(ready.slice(s, e).map((r) => r!.promise));
      ready.fill(undefined, s, e);
      const ok = loaded.flatMap((l, k) => (l!.image ? [{ k, image: l!.image }] : []));
      const found = ok.length ? detector.detectImages(ok.map((x) => x.image), detectOptions) : [];
      const byK = new Map(ok.map((x, j) => [x.k, found[j]!]));
      for (let k = 0; k < loaded.length; k++) {
        const l = loaded[k]!;
        loaded[k] = undefined;
        const r: StreamedPhoto = { index: s + k, faces: byK.get(k) ?? [] };
        if (l.image) r.image = l.image;
        if (l.error !== undefined) r.error = l.error;
        if (l.image?.warning !== undefined) r.warning = l.image.warning;
        yield r;
        held.delete(s + k);
        budget.release(l.cost);
      }
      s = e;
    }
  } finally {
    // left early (or failed): stop the reader, give back what the unused photos hold
    stopped = true;
    budget.close();
    await reader;
    for (const bytes of held.values()) budget.release(bytes);
  }
}
