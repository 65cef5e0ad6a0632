/**
 * `Tensor`: a TypeScript handle on a libtorch tensor (CPU or CUDA).
 *
 * Every method calls one native op; autograd, kernels and memory are libtorch's. A tensor owns
 * native memory until {@link Tensor.dispose} (or `using`, or the end of a {@link scope}); the
 * garbage collector frees forgotten handles only as a safety net.
 */
import { native, whenNativeLoaded, type NativeTensor } from '../native.js';
import { checkDevice, type Device } from './device.js';
import { dtypeCode, dtypeName, isFloatingDtype, typedArrayOf, type AnyTypedArray, type DType } from './dtype.js';
import { track } from './scope.js';

/** A number or a tensor, as accepted by the arithmetic methods. */
export type TensorOrScalar = Tensor | number;

/** Nested JS arrays of numbers, as returned by {@link Tensor.toArray}. */
export type NestedArray = number | boolean | NestedArray[];

/** @internal Returns the native handle of a Tensor argument, or throws a TypeError naming it. */
export function handleOf(t: unknown, arg: string): NativeTensor {
  if (!(t instanceof Tensor)) {
    throw new TypeError(`argument '${arg}' must be a Tensor, got ${describe(t)}`);
  }
  return t.handle;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

function dims(d: number | number[] | undefined): number[] | null {
  if (d === undefined) return null;
  return typeof d === 'number' ? [d] : d;
}

function shapeArgs(shape: (number | number[])[]): number[] {
  const first = shape[0];
  return shape.length === 1 && Array.isArray(first) ? first : (shape as number[]);
}

/**
 * Safety net: frees the native tensor of a Tensor that was garbage-collected without dispose().
 *
 * Registering every tensor with a FinalizationRegistry would cost about as much as a small op, so
 * new tensors wait in a nursery and are registered in batches (when 4096 have accumulated, or
 * after a second): a tensor disposed before then — most temporaries — is never registered and
 * costs nothing. dispose() unregisters the ones that were, so deterministic code never waits for
 * the collector. The nursery keeps forgotten tensors alive until its next flush, no longer.
 */
const finalizer = new FinalizationRegistry<NativeTensor>((h) => native.dispose(h));
const NURSERY_MAX = 4096;
/**
 * The nursery is also flushed once the tensors that entered it hold this many bytes: the addon
 * adds every new tensor's bytes (data plus its bookkeeping) to `nurseryBytes[0]`, so that
 * forgotten big tensors become collectable — and V8, told of their memory, collects them —
 * before they add up (20,000 forgotten 1 MB tensors stay within a few hundred MB).
 */
const NURSERY_MAX_BYTES = 32 * 1024 * 1024;
const nurseryBytes = new Float64Array(new ArrayBuffer(8));
whenNativeLoaded((binding) => binding.setNurseryCounter(nurseryBytes)); // not at import: the addon loads lazily
let nursery: Tensor[] = [];
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let registerIfLive: (t: Tensor) => void;

function flushNursery(): void {
  if (flushTimer !== undefined) {
    clearTimeout(flushTimer);
    flushTimer = undefined;
  }
  const batch = nursery;
  nursery = [];
  nurseryBytes[0] = 0;
  for (const t of batch) registerIfLive(t);
}

function enterNursery(t: Tensor): void {
  if (nursery.push(t) >= NURSERY_MAX || nurseryBytes[0]! >= NURSERY_MAX_BYTES) flushNursery();
  else if (flushTimer === undefined) {
    flushTimer = setTimeout(flushNursery, 1000);
    flushTimer.unref?.();
  }
}

/** The most elements {@link Tensor.toArray} converts to nested JS arrays (2^24). */
export const TO_ARRAY_MAX_ELEMENTS = 1 << 24;

/** @internal Wraps a fresh native handle. */
export function wrap(h: NativeTensor): Tensor {
  return new Tensor(h);
}

/** @internal Wraps a possibly-null native handle. */
export function wrapOpt(h: NativeTensor | null): Tensor | null {
  return h === null ? null : new Tensor(h);
}

/** A libtorch tensor (shape, dtype, device; ops, reductions, autograd). Frees its memory on `dispose()` or at the end of a `using` block or `scope()`; the GC is only a safety net. */
export class Tensor {
  /** @internal */
  #h: NativeTensor;
  #disposed = false;
  #registered = false;
  #meta: [number[], number, string] | undefined;

  /** @internal Use the creation functions (`tensor`, `zeros`, …) instead. */
  constructor(handle: NativeTensor) {
    this.#h = handle;
    enterNursery(this);
    track(this);
  }

  static {
    registerIfLive = (t: Tensor) => {
      if (!t.#disposed && !t.#registered) {
        t.#registered = true;
        finalizer.register(t, t.#h, t);
      }
    };
  }

  /** @internal The native handle; throws if the tensor was disposed. */
  get handle(): NativeTensor {
    if (this.#disposed) throw new Error('this Tensor has been disposed');
    return this.#h;
  }

  private meta(): [number[], number, string] {
    return (this.#meta ??= native.meta(this.handle));
  }

  // ---------------------------------------------------------------- metadata
  /** Sizes of each dimension. */
  get shape(): number[] {
    return this.meta()[0].slice();
  }
  /** Element type. */
  get dtype(): DType {
    return dtypeName(this.meta()[1]);
  }
  /** Device: 'cpu' or 'cuda:N'. */
  get device(): Device {
    return this.meta()[2] as Device;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.meta()[0].length;
  }
  /** Total number of elements. */
  get numel(): number {
    let n = 1;
    for (const s of this.meta()[0]) n *= s;
    return n;
  }
  /** Size of one dimension (negative counts from the end). */
  size(dim: number): number {
    const s = this.meta()[0];
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`size(${dim}): dimension out of range for a ${s.length}-d tensor`);
    return s[d]!;
  }
  get strides(): number[] {
    return native.strides(this.handle);
  }
  isContiguous(memoryFormat: 'contiguous' | 'channelsLast' = 'contiguous'): boolean {
    return native.isContiguous(this.handle, memoryFormat === 'channelsLast');
  }
  get isDisposed(): boolean {
    return this.#disposed;
  }
  get isCuda(): boolean {
    return this.device.startsWith('cuda');
  }

  // ---------------------------------------------------------------- lifetime
  /** Frees the native tensor now. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#registered) finalizer.unregister(this);
    native.dispose(this.#h);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---------------------------------------------------------------- autograd
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(v: boolean) {
    native.setRequiresGrad(this.handle, v);
  }
  /** Sets requiresGrad in place and returns this tensor. */
  requiresGrad_(v = true): this {
    native.setRequiresGrad(this.handle, v);
    return this;
  }
  /** The accumulated gradient (a new handle each call: dispose it, or read it inside a scope). */
  get grad(): Tensor | null {
    return wrapOpt(native.grad(this.handle));
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : handleOf(g, 'grad'));
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** Computes gradients of this tensor with respect to graph leaves. */
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient === undefined ? null : handleOf(gradient, 'gradient'), options.retainGraph);
  }
  /** Drops the accumulated gradient. */
  zeroGrad(): void {
    native.clearGrad(this.handle);
  }
  detach(): Tensor {
    return wrap(native.detach(this.handle));
  }

  // ---------------------------------------------------------------- conversion
  /** Moves and/or casts: `t.to('cuda')`, `t.to('float16')`, `t.to({ device, dtype })`. */
  to(target: Device | DType | { device?: Device; dtype?: DType; copy?: boolean }): Tensor {
    let device: string | null = null;
    let dtype: number | null = null;
    let copy = false;
    if (typeof target === 'string') {
      if (target === 'cpu' || target.startsWith('cuda')) device = checkDevice(target, 'to(device)');
      else dtype = dtypeCode(target, 'to(dtype)');
    } else {
      if (target.device !== undefined) device = checkDevice(target.device, 'to({device})');
      if (target.dtype !== undefined) dtype = dtypeCode(target.dtype, 'to({dtype})');
      copy = target.copy ?? false;
    }
    return wrap(native.to(this.handle, dtype, device, copy));
  }
  cpu(): Tensor {
    return this.to('cpu');
  }
  cuda(index?: number): Tensor {
    return this.to(index === undefined ? 'cuda' : `cuda:${index}`);
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  half(): Tensor {
    return this.to('float16');
  }
  long(): Tensor {
    return this.to('int64');
  }
  int(): Tensor {
    return this.to('int32');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  /** Contiguous copy (or this tensor's storage when already contiguous), optionally channels-last. */
  contiguous(memoryFormat: 'contiguous' | 'channelsLast' = 'contiguous'): Tensor {
    return wrap(native.contiguous(this.handle, memoryFormat === 'channelsLast'));
  }
  clone(): Tensor {
    return wrap(native.clone(this.handle));
  }
  /** Page-locked copy for fast transfer to a GPU. */
  pinMemory(): Tensor {
    return wrap(native.pinMemory(this.handle));
  }
  /**
   * The elements in row-major order, copied to a typed array of the matching type
   * (float16/bfloat16 are widened to Float32Array, bool is a Uint8Array of 0/1).
   */
  toTypedArray(): AnyTypedArray {
    const dt = this.dtype;
    if (dt === 'float16' || dt === 'bfloat16') {
      using f = this.to('float32');
      return f.toTypedArray();
    }
    return typedArrayOf(dt, native.toBuffer(this.handle));
  }
  /** Raw bytes of the elements (contiguous, little-endian, the tensor's own dtype). */
  toBuffer(): Buffer {
    return Buffer.from(native.toBuffer(this.handle));
  }
  /**
   * Nested arrays of numbers (int64 values above 2^53 lose precision). At most
   * {@link TO_ARRAY_MAX_ELEMENTS} elements (a JS number per element would exhaust the V8 heap
   * long before libtorch's memory): use {@link toTypedArray} for bigger tensors.
   */
  toArray(): NestedArray {
    const shape = this.shape;
    const numel = shape.reduce((a, b) => a * b, 1);
    if (numel > TO_ARRAY_MAX_ELEMENTS) {
      throw new RangeError(`toArray: ${numel} elements is more than the ${TO_ARRAY_MAX_ELEMENTS} a nested JS array may hold here; use toTypedArray() (or toBuffer())`);
    }
    const flat = this.toTypedArray();
    const isBool = this.dtype === 'bool';
    let i = 0;
    const build = (d: number): NestedArray => {
      if (d === shape.length) {
        const v = flat[i++]!;
        return isBool ? v !== 0 : Number(v);
      }
      const out: NestedArray[] = [];
      for (let k = 0; k < shape[d]!; k++) out.push(build(d + 1));
      return out;
    };
    return build(0);
  }
  /** The value of a one-element tensor. */
  item(): number {
    return Number(native.item(this.handle));
  }
  /** Writes a typed array into this contiguous CPU tensor in place. */
  copyFrom(data: ArrayBufferView): this {
    native.copyFromBuffer(this.handle, data);
    return this;
  }

  // ---------------------------------------------------------------- shape and views
  view(...shape: (number | number[])[]): Tensor {
    return wrap(native.view(this.handle, shapeArgs(shape)));
  }
  reshape(...shape: (number | number[])[]): Tensor {
    return wrap(native.reshape(this.handle, shapeArgs(shape)));
  }
  permute(...order: (number | number[])[]): Tensor {
    return wrap(native.permute(this.handle, shapeArgs(order)));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return wrap(native.transpose(this.handle, dim0, dim1));
  }
  /** Transpose of a 2-d tensor. */
  t(): Tensor {
    return this.transpose(0, 1);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return wrap(native.flatten(this.handle, startDim, endDim));
  }
  unsqueeze(dim: number): Tensor {
    return wrap(native.unsqueeze(this.handle, dim));
  }
  squeeze(dim?: number): Tensor {
    return wrap(native.squeeze(this.handle, dim));
  }
  expand(...shape: (number | number[])[]): Tensor {
    return wrap(native.expand(this.handle, shapeArgs(shape)));
  }
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  repeat(...repeats: (number | number[])[]): Tensor {
    return wrap(native.repeat(this.handle, shapeArgs(repeats)));
  }
  /** `t[index]` along `dim` (removes the dimension). */
  select(dim: number, index: number): Tensor {
    return wrap(native.select(this.handle, dim, index));
  }
  /** `t[i]` along the first dimension. */
  at(index: number): Tensor {
    return this.select(0, index);
  }
  /** `t[start:end:step]` along `dim` (a view). */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return wrap(native.slice(this.handle, dim, start ?? null, end ?? null, step));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(native.narrow(this.handle, dim, start, length));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(native.indexSelect(this.handle, dim, handleOf(index, 'index')));
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(native.gather(this.handle, dim, handleOf(index, 'index')));
  }
  scatter(dim: number, index: Tensor, src: Tensor): Tensor {
    return wrap(native.scatter(this.handle, dim, handleOf(index, 'index'), handleOf(src, 'src')));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return wrap(native.scatterAdd(this.handle, dim, handleOf(index, 'index'), handleOf(src, 'src')));
  }
  indexAdd(dim: number, index: Tensor, source: Tensor): Tensor {
    return wrap(native.indexAdd(this.handle, dim, handleOf(index, 'index'), handleOf(source, 'source')));
  }
  maskedFill(mask: Tensor, value: number | boolean): Tensor {
    return wrap(native.maskedFill(this.handle, handleOf(mask, 'mask'), value));
  }
  maskedSelect(mask: Tensor): Tensor {
    return wrap(native.maskedSelect(this.handle, handleOf(mask, 'mask')));
  }
  split(size: number, dim = 0): Tensor[] {
    return native.split(this.handle, size, dim).map(wrap);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return native.chunk(this.handle, chunks, dim).map(wrap);
  }
  flip(...dimsArg: (number | number[])[]): Tensor {
    return wrap(native.flip(this.handle, shapeArgs(dimsArg)));
  }
  nonzero(): Tensor {
    return wrap(native.nonzero(this.handle));
  }

  // ---------------------------------------------------------------- arithmetic
  add(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.addScalar(this.handle, other) : native.add(this.handle, handleOf(other, 'other')));
  }
  sub(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.subScalar(this.handle, other) : native.sub(this.handle, handleOf(other, 'other')));
  }
  mul(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.mulScalar(this.handle, other) : native.mul(this.handle, handleOf(other, 'other')));
  }
  div(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.divScalar(this.handle, other) : native.div(this.handle, handleOf(other, 'other')));
  }
  pow(exponent: TensorOrScalar): Tensor {
    return wrap(typeof exponent === 'number' ? native.powScalar(this.handle, exponent) : native.pow(this.handle, handleOf(exponent, 'exponent')));
  }
  remainder(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.remainderScalar(this.handle, other) : native.remainder(this.handle, handleOf(other, 'other')));
  }
  /** `scalar - this`. */
  rsub(scalar: number): Tensor {
    return wrap(native.rsub(this.handle, scalar));
  }
  /** `this + alpha * other`. */
  addScaled(other: Tensor, alpha: number): Tensor {
    return wrap(native.addScaled(this.handle, handleOf(other, 'other'), alpha));
  }
  maximum(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.maximumScalar(this.handle, other) : native.maximum(this.handle, handleOf(other, 'other')));
  }
  minimum(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.minimumScalar(this.handle, other) : native.minimum(this.handle, handleOf(other, 'other')));
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return wrap(native.clamp(this.handle, min ?? null, max ?? null));
  }
  neg(): Tensor {
    return wrap(native.neg(this.handle));
  }
  abs(): Tensor {
    return wrap(native.abs(this.handle));
  }
  sqrt(): Tensor {
    return wrap(native.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return wrap(native.rsqrt(this.handle));
  }
  square(): Tensor {
    return wrap(native.square(this.handle));
  }
  exp(): Tensor {
    return wrap(native.exp(this.handle));
  }
  log(): Tensor {
    return wrap(native.log(this.handle));
  }
  log1p(): Tensor {
    return wrap(native.log1p(this.handle));
  }
  sigmoid(): Tensor {
    return wrap(native.sigmoid(this.handle));
  }
  tanh(): Tensor {
    return wrap(native.tanh(this.handle));
  }
  relu(): Tensor {
    return wrap(native.relu(this.handle));
  }
  cos(): Tensor {
    return wrap(native.cos(this.handle));
  }
  sin(): Tensor {
    return wrap(native.sin(this.handle));
  }
  acos(): Tensor {
    return wrap(native.acos(this.handle));
  }
  asin(): Tensor {
    return wrap(native.asin(this.handle));
  }
  sign(): Tensor {
    return wrap(native.sign(this.handle));
  }
  floor(): Tensor {
    return wrap(native.floor(this.handle));
  }
  ceil(): Tensor {
    return wrap(native.ceil(this.handle));
  }
  round(): Tensor {
    return wrap(native.round(this.handle));
  }
  reciprocal(): Tensor {
    return wrap(native.reciprocal(this.handle));
  }
  isnan(): Tensor {
    return wrap(native.isnan(this.handle));
  }
  isfinite(): Tensor {
    return wrap(native.isfinite(this.handle));
  }

  // ---------------------------------------------------------------- comparison and logic
  eq(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.eqScalar(this.handle, other) : native.eq(this.handle, handleOf(other, 'other')));
  }
  ne(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.neScalar(this.handle, other) : native.ne(this.handle, handleOf(other, 'other')));
  }
  gt(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.gtScalar(this.handle, other) : native.gt(this.handle, handleOf(other, 'other')));
  }
  ge(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.geScalar(this.handle, other) : native.ge(this.handle, handleOf(other, 'other')));
  }
  lt(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.ltScalar(this.handle, other) : native.lt(this.handle, handleOf(other, 'other')));
  }
  le(other: TensorOrScalar): Tensor {
    return wrap(typeof other === 'number' ? native.leScalar(this.handle, other) : native.le(this.handle, handleOf(other, 'other')));
  }
  logicalNot(): Tensor {
    return wrap(native.logicalNot(this.handle));
  }
  logicalAnd(other: Tensor): Tensor {
    return wrap(native.logicalAnd(this.handle, handleOf(other, 'other')));
  }
  logicalOr(other: Tensor): Tensor {
    return wrap(native.logicalOr(this.handle, handleOf(other, 'other')));
  }

  // ---------------------------------------------------------------- reductions
  sum(dim?: number | number[], keepdim = false): Tensor {
    return wrap(native.sum(this.handle, dims(dim), keepdim));
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return wrap(native.mean(this.handle, dims(dim), keepdim));
  }
  /** Largest value over all elements, or over `dim` (values only; see {@link maxDim}). */
  max(dim?: number | number[], keepdim = false): Tensor {
    return wrap(native.amax(this.handle, dims(dim), keepdim));
  }
  min(dim?: number | number[], keepdim = false): Tensor {
    return wrap(native.amin(this.handle, dims(dim), keepdim));
  }
  /** Values and indices of the maxima along `dim`. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.maxDim(this.handle, dim, keepdim);
    return { values: wrap(v), indices: wrap(i) };
  }
  minDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.minDim(this.handle, dim, keepdim);
    return { values: wrap(v), indices: wrap(i) };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return wrap(native.argmax(this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return wrap(native.argmin(this.handle, dim ?? null, keepdim));
  }
  prod(dim?: number, keepdim = false): Tensor {
    return wrap(native.prod(this.handle, dims(dim), keepdim));
  }
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return wrap(native.logsumexp(this.handle, dims(dim), keepdim));
  }
  all(dim?: number, keepdim = false): Tensor {
    return wrap(native.all(this.handle, dims(dim), keepdim));
  }
  any(dim?: number, keepdim = false): Tensor {
    return wrap(native.any(this.handle, dims(dim), keepdim));
  }
  /** Variance (unbiased by default, as PyTorch). */
  var(dim?: number | number[], options: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return wrap(native.var(this.handle, dims(dim), options.unbiased ?? true, options.keepdim ?? false));
  }
  std(dim?: number | number[], options: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return wrap(native.std(this.handle, dims(dim), options.unbiased ?? true, options.keepdim ?? false));
  }
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return wrap(native.norm(this.handle, p, dims(dim), keepdim));
  }
  cumsum(dim: number): Tensor {
    return wrap(native.cumsum(this.handle, dim));
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.sort(this.handle, dim, descending);
    return { values: wrap(v), indices: wrap(i) };
  }
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    const [v, i] = native.topk(this.handle, k, dim, largest, sorted);
    return { values: wrap(v), indices: wrap(i) };
  }

  // ---------------------------------------------------------------- matrix products
  matmul(other: Tensor): Tensor {
    return wrap(native.matmul(this.handle, handleOf(other, 'other')));
  }
  /** The matrix product on the addon's own thread: the event loop keeps running meanwhile. */
  async matmulAsync(other: Tensor): Promise<Tensor> {
    return wrap(await native.mmAsync(this.handle, handleOf(other, 'other')));
  }
  mm(other: Tensor): Tensor {
    return wrap(native.mm(this.handle, handleOf(other, 'other')));
  }
  bmm(other: Tensor): Tensor {
    return wrap(native.bmm(this.handle, handleOf(other, 'other')));
  }

  // ---------------------------------------------------------------- in place (return this)
  copy_(src: Tensor): this {
    native.copy_(this.handle, handleOf(src, 'src'));
    return this;
  }
  fill_(value: number | boolean): this {
    native.fill_(this.handle, value);
    return this;
  }
  zero_(): this {
    native.zero_(this.handle);
    return this;
  }
  uniform_(low = 0, high = 1): this {
    native.uniform_(this.handle, low, high);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    native.normal_(this.handle, mean, std);
    return this;
  }
  bernoulli_(p: number): this {
    native.bernoulli_(this.handle, p);
    return this;
  }
  add_(other: TensorOrScalar, alpha?: number): this {
    if (typeof other === 'number') native.addScalar_(this.handle, other);
    else native.add_(this.handle, handleOf(other, 'other'), alpha);
    return this;
  }
  mul_(other: TensorOrScalar): this {
    if (typeof other === 'number') native.mulScalar_(this.handle, other);
    else native.mul_(this.handle, handleOf(other, 'other'));
    return this;
  }
  clamp_(min?: number | null, max?: number | null): this {
    native.clamp_(this.handle, min ?? null, max ?? null);
    return this;
  }

  // ---------------------------------------------------------------- display
  toString(): string {
    if (this.#disposed) return 'Tensor(disposed)';
    const head = `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device}`;
    if (this.numel <= 16 && !this.isCuda) {
      return `${head}, values=${JSON.stringify(this.toArray())})`;
    }
    return `${head})`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
