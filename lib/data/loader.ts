/**
 * The training/evaluation loader: shuffles per epoch from a seed, shards by (rank, worldSize),
 * and decodes whole batches natively (record read, JPEG/PNG decode, flip, normalisation) on
 * worker threads, keeping a bounded queue of prefetched batches.
 */
import { availableParallelism } from 'node:os';
import { native } from '../native.js';
import { checkDevice, type Device } from '../tensor/device.js';
import { checkThreads } from '../tensor/runtime.js';
import { wrap, type Tensor } from '../tensor/tensor.js';
import { batchItems, isNativeReadable, type BatchItems, type ImageDataset } from './dataset.js';
import { checkInt, checkProbability } from '../check.js';

/** Options of {@link loader}. */
export interface LoaderOptions {
  /** Samples per batch (per rank). */
  batchSize: number;
  /** Reshuffle every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffles and the flips (default 0). */
  seed?: number;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Native decode threads (default: cores − 1, at least 1). */
  threads?: number;
  /** Batches decoded ahead of the consumer (default 2). */
  prefetch?: number;
  /** This process's shard (default 0) of `worldSize` (default 1). */
  rank?: number;
  worldSize?: number;
  /** Where the batches go (default 'cpu'); CUDA batches are filled in pinned memory, then copied. */
  device?: Device;
  /** channels_last memory format (shape stays [B,3,H,W]). */
  channelsLast?: boolean;
  /**
   * Training augmentation: random horizontal flip with probability `flip` (default false: no
   * augmentation). `train: true` alone flips with p = 0.5.
   */
  train?: boolean;
  /** Probability in [0, 1] of flipping each sample horizontally (default 0.5 with `train`, else 0). */
  flip?: number;
  /**
   * libjpeg-turbo's fast IDCT and fast chroma upsampling (≈ 10 % faster JPEG decoding; pixels
   * then differ from PIL/OpenCV decodes: a few levels on average, up to ~15 at sharp colour
   * edges). Default false: training and evaluation see the same pixels as the reference code.
   */
  fastDecode?: boolean;
  /** Expected [height, width] (default: the dataset's, else 112×112); other sizes are skipped. */
  imageSize?: readonly [number, number];
  /** Called for each skipped sample (default: console.warn). */
  onBadRecord?: (bad: BadRecord) => void;
}

/** A sample that could not be read or decoded, and was skipped. */
export interface BadRecord {
  index: number;
  file: string;
  /** Byte offset of the record in `file`, or −1 for a whole image file / an in-memory image. */
  offset: number;
  reason: string;
  message: string;
}

/** Where a loader stands: `step` batches of `epoch` have been handed out. */
export interface LoaderPosition {
  epoch: number;
  step: number;
}

/**
 * One batch. The consumer owns its tensors and must free them: `batch.dispose()` (or `using`)
 * once the step is done — they are not tracked by any scope.
 */
export interface Batch {
  /** float32 [B, 3, H, W], RGB, (x/255 − 0.5)/0.5; B can be smaller when samples were skipped. */
  images: Tensor;
  /** int64 [B] class labels. */
  labels: Tensor;
  /** Dataset indices of the rows. */
  indices: Int32Array;
  epoch: number;
  step: number;
  dispose(): void;
  [Symbol.dispose](): void;
}

/** A loader over one dataset; `for await (const b of loader)` yields the rest of the current epoch. */
export interface Loader extends AsyncIterable<Batch> {
  /** Batches per epoch for this rank. */
  readonly batchesPerEpoch: number;
  /** Samples per epoch for this rank (after sharding, before drop-last). */
  readonly samplesPerEpoch: number;
  /** Position of the next batch (what a checkpoint stores). */
  readonly position: LoaderPosition;
  /** Continue from a stored position (takes effect at the next iteration). */
  resume(position: LoaderPosition): void;
  /** Dataset indices of batch `step` of `epoch` (before any skip). */
  batchIndices(epoch: number, step: number): Int32Array;
  /** Counters: skipped samples, batches, and time spent on the JS thread by the loader. */
  readonly stats: { badRecords: number; batches: number; mainThreadMs: number };
  /**
   * Frees the prefetched batches and ends the decode threads; iterating afterwards throws.
   * (The threads also end by themselves whenever an epoch's iteration finishes or is left, and
   * start again with the next batch; a loader that is garbage-collected frees them too.)
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** splitmix64 on BigInt, reduced to a JS-safe stream of 32-bit words. */
function rng(seed: bigint): () => number {
  let s = BigInt.asUintN(64, seed);
  return () => {
    s = BigInt.asUintN(64, s + 0x9e3779b97f4a7c15n);
    let z = s;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return Number((z ^ (z >> 31n)) & 0xffffffffn);
  };
}

/** Fisher–Yates permutation of 0..n−1 from (seed, epoch); independent of libtorch's RNG. */
export function epochPermutation(n: number, seed: number, epoch: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  // xorshift128 seeded from splitmix64 (fast; BigInt only for seeding).
  const next = rng(BigInt(seed) * 0x100000001n + BigInt(epoch) * 0x9e3779b1n + 1n);
  let a = next() | 1, b = next(), c = next(), d = next();
  for (let i = n - 1; i > 0; i--) {
    let t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    // unbiased enough for n < 2^31: 53-bit product
    const j = Math.floor(((d >>> 0) / 4294967296) * (i + 1));
    t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * Creates a loader. Each rank sees `ceil(N / worldSize)` samples per epoch (the epoch's
 * permutation wrapped around to fill the last round, as torch's DistributedSampler) or
 * `floor(N / worldSize)` with `dropLast`, so every rank runs the same number of batches.
 */
export function loader(dataset: ImageDataset, options: LoaderOptions): Loader {
  const batchSize = checkInt('loader: batchSize', options.batchSize, 1);
  const worldSize = checkInt('loader: worldSize', options.worldSize ?? 1, 1);
  const rank = checkInt('loader: rank', options.rank ?? 0, 0, worldSize - 1);
  const threads = checkThreads(options.threads ?? Math.max(1, availableParallelism() - 1), 'loader: threads');
  const prefetch = checkInt('loader: prefetch', options.prefetch ?? 2, 1);
  const seed = checkInt('loader: seed', options.seed ?? 0, 0);
  const flip = checkProbability('loader: flip', options.flip ?? (options.train ? 0.5 : 0));
  const shuffle = options.shuffle ?? true;
  const dropLast = options.dropLast ?? false;
  const device = checkDevice(options.device ?? 'cpu');
  const [height, width] = options.imageSize ?? dataset.imageSize ?? [112, 112];
  const warn = options.onBadRecord ?? ((b: BadRecord) => console.warn(`ecacface data: ${b.message}`));
  const n = dataset.length;
  if (n === 0) throw new RangeError('loader: the dataset is empty');
  const samplesPerEpoch = dropLast ? Math.floor(n / worldSize) : Math.ceil(n / worldSize);
  const batchesPerEpoch = dropLast ? Math.floor(samplesPerEpoch / batchSize) : Math.ceil(samplesPerEpoch / batchSize);
  if (batchesPerEpoch === 0) throw new RangeError(`loader: ${n} samples give no batch of ${batchSize} per rank (worldSize ${worldSize}, dropLast ${dropLast})`);
  const stats = { badRecords: 0, batches: 0, mainThreadMs: 0 };
  // Per-loader native state: persistent decode threads, and recycled output buffers (CPU
  // targets) — enough for the prefetched batches and the consumer's.
  const pool = native.dataBatchPool(device === 'cpu' ? prefetch + 2 : 0, threads);
  let position: LoaderPosition = { epoch: 0, step: 0 };
  let permCache: { epoch: number; perm: Int32Array } | undefined;

  const perm = (epoch: number): Int32Array => {
    if (!permCache || permCache.epoch !== epoch) {
      permCache = { epoch, perm: shuffle ? epochPermutation(n, seed, epoch) : Int32Array.from({ length: n }, (_, i) => i) };
    }
    return permCache.perm;
  };
  const batchIndices = (epoch: number, step: number): Int32Array => {
    if (!Number.isInteger(step) || step < 0 || step >= batchesPerEpoch) throw new RangeError(`loader: step ${step} out of range [0, ${batchesPerEpoch})`);
    const p = perm(epoch);
    const start = step * batchSize;
    const m = Math.min(batchSize, samplesPerEpoch - start);
    const out = new Int32Array(m);
    for (let k = 0; k < m; k++) out[k] = p[((start + k) * worldSize + rank) % n]!;
    return out;
  };
  const flipSeed = (epoch: number, step: number): number => {
    const r = rng(BigInt(seed) ^ (BigInt(epoch) << 32n) ^ (BigInt(step) << 12n) ^ BigInt(rank));
    return r() * 2097152 + (r() >>> 11); // 53 bits
  };
  const items = (idx: Int32Array): { items: BatchItems; buffers: (Uint8Array | null)[] | null } => {
    const list = Array.from(idx);
    if (isNativeReadable(dataset)) return { items: dataset[batchItems](list), buffers: null };
    const m = list.length;
    const it: BatchItems = { paths: [''], pathIndex: new Int32Array(m), offsets: new Float64Array(m).fill(-1), labels: new Float64Array(m) };
    const buffers = list.map((i, k) => {
      const s = dataset.read(i);
      it.labels[k] = s.label;
      return s.image;
    });
    return { items: it, buffers };
  };

  let closed = false;
  let inFlight = 0;
  const iterators = new Set<{ drain(): Promise<void> }>();
  // Ends the decode threads when no batch is being decoded (they restart with the next one).
  const idle = (): void => {
    if (inFlight === 0) native.dataBatchPoolStop(pool);
  };

  const launch = (epoch: number, step: number): Promise<Batch> => {
    const t0 = performance.now();
    const idx = batchIndices(epoch, step);
    const { items: it, buffers } = items(idx);
    const p = native.dataDecodeBatch(it.paths, it.pathIndex, it.offsets, it.labels, buffers, {
      height,
      width,
      numClasses: dataset.numClasses,
      threads,
      flip,
      seed: flip > 0 ? flipSeed(epoch, step) : 0,
      channelsLast: options.channelsLast ?? false,
      fastDecode: options.fastDecode ?? false,
      pin: device !== 'cpu',
      ...(device !== 'cpu' ? { device } : {}),
      pool,
    });
    stats.mainThreadMs += performance.now() - t0;
    inFlight++;
    const settled = p.finally(() => {
      inFlight--;
    });
    return settled.then((r) => {
      const t1 = performance.now();
      let indices = idx;
      if (r.failed.length) {
        const bad = new Set<number>();
        for (const f of r.failed) {
          bad.add(f.index);
          const file = it.paths[it.pathIndex[f.index]!] || '<memory>';
          const offset = it.offsets[f.index]!;
          const where = offset >= 0 ? `${file} record at byte ${offset}` : file;
          stats.badRecords++;
          warn({ index: idx[f.index]!, file, offset, reason: f.reason, message: `skipped sample ${idx[f.index]} (${where}): ${f.reason}` });
        }
        indices = idx.filter((_, k) => !bad.has(k));
      }
      const images = wrap(r.images);
      const labels = wrap(r.labels);
      const dispose = (): void => {
        images.dispose();
        labels.dispose();
      };
      stats.batches++;
      stats.mainThreadMs += performance.now() - t1;
      return { images, labels, indices, epoch, step, dispose, [Symbol.dispose]: dispose };
    });
  };

  return {
    batchesPerEpoch,
    samplesPerEpoch,
    stats,
    get position() {
      return { ...position };
    },
    resume(p: LoaderPosition): void {
      if (!Number.isInteger(p.epoch) || p.epoch < 0 || !Number.isInteger(p.step) || p.step < 0 || p.step > batchesPerEpoch) {
        throw new RangeError(`loader.resume: bad position ${JSON.stringify(p)} (step must be in 0..${batchesPerEpoch})`);
      }
      position = p.step === batchesPerEpoch ? { epoch: p.epoch + 1, step: 0 } : { epoch: p.epoch, step: p.step };
    },
    batchIndices,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const it of [...iterators]) await it.drain();
      iterators.clear();
      idle();
    },
    [Symbol.asyncDispose](): Promise<void> {
      return this.close();
    },
    [Symbol.asyncIterator](): AsyncIterator<Batch> {
      if (closed) throw new Error('loader: this loader is closed');
      const epoch = position.epoch;
      let nextLaunch = position.step;
      const queue: Promise<Batch>[] = [];
      const fill = (): void => {
        while (queue.length < prefetch && nextLaunch < batchesPerEpoch) {
          const p = launch(epoch, nextLaunch++);
          p.catch(() => {}); // surfaced when awaited
          queue.push(p);
        }
      };
      const drain = async (): Promise<void> => {
        const pending = queue.splice(0);
        for (const p of pending) {
          try {
            (await p).dispose();
          } catch {
            /* already reported or irrelevant after stop */
          }
        }
      };
      // the end of this iteration: free what was prefetched and end the threads
      const finish = async (): Promise<void> => {
        await drain();
        iterators.delete(self);
        if (!closed) idle();
      };
      const self = { drain };
      iterators.add(self);
      return {
        async next(): Promise<IteratorResult<Batch>> {
          if (closed) {
            await finish();
            return { done: true, value: undefined };
          }
          if (position.epoch !== epoch) {
            await finish(); // resumed elsewhere meanwhile: free what was prefetched
            return { done: true, value: undefined };
          }
          fill();
          const p = queue.shift();
          if (!p) {
            position = { epoch: epoch + 1, step: 0 };
            await finish();
            return { done: true, value: undefined };
          }
          let b: Batch;
          try {
            b = await p;
          } catch (e) {
            await finish();
            throw e;
          }
          if (closed) {
            b.dispose();
            await finish();
            return { done: true, value: undefined };
          }
          position = b.step + 1 === batchesPerEpoch ? { epoch: epoch + 1, step: 0 } : { epoch, step: b.step + 1 };
          fill();
          return { done: false, value: b };
        },
        async return(): Promise<IteratorResult<Batch>> {
          await finish();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
