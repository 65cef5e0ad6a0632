/**
 * The one place that loads the native addon, and the typed signatures of every native function.
 * Nothing else in `lib/` may require the `.node` file.
 *
 * Handles are opaque: a native tensor travels as a {@link NativeTensor} owned by a `Tensor`.
 * Dtypes travel as small integers (see `lib/tensor/dtype.ts`), devices as strings.
 * @internal
 */
import { availableParallelism } from 'node:os';
import { loadAddon, packageRoot } from './native-load.js';

export { packageRoot, NativeLoadError } from './native-load.js';

/** Opaque handle of a native tensor: an index into the environment's tensor table (lib/tensor owns it). */
export type NativeTensor = { readonly __nativeTensor: unique symbol };
/** Opaque handle of a captured CUDA graph (ops/cuda_graph.cc). */
export type NativeCudaGraph = { readonly __nativeCudaGraph: unique symbol };
type T = NativeTensor;
type OptT = NativeTensor | null | undefined;

/** Typed signatures of the addon's exports, grouped by the native file that defines them. */
export interface NativeBinding {
  // core/tensor_handle.cc
  dispose(t: T): void;
  // core/async_runner.cc
  mmAsync(a: T, b: T): Promise<T>;

  // ops/tensor_ops.cc — creation
  zeros(shape: number[], dtype?: number, device?: string): T;
  ones(shape: number[], dtype?: number, device?: string): T;
  empty(shape: number[], dtype?: number, device?: string): T;
  full(shape: number[], value: number | boolean, dtype?: number, device?: string): T;
  rand(shape: number[], dtype?: number, device?: string): T;
  randn(shape: number[], dtype?: number, device?: string): T;
  randint(low: number, high: number, shape: number[], dtype?: number, device?: string): T;
  randperm(n: number, device?: string): T;
  arange(start: number, end: number, step: number, dtype?: number, device?: string): T;
  linspace(start: number, end: number, steps: number, dtype?: number, device?: string): T;
  eye(n: number, dtype?: number, device?: string): T;
  zerosLike(t: T): T;
  onesLike(t: T): T;
  fullLike(t: T, value: number | boolean): T;
  randLike(t: T): T;
  randnLike(t: T): T;
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: number, device?: string): T;
  toBuffer(t: T): ArrayBuffer;
  copyFromBuffer(t: T, data: ArrayBufferView): void;
  item(t: T): number | boolean;
  meta(t: T): [number[], number, string];
  strides(t: T): number[];
  isContiguous(t: T, channelsLast?: boolean): boolean;
  to(t: T, dtype?: number | null, device?: string | null, copy?: boolean): T;
  contiguous(t: T, channelsLast?: boolean): T;
  clone(t: T): T;
  detach(t: T): T;
  pinMemory(t: T): T;
  // views and indexing
  view(t: T, shape: number[]): T;
  reshape(t: T, shape: number[]): T;
  permute(t: T, dims: number[]): T;
  transpose(t: T, d0: number, d1: number): T;
  flatten(t: T, start: number, end: number): T;
  unsqueeze(t: T, dim: number): T;
  squeeze(t: T, dim?: number): T;
  expand(t: T, shape: number[]): T;
  repeat(t: T, repeats: number[]): T;
  select(t: T, dim: number, index: number): T;
  slice(t: T, dim: number, start: number | null, end: number | null, step: number): T;
  narrow(t: T, dim: number, start: number, length: number): T;
  indexSelect(t: T, dim: number, index: T): T;
  gather(t: T, dim: number, index: T): T;
  scatter(t: T, dim: number, index: T, src: T): T;
  scatterAdd(t: T, dim: number, index: T, src: T): T;
  indexAdd(t: T, dim: number, index: T, source: T): T;
  maskedFill(t: T, mask: T, value: number | boolean): T;
  maskedSelect(t: T, mask: T): T;
  cat(ts: T[], dim: number): T;
  stack(ts: T[], dim: number): T;
  split(t: T, size: number, dim: number): T[];
  chunk(t: T, chunks: number, dim: number): T[];
  flip(t: T, dims: number[]): T;
  oneHot(t: T, numClasses: number): T;
  where(cond: T, a: T, b: T): T;
  nonzero(t: T): T;
  // in place
  copy_(t: T, src: T): void;
  fill_(t: T, value: number | boolean): void;
  zero_(t: T): void;
  uniform_(t: T, low: number, high: number): void;
  normal_(t: T, mean: number, std: number): void;
  bernoulli_(t: T, p: number): void;
  add_(t: T, other: T, alpha?: number): void;
  mul_(t: T, other: T): void;
  addScalar_(t: T, s: number): void;
  mulScalar_(t: T, s: number): void;
  clamp_(t: T, min?: number | null, max?: number | null): void;

  // ops/math_ops.cc
  add(a: T, b: T): T;
  addScalar(a: T, s: number): T;
  sub(a: T, b: T): T;
  subScalar(a: T, s: number): T;
  mul(a: T, b: T): T;
  mulScalar(a: T, s: number): T;
  div(a: T, b: T): T;
  divScalar(a: T, s: number): T;
  pow(a: T, b: T): T;
  powScalar(a: T, s: number): T;
  remainder(a: T, b: T): T;
  remainderScalar(a: T, s: number): T;
  eq(a: T, b: T): T;
  eqScalar(a: T, s: number): T;
  ne(a: T, b: T): T;
  neScalar(a: T, s: number): T;
  gt(a: T, b: T): T;
  gtScalar(a: T, s: number): T;
  ge(a: T, b: T): T;
  geScalar(a: T, s: number): T;
  lt(a: T, b: T): T;
  ltScalar(a: T, s: number): T;
  le(a: T, b: T): T;
  leScalar(a: T, s: number): T;
  maximum(a: T, b: T): T;
  maximumScalar(a: T, s: number): T;
  minimum(a: T, b: T): T;
  minimumScalar(a: T, s: number): T;
  logicalAnd(a: T, b: T): T;
  logicalOr(a: T, b: T): T;
  rsub(a: T, s: number): T;
  addScaled(a: T, b: T, alpha: number): T;
  neg(a: T): T;
  abs(a: T): T;
  sqrt(a: T): T;
  rsqrt(a: T): T;
  square(a: T): T;
  exp(a: T): T;
  log(a: T): T;
  log1p(a: T): T;
  sigmoid(a: T): T;
  tanh(a: T): T;
  relu(a: T): T;
  cos(a: T): T;
  sin(a: T): T;
  acos(a: T): T;
  asin(a: T): T;
  sign(a: T): T;
  floor(a: T): T;
  ceil(a: T): T;
  round(a: T): T;
  reciprocal(a: T): T;
  logicalNot(a: T): T;
  isnan(a: T): T;
  isfinite(a: T): T;
  clamp(a: T, min?: number | null, max?: number | null): T;
  sum(a: T, dims?: number[] | null, keepdim?: boolean): T;
  mean(a: T, dims?: number[] | null, keepdim?: boolean): T;
  amax(a: T, dims?: number[] | null, keepdim?: boolean): T;
  amin(a: T, dims?: number[] | null, keepdim?: boolean): T;
  prod(a: T, dims?: number[] | null, keepdim?: boolean): T;
  logsumexp(a: T, dims?: number[] | null, keepdim?: boolean): T;
  all(a: T, dims?: number[] | null, keepdim?: boolean): T;
  any(a: T, dims?: number[] | null, keepdim?: boolean): T;
  var(a: T, dims: number[] | null, unbiased: boolean, keepdim: boolean): T;
  std(a: T, dims: number[] | null, unbiased: boolean, keepdim: boolean): T;
  norm(a: T, p: number, dims?: number[] | null, keepdim?: boolean): T;
  maxDim(a: T, dim: number, keepdim: boolean): [T, T];
  minDim(a: T, dim: number, keepdim: boolean): [T, T];
  argmax(a: T, dim?: number | null, keepdim?: boolean): T;
  argmin(a: T, dim?: number | null, keepdim?: boolean): T;
  cumsum(a: T, dim: number): T;
  sort(a: T, dim: number, descending: boolean): [T, T];
  topk(a: T, k: number, dim: number, largest: boolean, sorted: boolean): [T, T];
  matmul(a: T, b: T): T;
  mm(a: T, b: T): T;
  bmm(a: T, b: T): T;

  // ops/nn_ops.cc
  conv1d(x: T, w: T, b: OptT, stride: number[], padding: number[], dilation: number[], groups: number): T;
  conv2d(x: T, w: T, b: OptT, stride: number[], padding: number[], dilation: number[], groups: number): T;
  linear(x: T, w: T, b: OptT): T;
  batchNorm(x: T, w: OptT, b: OptT, rm: OptT, rv: OptT, training: boolean, momentum: number, eps: number): T;
  prelu(x: T, w: T): T;
  leakyRelu(x: T, slope: number): T;
  dropout(x: T, p: number, training: boolean): T;
  avgPool2d(x: T, k: number[], s: number[], p: number[], ceil: boolean, countIncludePad: boolean): T;
  maxPool2d(x: T, k: number[], s: number[], p: number[], d: number[], ceil: boolean): T;
  adaptiveAvgPool2d(x: T, size: number[]): T;
  adaptiveMaxPool2d(x: T, size: number[]): T;
  softmax(x: T, dim: number): T;
  logSoftmax(x: T, dim: number): T;
  crossEntropy(x: T, target: T, reduction?: string, labelSmoothing?: number): T;
  nllLoss(x: T, target: T, reduction?: string): T;
  mseLoss(x: T, target: T, reduction?: string): T;
  normalize(x: T, p: number, dim: number, eps: number): T;
  pad(x: T, pad: number[], value: number): T;

  // ops/runtime_ops.cc
  backward(t: T, gradient?: OptT, retainGraph?: boolean): void;
  grad(t: T): T | null;
  clearGrad(t: T): void;
  setGrad(t: T, g: OptT): void;
  setRequiresGrad(t: T, v: boolean): void;
  requiresGrad(t: T): boolean;
  isLeaf(t: T): boolean;
  setGradEnabled(v: boolean): void;
  isGradEnabled(): boolean;
  /** CUDA autocast on (dtype code: float16 by default, or bfloat16) or off, on this thread. */
  setAutocast(enabled: boolean, dtype?: number): void;
  isAutocastEnabled(): boolean;
  /** The dtype code CUDA autocast casts to. */
  autocastDtype(): number;
  manualSeed(seed: number): void;
  getRngState(): T;
  setRngState(state: T): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  cudaDeviceName(index?: number): string;
  /** Sets cuDNN autotuning when `enable` is given; returns the setting before. */
  cudnnBenchmark(enable?: boolean): boolean;
  cudaEmptyCache(): void;
  memory(): { tensors: number; bytes: number; cpuBytes: number; cudaBytes: number; created: number };
  buildInfo(): { torchVersion: string; cuda: boolean; parallel: string; nnpack: boolean; cpuMalloc: string };

  // ops/esca.cc — ESCA and ECA attention
  /** Fused ESCA (autograd-aware): x [N,C,H,W], caWeight [1,1,k], saWeight [1,2C,3,3]. */
  esca(x: T, caWeight: T, saWeight: T): T;
  /** Fused ECA (autograd-aware): x [N,C,H,W], caWeight [1,1,k]. */
  eca(x: T, caWeight: T): T;

  // ops/margin.cc — fused margin logits + cross-entropy
  /**
   * Fused margin logits + mean cross-entropy: [loss, stats float64 [4] (mean c_y, t used, hard
   * fraction, top-1 fraction), logits s·c or null]. `t` (a [1] buffer) is updated in place when
   * config.negative is CurricularFace (1) and config.training.
   */
  marginLoss(
    embeddings: T,
    kernel: T,
    labels: T,
    t: OptT,
    config: MarginOpConfig & { returnLogits?: boolean },
  ): [T, T, T | null];
  /**
   * The sharded form (one shard's columns; labels in [−1, C), −1 = target on another shard; cy [B]
   * the owners' target cosines): [lse [B], target s·f(c_y) [B], rowStats [B, 2] (hard count, max
   * cosine; no grad)]. `t` is updated in place as by marginLoss, from cy.
   */
  marginLossShard(
    embeddings: T,
    kernel: T,
    labels: T,
    cy: T,
    t: OptT,
    config: MarginOpConfig,
  ): [T, T, T];

  // data/*.cc — RecordIO, image decoding, batches
  dataDecode(bytes: Uint8Array, maxPixels?: number): { data: Uint8Array; width: number; height: number; warning?: string };
  dataEncodeJpeg(rgb: Uint8Array, width: number, height: number, quality: number): Buffer;
  dataEncodePng(rgb: Uint8Array, width: number, height: number): Buffer;
  dataCodecs(): { jpeg: boolean; png: boolean };
  dataDecodeBatch(
    paths: string[],
    pathIndex: Int32Array,
    offsets: Float64Array,
    labels: Float64Array,
    buffers: (Uint8Array | null)[] | null,
    options: {
      height: number;
      width: number;
      numClasses?: number;
      threads: number;
      /** Probability in [0, 1] of a horizontal flip per sample (drawn from `seed` and the sample's place). */
      flip: number;
      seed: number;
      channelsLast: boolean;
      pin: boolean;
      fastDecode?: boolean;
      device?: string;
      pool?: { readonly __dataBatchPool: true };
    },
  ): Promise<{ images: T; labels: T; failed: { index: number; reason: string }[]; warnings: { index: number; reason: string }[] }>;
  /** Opaque per-loader state (recycled buffers, decode threads), passed back as options.pool. */
  dataBatchPool(keep: number, threads: number): { readonly __dataBatchPool: true };
  dataBatchPoolStop(pool: { readonly __dataBatchPool: true }): void;
  setNurseryCounter(counter: Float64Array): void;

  // data/align.cc — five-point face alignment
  /** Least-squares similarity (no reflection) mapping src points onto dst: row-major 2×3 [a, −b, tx, b, a, ty]. */
  similarityTransform(src: number[], dst: number[]): number[];
  /** Similarity-aligns an HWC uint8 image onto the template points; bilinear, constant-0 border. */
  alignWarp(
    data: Uint8Array,
    width: number,
    height: number,
    channels: number,
    landmarks: number[],
    template: number[],
    outWidth: number,
    outHeight: number,
  ): { data: Buffer; matrix: number[] };

  // detect/mtcnn_ops.cc — MTCNN crop resampling and NMS
  /** Resamples each box (x1, y1, x2, y2; continuous pixel coordinates) of an RGB HWC image to [N, 3, outH, outW] float32, (v − 127.5)/128, antialiased, black outside. */
  detectResample(pixels: Uint8Array, width: number, height: number, boxes: Float64Array, outH: number, outW: number): T;
  /** Greedy NMS within groups ((x2−x1+1)(y2−y1+1) areas; IoU, or overlap/min-area with minMode): kept indices, by group then descending score. */
  detectNms(boxes: T, scores: T, groups: T | null, threshold: number, minMode: boolean): T;

  // ops/cuda_graph.cc — CUDA graphs and the CUDA caching allocator's statistics
  /** Synchronises `device`, then captures this thread's CUDA work on a side stream until cudaGraphEnd. */
  cudaGraphBegin(device: number): NativeCudaGraph;
  /** Ends capture and instantiates the graph; the thread's stream is restored. */
  cudaGraphEnd(graph: NativeCudaGraph): void;
  /** Launches the captured work on the current stream. */
  cudaGraphReplay(graph: NativeCudaGraph): void;
  /** Frees the graph and its memory pool (ends an unfinished capture). Idempotent. */
  cudaGraphDispose(graph: NativeCudaGraph): void;
  /** The caching allocator of `device` (zeros without CUDA); `reset` restarts the peaks after reading. */
  cudaMemoryStats(
    device: number,
    reset: boolean,
  ): { allocatedBytes: number; peakAllocatedBytes: number; reservedBytes: number; peakReservedBytes: number };

  // train/sgd.cc — fused SGD step
  /** One SGD step over all params; returns, per param, the momentum buffer it created (or null). */
  sgdStep(
    params: T[],
    momentumBuffers: (T | null)[],
    weightDecays: number[],
    lr: number,
    momentum: number,
    dampening?: number,
    nesterov?: boolean,
  ): (T | null)[];
  /** Multiplies every gradient by invScale; true when some gradient is inf/NaN. */
  unscaleGrads(params: T[], invScale: number): boolean;

  // distributed/process_group.cc — c10d process groups
  /** The c10d backends compiled into this addon ('gloo', 'nccl'). */
  distBackends(): string[];
  DistGroup: new (options: NativeDistGroupOptions) => NativeDistGroup;
  DistGradSync: new (group: NativeDistGroup, params: T[], bucketBytes?: number) => NativeGradSync;
  /** Differentiable all-gather along dim 0; the backward sums over ranks, keeps this rank's rows × gradScale. */
  distAllGather(group: NativeDistGroup, x: T, gradScale?: number): T;
}

/** Options of the native DistGroup (lib/distributed/group.ts). */
/** The margin ops' config (ops/margin.cc): target 0..4, negative 0..2, tStatistic 0 (cos) or 1 (cos_m). */
export interface MarginOpConfig {
  target: number;
  negative: number;
  s: number;
  m: number;
  mvT?: number;
  training?: boolean;
  tNewWeight?: number;
  tStatistic?: number;
}

export interface NativeDistGroupOptions {
  backend: string;
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  storePath?: string;
  timeoutMs: number;
  rendezvousTimeoutMs?: number;
  /** The launcher serves the TCPStore; the group's keys live under this prefix. */
  externalStorePrefix?: string;
  /** Compare each collective across the ranks before it starts (default true). */
  checkCollectives?: boolean;
}
/** A native c10d process group (a Gloo or NCCL backend over a store). */
export interface NativeDistGroup {
  /** The store (rank 0 serves it unless the launcher does); waits for no other rank. */
  connectStore(): Promise<void>;
  /** The backend's connections and the heartbeat (every rank has joined through the store). */
  connectBackend(): Promise<void>;
  storeSet(key: string, value: string): Promise<void>;
  /** Waits up to the rendezvous timeout for the key. */
  storeGet(key: string): Promise<string>;
  storeCheck(keys: string[]): Promise<boolean[]>;
  allreduce(tensors: T[], op?: string): Promise<void>;
  allreduceSync(tensors: T[], op?: string): void;
  allgather(t: T): Promise<T[]>;
  broadcast(tensors: T[], root?: number): Promise<void>;
  barrier(): Promise<void>;
  diagnose(): Promise<string>;
  destroy(): void;
}
/** Bucketed gradient allreduce overlapped with the backward. */
export interface NativeGradSync {
  arm(): void;
  finish(): void;
  info(): { bucketNumel: number[]; waitMs: number };
  dispose(): void;
}

/**
 * Loads the addon (once) and replaces the {@link native} binding with it. Throws a
 * {@link NativeLoadError} that says why none fits and which command to run next.
 */
export function loadNative(): NativeBinding {
  if (loaded) return loaded;
  const { binding } = loadAddon<NativeBinding>(packageRoot());
  loaded = binding;
  native = binding;
  // libtorch starts with one intra-op thread here unless told otherwise: use the machine's cores
  // unless the user chose with OMP_NUM_THREADS / ECACFACE_NUM_THREADS.
  const requested = Number(process.env.ECACFACE_NUM_THREADS ?? process.env.OMP_NUM_THREADS ?? NaN);
  // bounded as runtime.maxThreads() (not imported here: the tensor layer loads this module)
  const max = Math.min(1024, Math.max(8, 4 * availableParallelism()));
  binding.setNumThreads(Number.isInteger(requested) && requested > 0 ? Math.min(requested, max) : availableParallelism());
  for (const fn of onLoad.splice(0)) fn(binding);
  return binding;
}

let loaded: NativeBinding | undefined;
const onLoad: ((binding: NativeBinding) => void)[] = [];

/**
 * @internal Runs `fn` with the addon as soon as it is loaded (at once if it already is), so that a
 * module can set the addon up without loading it at `import` time.
 */
export function whenNativeLoaded(fn: (binding: NativeBinding) => void): void {
  if (loaded) fn(loaded);
  else onLoad.push(fn);
}

/**
 * The addon. Loaded on first use (so that `import` stays fast and the CLI can print a load error
 * without a stack trace): until then this is a stand-in whose every property loads the addon.
 */
export let native: NativeBinding = new Proxy({} as NativeBinding, {
  get: (_target, key) => Reflect.get(loadNative(), key),
  has: (_target, key) => Reflect.has(loadNative(), key),
});
