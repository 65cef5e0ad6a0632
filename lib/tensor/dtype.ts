/** Element types of tensors, and their mapping to the native codes and to JS typed arrays. */

/** The dtypes a {@link Tensor} can have. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int32' | 'int64' | 'uint8' | 'bool' | 'int8' | 'int16';

/** Native codes: the index in this list (mirrors kDtypes in native/core/args.cc). */
export const DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int32',
  'int64',
  'uint8',
  'bool',
  'int8',
  'int16',
];

const CODES = new Map<string, number>(DTYPES.map((d, i) => [d, i]));
const ALIASES: Record<string, DType> = {
  float: 'float32',
  double: 'float64',
  half: 'float16',
  int: 'int32',
  long: 'int64',
};

/** Native code of a dtype name; throws a TypeError naming the argument for unknown names. */
export function dtypeCode(dtype: DType | string, arg = 'dtype'): number {
  const name = ALIASES[dtype] ?? dtype;
  const code = CODES.get(name);
  if (code === undefined) {
    throw new TypeError(`${arg}: unknown dtype '${String(dtype)}' (expected one of ${DTYPES.join(', ')})`);
  }
  return code;
}

/** Dtype name of a native code. */
export function dtypeName(code: number): DType {
  const d = DTYPES[code];
  if (d === undefined) throw new Error(`unknown native dtype code ${code}`);
  return d;
}

/** Bytes per element. */
export function dtypeSize(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
    case 'bfloat16':
    case 'int16':
      return 2;
    default:
      return 1;
  }
}

export function isFloatingDtype(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

export type AnyTypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array;

/** Builds a typed array view of raw bytes for a dtype that JS can hold directly. */
export function typedArrayOf(dtype: DType, buf: ArrayBuffer): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'int16':
      return new Int16Array(buf);
    default:
      return new Uint16Array(buf);
  }
}

/** The dtype that matches a typed array's element type. */
export function dtypeOfTypedArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Int16Array) return 'int16';
  throw new TypeError(`unsupported typed array ${a.constructor.name} (use Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array, Int8Array or Int16Array)`);
}
