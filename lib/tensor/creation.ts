/** Functions that create tensors. All take `{ dtype, device, requiresGrad }` options. */
import { native } from '../native.js';
import { checkDevice, type Device } from './device.js';
import { dtypeCode, dtypeOfTypedArray, dtypeSize, type DType } from './dtype.js';
import { handleOf, wrap, type NestedArray, Tensor } from './tensor.js';

/** Options shared by the creation functions. */
export interface TensorOptions {
  /** Element type (default float32, or the typed array's type for `tensor(typedArray)`). */
  dtype?: DType;
  /** Device (default 'cpu'). */
  device?: Device;
  /** Track gradients for this new leaf tensor. */
  requiresGrad?: boolean;
}

function finish(t: Tensor, o: TensorOptions | undefined): Tensor {
  if (o?.requiresGrad) t.requiresGrad = true;
  return t;
}

function code(o: TensorOptions | undefined): number | undefined {
  return o?.dtype === undefined ? undefined : dtypeCode(o.dtype, 'options.dtype');
}

function dev(o: TensorOptions | undefined): string | undefined {
  return o?.device === undefined ? undefined : checkDevice(o.device, 'options.device');
}

function checkShape(shape: unknown, fn: string): number[] {
  const s = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`${fn}: argument 'shape' must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return s as number[];
}

/** Tensor of zeros. */
export function zeros(shape: number[] | number, options?: TensorOptions): Tensor {
  return finish(wrap(native.zeros(checkShape(shape, 'zeros'), code(options), dev(options))), options);
}
/** Tensor of ones. */
export function ones(shape: number[] | number, options?: TensorOptions): Tensor {
  return finish(wrap(native.ones(checkShape(shape, 'ones'), code(options), dev(options))), options);
}
/** Uninitialised tensor. */
export function empty(shape: number[] | number, options?: TensorOptions): Tensor {
  return finish(wrap(native.empty(checkShape(shape, 'empty'), code(options), dev(options))), options);
}
/** Tensor filled with `value`. */
export function full(shape: number[] | number, value: number | boolean, options?: TensorOptions): Tensor {
  return finish(wrap(native.full(checkShape(shape, 'full'), value, code(options), dev(options))), options);
}
/** Uniform samples in [0, 1). */
export function rand(shape: number[] | number, options?: TensorOptions): Tensor {
  return finish(wrap(native.rand(checkShape(shape, 'rand'), code(options), dev(options))), options);
}
/** Standard normal samples. */
export function randn(shape: number[] | number, options?: TensorOptions): Tensor {
  return finish(wrap(native.randn(checkShape(shape, 'randn'), code(options), dev(options))), options);
}
/** Integers uniform in [low, high) (int64 unless a dtype is given). */
export function randint(low: number, high: number, shape: number[] | number, options?: TensorOptions): Tensor {
  return finish(wrap(native.randint(low, high, checkShape(shape, 'randint'), code(options), dev(options))), options);
}
/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, options?: Pick<TensorOptions, 'device'>): Tensor {
  return wrap(native.randperm(n, dev(options)));
}
/**
 * `arange(end)` or `arange(start, end, step?)`: values from start (inclusive) to end (exclusive).
 * Integer arguments give int64 unless a dtype is given.
 */
export function arange(start: number, end?: number, step?: number | TensorOptions, options?: TensorOptions): Tensor {
  let o = options;
  let st = 1;
  if (typeof step === 'object') o = step;
  else if (typeof step === 'number') st = step;
  const [a, b] = end === undefined ? [0, start] : [start, end];
  return finish(wrap(native.arange(a, b, st, code(o), dev(o))), o);
}
/** `steps` values evenly spaced from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, options?: TensorOptions): Tensor {
  return finish(wrap(native.linspace(start, end, steps, code(options), dev(options))), options);
}
/** Identity matrix. */
export function eye(n: number, options?: TensorOptions): Tensor {
  return finish(wrap(native.eye(n, code(options), dev(options))), options);
}
/** Zeros with the shape, dtype and device of `t`. */
export function zerosLike(t: Tensor): Tensor {
  return wrap(native.zerosLike(handleOf(t, 'input')));
}
/** Ones with the shape, dtype and device of `t`. */
export function onesLike(t: Tensor): Tensor {
  return wrap(native.onesLike(handleOf(t, 'input')));
}
/** `value` with the shape, dtype and device of `t`. */
export function fullLike(t: Tensor, value: number | boolean): Tensor {
  return wrap(native.fullLike(handleOf(t, 'input'), value));
}
/** Uniform samples in [0, 1) with the shape, dtype and device of `t`. */
export function randLike(t: Tensor): Tensor {
  return wrap(native.randLike(handleOf(t, 'input')));
}
/** Standard normal samples with the shape, dtype and device of `t`. */
export function randnLike(t: Tensor): Tensor {
  return wrap(native.randnLike(handleOf(t, 'input')));
}

function flatten(data: NestedArray, shape: number[], out: number[], depth: number): void {
  if (Array.isArray(data)) {
    if (shape.length === depth) shape.push(data.length);
    else if (shape[depth] !== data.length) {
      throw new TypeError(`tensor: ragged nested array (dimension ${depth} has lengths ${shape[depth]} and ${data.length})`);
    }
    for (const d of data) flatten(d, shape, out, depth + 1);
  } else {
    if (depth !== shape.length) throw new TypeError('tensor: ragged nested array (a number where an array was expected)');
    if (typeof data === 'boolean') out.push(data ? 1 : 0);
    else if (typeof data === 'number') out.push(data);
    else throw new TypeError(`tensor: nested array holds ${typeof data}, expected numbers or booleans`);
  }
}

function typedFor(dtype: DType, values: number[]): ArrayBufferView {
  switch (dtype) {
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'int16':
      return Int16Array.from(values);
    default:
      return Float32Array.from(values);
  }
}

/**
 * Creates a tensor from a number, nested arrays of numbers/booleans, or a typed array
 * (with `options.shape`, default 1-d). Data is copied.
 * Numbers give float32 by default (JS has no int/float distinction); pass a dtype for others.
 */
export function tensor(
  data: NestedArray | ArrayBufferView,
  options: TensorOptions & { shape?: number[] } = {},
): Tensor {
  let shape: number[];
  let buf: ArrayBufferView;
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    const own = dtypeOfTypedArray(data);
    const n = data.byteLength / dtypeSize(own);
    shape = options.shape ? checkShape(options.shape, 'tensor') : [n];
    dtype = own;
    buf = data;
  } else {
    const values: number[] = [];
    const s: number[] = [];
    flatten(data, s, values, 0);
    shape = options.shape ? checkShape(options.shape, 'tensor') : s;
    dtype = options.dtype ?? (typeof data === 'boolean' ? 'bool' : 'float32');
    if (dtype === 'float16' || dtype === 'bfloat16') {
      buf = typedFor('float32', values);
      const t = wrap(native.fromBuffer(buf, shape, dtypeCode('float32')));
      try {
        return finish(t.to({ dtype, device: options.device ?? 'cpu' }), options);
      } finally {
        t.dispose();
      }
    }
    buf = typedFor(dtype, values);
  }
  const t = wrap(native.fromBuffer(buf, shape, dtypeCode(dtype), dev(options)));
  if (options.dtype !== undefined && options.dtype !== dtype) {
    try {
      return finish(t.to(options.dtype), options);
    } finally {
      t.dispose();
    }
  }
  return finish(t, options);
}

/** Concatenates along an existing dimension. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return wrap(native.cat(tensors.map((t, i) => handleOf(t, `tensors[${i}]`)), dim));
}
/** Stacks along a new dimension. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return wrap(native.stack(tensors.map((t, i) => handleOf(t, `tensors[${i}]`)), dim));
}
/** Elementwise choice: `condition ? a : b`. */
export function where(condition: Tensor, a: Tensor, b: Tensor): Tensor {
  return wrap(native.where(handleOf(condition, 'condition'), handleOf(a, 'input'), handleOf(b, 'other')));
}
