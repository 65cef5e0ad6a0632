/**
 * A deterministic in-memory batch source over decoded images (uint8 RGB HWC): shuffled per epoch
 * from the seed, random horizontal flip from the seed, normalised to [−1, 1], drop_last.
 * Resuming at (epoch, batch) yields exactly the batches an uninterrupted run would see.
 */
import { tensor } from '../../lib/tensor/creation.js';
import { Rng, hashSeed } from '../../lib/data/synth.js';
import type { BatchSource, TrainBatch } from '../../lib/train/types.js';

export interface ArraySourceOptions {
  /** Images, each `size × size × 3` uint8 (RGB, HWC). */
  images: Uint8Array[];
  labels: number[];
  size: number;
  batchSize: number;
  seed: number;
  shuffle?: boolean;
  /** Horizontal flip probability (default 0.5). */
  flip?: number;
  numClasses?: number;
  device?: string;
}

/** Fisher–Yates permutation of 0..n−1 from a seed. */
export function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const r = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Fills `out` (3×size×size, planar) from an HWC uint8 image, normalised to [−1, 1], optionally mirrored. */
export function toPlanar(img: Uint8Array, size: number, flip: boolean, out: Float32Array, offset: number): void {
  const plane = size * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = flip ? size - 1 - x : x;
      const s = (y * size + sx) * 3;
      const d = offset + y * size + x;
      out[d] = img[s]! / 127.5 - 1;
      out[d + plane] = img[s + 1]! / 127.5 - 1;
      out[d + 2 * plane] = img[s + 2]! / 127.5 - 1;
    }
  }
}

export class ArraySource implements BatchSource {
  readonly numClasses: number;
  readonly numImages: number;
  readonly batchesPerEpoch: number;
  readonly #o: ArraySourceOptions;

  constructor(o: ArraySourceOptions) {
    if (o.images.length !== o.labels.length) throw new Error(`ArraySource: ${o.images.length} images but ${o.labels.length} labels`);
    const want = o.size * o.size * 3;
    o.images.forEach((im, i) => {
      if (im.length !== want) throw new Error(`ArraySource: image ${i} has ${im.length} bytes, expected ${want} (${o.size}×${o.size}×3)`);
    });
    this.#o = o;
    this.numImages = o.images.length;
    this.numClasses = o.numClasses ?? Math.max(...o.labels) + 1;
    this.batchesPerEpoch = Math.floor(o.images.length / o.batchSize);
    if (this.batchesPerEpoch < 1) throw new Error(`ArraySource: ${o.images.length} images do not fill one batch of ${o.batchSize}`);
  }

  async *epoch(epoch: number, fromBatch: number): AsyncIterable<TrainBatch> {
    const o = this.#o;
    const order = o.shuffle === false ? permutation(0, 0) : permutation(this.numImages, hashSeed(o.seed, 11, epoch));
    const pFlip = o.flip ?? 0.5;
    const per = 3 * o.size * o.size;
    for (let b = fromBatch; b < this.batchesPerEpoch; b++) {
      const data = new Float32Array(o.batchSize * per);
      const labels = new BigInt64Array(o.batchSize);
      for (let i = 0; i < o.batchSize; i++) {
        const pos = b * o.batchSize + i;
        const idx = o.shuffle === false ? pos : order[pos]!;
        const flip = pFlip > 0 && new Rng(hashSeed(o.seed, 12, epoch, pos)).next() < pFlip;
        toPlanar(o.images[idx]!, o.size, flip, data, i * per);
        labels[i] = BigInt(o.labels[idx]!);
      }
      const dev = o.device && o.device !== 'cpu' ? { device: o.device as 'cpu' } : {};
      yield {
        images: tensor(data, { shape: [o.batchSize, 3, o.size, o.size], ...dev }),
        labels: tensor(labels, { shape: [o.batchSize], ...dev }),
      };
    }
  }
}
